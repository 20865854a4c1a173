"""Public checks for chapter 7: output sizes, im2col/col2im on small worked examples,
and the Convolution / Pooling layers (forward on worked examples, backward by gradient check).

Backward passes are compared with a numerical gradient of your own forward, computed here on
the grader's side: perturbed copies of x are stacked into one batch (and perturbed filters into
one wide layer), so a whole gradient check costs one or two calls.
"""

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


def _expect_size(value, expected, call):
    if value is None:
        raise Feedback(f"{call} returned None. Did you forget a `return` statement?")
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise Feedback(
            f"{call} returned a {type(value).__name__} ({value!r}); return an int (use // for the division)."
        )
    if int(value) != expected:
        raise Feedback(f"{call} returned {int(value)}, which is not the right output size for these arguments.")


def numeric_dx(forward, x: np.ndarray, dout: np.ndarray, h: float) -> np.ndarray:
    """d sum(forward(x) * dout) / dx by central differences; every perturbed x in one batch."""

    def losses(batch: np.ndarray) -> np.ndarray:  # batch: (2P, N, C, H, W)
        k = batch.shape[0]
        out = forward(batch.reshape((-1, *x.shape[1:])))
        out = expect_array(out, "forward on a batch of perturbed inputs", shape=(k * dout.shape[0], *dout.shape[1:]))
        return (out.reshape((k, *dout.shape)) * dout).reshape(k, -1).sum(axis=1)

    return central_difference_gradient(losses, x, h, batched=True)


def numeric_dW_db(forward_with, W: np.ndarray, b: np.ndarray, dout: np.ndarray, h: float = 1e-5):
    """Numerical dW and db: every perturbed (W, b) becomes a group of filters of one wide layer;
    ``forward_with(W_wide, b_wide)`` returns that layer's output for the fixed input."""
    N, FN = dout.shape[:2]

    def losses(batch: np.ndarray) -> np.ndarray:  # batch: (2Q, W.size + b.size)
        k = batch.shape[0]
        out = forward_with(batch[:, : W.size].reshape((-1, *W.shape[1:])), batch[:, W.size :].reshape(-1))
        out = expect_array(out, "forward of a layer with perturbed filters", shape=(N, k * FN, *dout.shape[2:]))
        return np.einsum("nkfij,nfij->k", out.reshape((N, k, FN, *dout.shape[2:])), dout)

    grad = central_difference_gradient(losses, np.concatenate([W.ravel(), b.ravel()]), h, batched=True)
    return grad[: W.size].reshape(W.shape), grad[W.size :].reshape(b.shape)


# -- conv_output_size ---------------------------------------------------------------------


@pytest.mark.exercise("chapter7.conv_output_size")
def test_conv_output_size_follows_the_formula(student):
    conv = student.load("conv")
    _expect_size(conv.conv_output_size(5, 3), 3, call_text("conv_output_size", 5, 3))
    for args, expected in [((4, 3, 1, 1), 4), ((7, 3, 2, 0), 3), ((6, 2, 2, 1), 4), ((28, 5, 1, 2), 28)]:
        call = call_text("conv_output_size", *args)
        _expect_size(conv.conv_output_size(*args), expected, call)


# -- im2col / col2im ----------------------------------------------------------------------


@pytest.mark.exercise("chapter7.im2col")
def test_im2col_single_channel_windows_become_rows(student):
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    expected = np.array([[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]], dtype=float)
    assert_close(student.load("conv").im2col(x, 2, 2), expected, call_text("im2col", x, 2, 2))


@pytest.mark.exercise("chapter7.im2col")
def test_im2col_orders_columns_channel_first_with_stride_and_pad(student):
    # two channels, so the column order (c, fh, fw) matters; stride 2 and one cell of zero padding
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]], [[10.0, 20.0], [30.0, 40.0]]]])
    expected = np.array(
        [
            [0, 0, 0, 1, 0, 0, 0, 10],
            [0, 0, 2, 0, 0, 0, 20, 0],
            [0, 3, 0, 0, 0, 30, 0, 0],
            [4, 0, 0, 0, 40, 0, 0, 0],
        ],
        dtype=float,
    )
    call = call_text("im2col", x, 2, 2, stride=2, pad=1)
    assert_close(student.load("conv").im2col(x, 2, 2, stride=2, pad=1), expected, call)


