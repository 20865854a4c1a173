"""Hidden checks for chapter 7: random batches, many channels, non-square filters, stride and
padding, compared with a plain-loop reference that lives only here; backward passes are
compared with numerical gradients of that reference, computed on the grader's side."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import (
    Feedback,
    assert_close,
    assert_gradient,
    call_text,
    central_difference_gradient,
    expect_array,
)


def _out(size, f, stride, pad):
    return (size + 2 * pad - f) // stride + 1


def _padded(x, pad):
    return np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])


def ref_im2col(x, fh, fw, stride=1, pad=0):
    N, _, H, W = x.shape
    xp = _padded(x, pad)
    rows = [
        xp[n, :, i * stride : i * stride + fh, j * stride : j * stride + fw].ravel()
        for n in range(N)
        for i in range(_out(H, fh, stride, pad))
        for j in range(_out(W, fw, stride, pad))
    ]
    return np.array(rows)


def ref_col2im(col, shape, fh, fw, stride=1, pad=0):
    N, C, H, W = shape
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    r = 0
    for n in range(N):
        for i in range(_out(H, fh, stride, pad)):
            for j in range(_out(W, fw, stride, pad)):
                img[n, :, i * stride : i * stride + fh, j * stride : j * stride + fw] += col[r].reshape(C, fh, fw)
                r += 1
    return img[:, :, pad : pad + H, pad : pad + W]


def ref_conv(x, W, b, stride=1, pad=0):
    FN, _, fh, fw = W.shape
    xp = _padded(x, pad)
    oh, ow = _out(x.shape[2], fh, stride, pad), _out(x.shape[3], fw, stride, pad)
    out = np.zeros((x.shape[0], FN, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride : i * stride + fh, j * stride : j * stride + fw]
            out[:, :, i, j] = np.tensordot(patch, W, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


def _windows(x, ph, pw, stride, pad):
    xp = _padded(x, pad)
    oh, ow = _out(x.shape[2], ph, stride, pad), _out(x.shape[3], pw, stride, pad)
    for i in range(oh):
        for j in range(ow):
            yield i, j, xp[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw]


def ref_pool(x, ph, pw, stride=2, pad=0):
    N, C, H, W = x.shape
    out = np.zeros((N, C, _out(H, ph, stride, pad), _out(W, pw, stride, pad)))
    for i, j, win in _windows(x, ph, pw, stride, pad):
        out[:, :, i, j] = win.max(axis=(2, 3))
    return out


def ref_pool_backward(x, dout, ph, pw, stride=2, pad=0):
    """Each window's gradient goes to its first maximum (row-major order inside the window)."""
    N, C, H, W = x.shape
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for i, j, win in _windows(x, ph, pw, stride, pad):
        for n in range(N):
            for c in range(C):
                y, xx = np.unravel_index(np.argmax(win[n, c]), (ph, pw))
                dxp[n, c, i * stride + y, j * stride + xx] += dout[n, c, i, j]
    return dxp[:, :, pad : pad + H, pad : pad + W]


def numeric_dx(forward, x, dout, h=1e-5):
    """d sum(forward(x) * dout) / dx; every perturbed x in one batch of the reference."""

    def losses(batch):
        out = forward(batch.reshape((-1, *x.shape[1:])))
        return (out.reshape((batch.shape[0], *dout.shape)) * dout).reshape(batch.shape[0], -1).sum(axis=1)

    return central_difference_gradient(losses, x, h, batched=True)


def numeric_dW_db(forward_with, W, b, dout, h=1e-5):
    """Numerical dW and db of the reference: every perturbed (W, b) is a group of filters of one wide layer."""
    N, FN = dout.shape[:2]

    def losses(batch):
        out = forward_with(batch[:, : W.size].reshape((-1, *W.shape[1:])), batch[:, W.size :].reshape(-1))
        return np.einsum("nkfij,nfij->k", out.reshape((N, batch.shape[0], FN, *dout.shape[2:])), dout)

    grad = central_difference_gradient(losses, np.concatenate([W.ravel(), b.ravel()]), h, batched=True)
    return grad[: W.size].reshape(W.shape), grad[W.size :].reshape(b.shape)


