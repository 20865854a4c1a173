"""What the chapter 7 suites (public and hidden) share: the output-size formula, convolution
and max-pooling forward passes written as the plain sums and maxima the stubs state, numerical
gradients of those references (computed here, on the grader's side), and input builders that
return fresh arrays.

Ships with student releases: reference formulas and input builders only, no expected values
of any hidden test.
"""

from __future__ import annotations

import numpy as np

from grader.grading.checks import Feedback, central_difference_gradient
from grader.util.i18n import tr


def out_size(size: int, f: int, stride: int = 1, pad: int = 0) -> int:
    return (size + 2 * pad - f) // stride + 1


def padded(x: np.ndarray, pad: int) -> np.ndarray:
    """x with ``pad`` zeros on both sides of its height and width."""
    return np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])


def windows(x: np.ndarray, fh: int, fw: int, stride: int, pad: int):
    """(i, j, window) for every output position; window is (N, C, fh, fw)."""
    xp = padded(x, pad)
    for i in range(out_size(x.shape[2], fh, stride, pad)):
        for j in range(out_size(x.shape[3], fw, stride, pad)):
            yield i, j, xp[:, :, i * stride : i * stride + fh, j * stride : j * stride + fw]


def conv(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0) -> np.ndarray:
    """out[n, f, i, j] = sum over c, y, x of padded[n, c, i*stride + y, j*stride + x] * W[f, c, y, x] + b[f]."""
    fn, _, fh, fw = W.shape
    out = np.zeros((x.shape[0], fn, out_size(x.shape[2], fh, stride, pad), out_size(x.shape[3], fw, stride, pad)))
    for i, j, win in windows(x, fh, fw, stride, pad):
        out[:, :, i, j] = np.einsum("ncyx,fcyx->nf", win, W) + b
    return out


def pool(x: np.ndarray, ph: int, pw: int, stride: int = 2, pad: int = 0) -> np.ndarray:
    """out[n, c, i, j] = max over the (ph, pw) window at (i*stride, j*stride) of the padded x."""
    n, c, h, w = x.shape
    out = np.zeros((n, c, out_size(h, ph, stride, pad), out_size(w, pw, stride, pad)))
    for i, j, win in windows(x, ph, pw, stride, pad):
        out[:, :, i, j] = win.max(axis=(2, 3))
    return out


def numeric_dx(forward, x: np.ndarray, dout: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """d sum(forward(x) * dout) / dx by central differences; every perturbed x in one batch."""

    def losses(batch: np.ndarray) -> np.ndarray:  # batch: (2P, N, C, H, W)
        k = batch.shape[0]
        out = forward(batch.reshape((-1, *x.shape[1:])))
        return (out.reshape((k, *dout.shape)) * dout).reshape(k, -1).sum(axis=1)

    return central_difference_gradient(losses, x, h, batched=True)


def numeric_dW_db(forward_with, W: np.ndarray, b: np.ndarray, dout: np.ndarray, h: float = 1e-5):
    """Numerical dW and db: every perturbed (W, b) is a group of filters of one wide layer;
    ``forward_with(W_wide, b_wide)`` returns that layer's output for the fixed input."""
    N, FN = dout.shape[:2]

    def losses(batch: np.ndarray) -> np.ndarray:  # batch: (2Q, W.size + b.size)
        k = batch.shape[0]
        out = forward_with(batch[:, : W.size].reshape((-1, *W.shape[1:])), batch[:, W.size :].reshape(-1))
        return np.einsum("nkfij,nfij->k", out.reshape((N, k, FN, *dout.shape[2:])), dout)

    grad = central_difference_gradient(losses, np.concatenate([W.ravel(), b.ravel()]), h, batched=True)
    return grad[: W.size].reshape(W.shape), grad[W.size :].reshape(b.shape)


def conv_case(seed: int, x_shape, w_shape, stride: int, pad: int):
    """Fresh x, W, b and an upstream gradient dout of the output's shape, all from ``seed``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape)
    W = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    oh, ow = out_size(x_shape[2], w_shape[2], stride, pad), out_size(x_shape[3], w_shape[3], stride, pad)
    dout = rng.standard_normal((x_shape[0], w_shape[0], oh, ow))
    return x, W, b, dout


def expect_size(value, expected: int, call: str) -> None:
    if value is None:
        raise Feedback(tr("fb.returned_none", call=call))
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise Feedback(tr("fb.conv.size_type", call=call, type=type(value).__name__, value=repr(value)))
    if int(value) != expected:
        raise Feedback(tr("fb.conv.size_value", call=call, value=int(value)))