@pytest.mark.exercise("chapter7.col2im")
def test_col2im_adds_overlapping_windows(student):
    col = np.ones((4, 4))
    expected = np.array([[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]], dtype=float)
    call = call_text("col2im", col, (1, 1, 3, 3), 2, 2)
    assert_close(student.load("conv").col2im(col, (1, 1, 3, 3), 2, 2), expected, call)


# -- Convolution --------------------------------------------------------------------------

# 1 image, 2 channels, 3x3; 2 filters of 2x2. Output worked out by hand: filter 0 is
# x0[i, j] - x1[i+1, j+1] + 1, filter 1 is x0[i, j+1] + x1[i+1, j] - 1.
CONV_X = np.array(
    [[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[0.0, 1.0, 0.0], [2.0, 0.0, 3.0], [0.0, 4.0, 0.0]]]]
)
CONV_W = np.array(
    [
        [[[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, -1.0]]],
        [[[0.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, 0.0]]],
    ]
)
CONV_B = np.array([1.0, -1.0])
CONV_OUT = np.array([[[[2.0, 0.0], [1.0, 6.0]], [[3.0, 2.0], [4.0, 9.0]]]])


@pytest.mark.exercise("chapter7.Convolution")
def test_convolution_forward_worked_example(student):
    layer = student.load("conv").Convolution(CONV_W, CONV_B)
    call = call_text("Convolution(W, b).forward", CONV_X)
    assert_close(layer.forward(CONV_X), CONV_OUT, call)


def _conv_setup(seed, N, C, H, W, FN, FH, FW, stride, pad):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W))
    Wt = rng.standard_normal((FN, C, FH, FW))
    b = rng.standard_normal(FN)
    OH = (H + 2 * pad - FH) // stride + 1
    OW = (W + 2 * pad - FW) // stride + 1
    dout = rng.standard_normal((N, FN, OH, OW))
    return x, Wt, b, dout


@pytest.mark.exercise("chapter7.Convolution")
@pytest.mark.points(2)
def test_convolution_backward_matches_numerical_gradient(student):
    conv = student.load("conv")
    x, W, b, dout = _conv_setup(7, 2, 2, 4, 4, 3, 2, 2, 1, 0)
    layer = conv.Convolution(W, b)
    layer.forward(x)
    name = "Convolution(<float64 (3, 2, 2, 2)>, <float64 (3,)>)"
    dx = layer.backward(dout.copy())
    dW, db = layer.dW, layer.db
    fresh = conv.Convolution(W, b)
    call = call_text(name + ".backward", dout, seed=7)
    assert_gradient(dx, numeric_dx(fresh.forward, x, dout, 1e-5), call)
    num_dW, num_db = numeric_dW_db(lambda Ww, bw: conv.Convolution(Ww, bw).forward(x), W, b, dout)
    assert_gradient(dW, num_dW, "layer.dW after " + call)
    assert_gradient(db, num_db, "layer.db after " + call)


# -- Pooling ------------------------------------------------------------------------------

POOL_X = np.array(
    [
        [
            [[1.0, 2.0, 5.0, 0.0], [3.0, 4.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0], [9.0, 0.0, 2.0, 3.0]],
            [[-1.0, -2.0, 0.5, 0.25], [-3.0, -0.5, 1.0, 2.0], [6.0, 7.0, 8.0, 1.0], [5.0, 4.0, 3.0, 2.0]],
        ]
    ]
)
POOL_OUT = np.array([[[[4.0, 5.0], [9.0, 3.0]], [[-0.5, 2.0], [7.0, 8.0]]]])


@pytest.mark.exercise("chapter7.Pooling")
def test_pooling_forward_takes_each_window_maximum(student):
    layer = student.load("conv").Pooling(2, 2)
    assert_close(layer.forward(POOL_X), POOL_OUT, call_text("Pooling(2, 2).forward", POOL_X))


@pytest.mark.exercise("chapter7.Pooling")
def test_pooling_backward_matches_numerical_gradient(student):
    conv = student.load("conv")
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 2, 4, 4))
    dout = rng.standard_normal((2, 2, 2, 2))
    layer = conv.Pooling(2, 2)
    layer.forward(x)
    dx = layer.backward(dout.copy())
    numeric = numeric_dx(conv.Pooling(2, 2).forward, x, dout, 1e-6)
    assert_gradient(dx, numeric, call_text("Pooling(2, 2).backward", dout, seed=11))