def _expect_size(value, expected, call):
    if value is None:
        raise Feedback(f"{call} returned None. Did you forget a `return` statement?")
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise Feedback(
            f"{call} returned a {type(value).__name__} ({value!r}); return an int (use // for the division)."
        )
    if int(value) != expected:
        raise Feedback(f"{call} returned {int(value)}, which is not the right output size for these arguments.")


# -- conv_output_size ---------------------------------------------------------------------


@pytest.mark.exercise("chapter7.conv_output_size")
def test_conv_output_size_rounds_down_when_the_stride_does_not_fit(student):
    conv = student.load("conv")
    for args in [(6, 3, 2, 0), (5, 2, 3, 1), (10, 4, 3, 0), (8, 3, 3, 1), (9, 2, 4, 0)]:
        _expect_size(conv.conv_output_size(*args), _out(*args), call_text("conv_output_size", *args))


@pytest.mark.exercise("chapter7.conv_output_size")
def test_conv_output_size_pads_both_sides(student):
    conv = student.load("conv")
    for args in [(3, 3, 1, 1), (5, 5, 1, 2), (4, 2, 1, 3), (1, 3, 2, 1)]:
        _expect_size(conv.conv_output_size(*args), _out(*args), call_text("conv_output_size", *args))
    _expect_size(conv.conv_output_size(6, 3, pad=2), 8, call_text("conv_output_size", 6, 3, pad=2))


# -- im2col / col2im ----------------------------------------------------------------------

# (N, C, H, W, FH, FW, stride, pad): non-square inputs and filters, strides that do not fit
IM2COL_CASES = [(2, 3, 5, 6, 3, 2, 1, 0), (2, 2, 7, 5, 3, 3, 2, 1), (1, 2, 6, 7, 2, 4, 3, 2)]


@pytest.mark.exercise("chapter7.im2col")
@pytest.mark.points(2)
def test_im2col_matches_reference_on_random_batches(student):
    conv = student.load("conv")
    rng = np.random.default_rng(21)
    for N, C, H, W, fh, fw, s, p in IM2COL_CASES:
        x = rng.standard_normal((N, C, H, W))
        call = call_text("im2col", x, fh, fw, stride=s, pad=p, seed=21)
        assert_close(conv.im2col(x, fh, fw, stride=s, pad=p), ref_im2col(x, fh, fw, s, p), call)
    x = rng.standard_normal((1, 2, 4, 3))
    assert_close(conv.im2col(x, 2, 3), ref_im2col(x, 2, 3), call_text("im2col", x, 2, 3, seed=21))


@pytest.mark.exercise("chapter7.col2im")
def test_col2im_matches_reference_with_overlaps_and_padding(student):
    conv = student.load("conv")
    rng = np.random.default_rng(22)
    shape = (2, 2, 4, 5)
    col = rng.standard_normal((2 * 4 * 5, 2 * 3 * 3))  # 3x3 windows, stride 1, pad 1
    call = call_text("col2im", col, shape, 3, 3, stride=1, pad=1, seed=22)
    assert_close(conv.col2im(col, shape, 3, 3, stride=1, pad=1), ref_col2im(col, shape, 3, 3, 1, 1), call)


@pytest.mark.exercise("chapter7.col2im")
def test_col2im_matches_reference_with_stride_and_rectangular_windows(student):
    conv = student.load("conv")
    rng = np.random.default_rng(23)
    for N, C, H, W, fh, fw, s, p in IM2COL_CASES[1:]:
        shape = (N, C, H, W)
        col = rng.standard_normal((N * _out(H, fh, s, p) * _out(W, fw, s, p), C * fh * fw))
        call = call_text("col2im", col, shape, fh, fw, stride=s, pad=p, seed=23)
        assert_close(conv.col2im(col, shape, fh, fw, stride=s, pad=p), ref_col2im(col, shape, fh, fw, s, p), call)


# -- Convolution --------------------------------------------------------------------------


def _conv_case(seed, x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape)
    W = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    oh, ow = _out(x_shape[2], w_shape[2], stride, pad), _out(x_shape[3], w_shape[3], stride, pad)
    out_shape = (x_shape[0], w_shape[0], oh, ow)
    dout = rng.standard_normal(out_shape)
    return x, W, b, dout


@pytest.mark.exercise("chapter7.Convolution")
def test_convolution_forward_matches_reference_with_stride_and_padding(student):
    conv = student.load("conv")
    for seed, xs, ws, s, p in [(31, (2, 3, 5, 6), (4, 3, 3, 2), 1, 0), (32, (2, 2, 6, 5), (3, 2, 3, 3), 2, 1)]:
        x, W, b, _ = _conv_case(seed, xs, ws, s, p)
        call = call_text(f"Convolution(<W {ws}>, <b ({ws[0]},)>, stride={s}, pad={p}).forward", x, seed=seed)
        assert_close(conv.Convolution(W, b, stride=s, pad=p).forward(x), ref_conv(x, W, b, s, p), call)


@pytest.mark.exercise("chapter7.Convolution")
def test_convolution_backward_with_stride_and_padding_matches_numerical_gradient(student):
    conv = student.load("conv")
    seed, s, p = 33, 2, 1
    x, W, b, dout = _conv_case(seed, (2, 2, 5, 4), (3, 2, 3, 2), s, p)
    layer = conv.Convolution(W, b, stride=s, pad=p)
    layer.forward(x)
    name = f"Convolution(<W {W.shape}>, <b (3,)>, stride={s}, pad={p})"
    dx = layer.backward(dout.copy())
    num_dx = numeric_dx(lambda v: ref_conv(v, W, b, s, p), x, dout)
    call = call_text(name + ".backward", dout, seed=seed)
    assert_gradient(dx, num_dx, call)
    num_dW, num_db = numeric_dW_db(lambda Ww, bw: ref_conv(x, Ww, bw, s, p), W, b, dout)
    assert_gradient(layer.dW, num_dW, "layer.dW after " + call)
    assert_gradient(layer.db, num_db, "layer.db after " + call)


# -- Pooling ------------------------------------------------------------------------------


@pytest.mark.exercise("chapter7.Pooling")
def test_pooling_forward_matches_reference_with_stride_and_padding(student):
    conv = student.load("conv")
    rng = np.random.default_rng(41)
    x = rng.standard_normal((2, 3, 5, 6))
    for ph, pw, s in [(2, 2, 1), (3, 2, 2)]:
        call = call_text(f"Pooling({ph}, {pw}, stride={s}).forward", x, seed=41)
        assert_close(conv.Pooling(ph, pw, stride=s).forward(x), ref_pool(x, ph, pw, s), call)
    # positive inputs, so zero padding never wins a window
    xp = rng.uniform(0.5, 2.0, (1, 2, 5, 5))
    call = call_text("Pooling(3, 3, stride=2, pad=1).forward", xp, seed=41)
    assert_close(conv.Pooling(3, 3, stride=2, pad=1).forward(xp), ref_pool(xp, 3, 3, 2, 1), call)


@pytest.mark.exercise("chapter7.Pooling")
def test_pooling_backward_with_overlapping_windows_matches_numerical_gradient(student):
    conv = student.load("conv")
    rng = np.random.default_rng(42)
    x = rng.standard_normal((2, 2, 4, 5))
    for ph, pw, s in [(2, 2, 1), (3, 2, 2)]:
        dout = rng.standard_normal(ref_pool(x, ph, pw, s).shape)
        layer = conv.Pooling(ph, pw, stride=s)
        layer.forward(x)
        dx = layer.backward(dout.copy())
        numeric = numeric_dx(lambda v, ph=ph, pw=pw, s=s: ref_pool(v, ph, pw, s), x, dout, h=1e-6)
        assert_gradient(dx, numeric, call_text(f"Pooling({ph}, {pw}, stride={s}).backward", dout, seed=42))


@pytest.mark.exercise("chapter7.Pooling")
def test_pooling_backward_sends_ties_to_the_first_maximum(student):
    conv = student.load("conv")
    x = np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 0.0, 2.0, 2.0], [3.0, 3.0, 3.0, 3.0], [3.0, 3.0, 3.0, 3.0]]]])
    for s in (2, 1):
        layer = conv.Pooling(2, 2, stride=s)
        expected = ref_pool(x, 2, 2, s)
        expect_array(layer.forward(x), call_text(f"Pooling(2, 2, stride={s}).forward", x), shape=expected.shape)
        dout = np.arange(1.0, 1.0 + expected.size).reshape(expected.shape)
        call = call_text(f"Pooling(2, 2, stride={s}).backward", dout) + " on windows with tied maxima"
        assert_close(layer.backward(dout.copy()), ref_pool_backward(x, dout, 2, 2, s), call)
