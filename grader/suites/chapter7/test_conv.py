"""Public checks for chapter 7: output sizes, im2col/col2im on small worked examples,
and the Convolution / Pooling layers (forward on worked examples, backward by gradient check).

Every gradient check first checks the layer's forward against the reference formula, then
compares backward with a numerical gradient of that reference, computed here on the grader's
side: perturbed copies of x are stacked into one batch (and perturbed filters into one wide
layer), so a whole gradient check costs a handful of numpy operations.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import assert_close, assert_gradient, call_text, fresh, frozen
from grader.suites.chapter7._reference import conv as ref_conv
from grader.suites.chapter7._reference import conv_case, expect_size, numeric_dW_db, numeric_dx, out_size
from grader.suites.chapter7._reference import pool as ref_pool
from grader.util.i18n import tr

# -- conv_output_size ---------------------------------------------------------------------


@pytest.mark.exercise("chapter7.conv_output_size")
def test_conv_output_size_follows_the_formula(student):
    conv = student.load("conv")
    expect_size(conv.conv_output_size(5, 3), 3, call_text("conv_output_size", 5, 3))
    for args, expected in [((4, 3, 1, 1), 4), ((7, 3, 2, 0), 3), ((6, 2, 2, 1), 4), ((28, 5, 1, 2), 28)]:
        call = call_text("conv_output_size", *args)
        expect_size(conv.conv_output_size(*args), expected, call)


# -- im2col / col2im ----------------------------------------------------------------------


@pytest.mark.exercise("chapter7.im2col")
def test_im2col_single_channel_windows_become_rows(student):
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    expected = np.array([[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]], dtype=float)
    assert_close(student.load("conv").im2col(fresh(x), 2, 2), expected, call_text("im2col", x, 2, 2))


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
    assert_close(student.load("conv").im2col(fresh(x), 2, 2, stride=2, pad=1), expected, call)


@pytest.mark.exercise("chapter7.col2im")
def test_col2im_adds_overlapping_windows(student):
    col = np.ones((4, 4))
    expected = np.array([[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]], dtype=float)
    call = call_text("col2im", col, (1, 1, 3, 3), 2, 2)
    assert_close(student.load("conv").col2im(fresh(col), (1, 1, 3, 3), 2, 2), expected, call)


# -- Convolution --------------------------------------------------------------------------

# 1 image, 2 channels, 3x3; 2 filters of 2x2. Output worked out by hand: filter 0 is
# x0[i, j] - x1[i+1, j+1] + 1, filter 1 is x0[i, j+1] + x1[i+1, j] - 1.
CONV_X = frozen(
    np.array(
        [[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[0.0, 1.0, 0.0], [2.0, 0.0, 3.0], [0.0, 4.0, 0.0]]]]
    )
)
CONV_W = frozen(
    np.array(
        [
            [[[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, -1.0]]],
            [[[0.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, 0.0]]],
        ]
    )
)
CONV_B = frozen(np.array([1.0, -1.0]))
CONV_OUT = frozen(np.array([[[[2.0, 0.0], [1.0, 6.0]], [[3.0, 2.0], [4.0, 9.0]]]]))


@pytest.mark.exercise("chapter7.Convolution")
def test_convolution_forward_worked_example(student):
    layer = student.load("conv").Convolution(fresh(CONV_W), fresh(CONV_B))
    call = call_text("Convolution(W, b).forward", CONV_X)
    assert_close(layer.forward(fresh(CONV_X)), CONV_OUT, call)


@pytest.mark.exercise("chapter7.Convolution")
@pytest.mark.points(2)
def test_convolution_backward_matches_numerical_gradient(student):
    x, W, b, dout = conv_case(7, (2, 2, 4, 4), (3, 2, 2, 2), 1, 0)
    expected = ref_conv(x, W, b)
    name = "Convolution(<float64 (3, 2, 2, 2)>, <float64 (3,)>)"
    layer = student.load("conv").Convolution(fresh(W), fresh(b))
    assert_close(layer.forward(fresh(x)), expected, call_text(name + ".forward", x, seed=7))
    call = call_text(name + ".backward", dout, seed=7)
    dx = layer.backward(fresh(dout))
    assert_gradient(dx, numeric_dx(lambda v: ref_conv(v, W, b), x, dout), call)
    num_dW, num_db = numeric_dW_db(lambda Ww, bw: ref_conv(x, Ww, bw), W, b, dout)
    assert_gradient(layer.dW, num_dW, "layer.dW after " + call)
    assert_gradient(layer.db, num_db, "layer.db after " + call)


# -- Pooling ------------------------------------------------------------------------------

POOL_X = frozen(
    np.array(
        [
            [
                [[1.0, 2.0, 5.0, 0.0], [3.0, 4.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0], [9.0, 0.0, 2.0, 3.0]],
                [[-1.0, -2.0, 0.5, 0.25], [-3.0, -0.5, 1.0, 2.0], [6.0, 7.0, 8.0, 1.0], [5.0, 4.0, 3.0, 2.0]],
            ]
        ]
    )
)
POOL_OUT = frozen(np.array([[[[4.0, 5.0], [9.0, 3.0]], [[-0.5, 2.0], [7.0, 8.0]]]]))


@pytest.mark.exercise("chapter7.Pooling")
def test_pooling_forward_takes_each_window_maximum(student):
    layer = student.load("conv").Pooling(2, 2)
    assert_close(layer.forward(fresh(POOL_X)), POOL_OUT, call_text("Pooling(2, 2).forward", POOL_X))


@pytest.mark.exercise("chapter7.Pooling")
def test_pooling_backward_matches_numerical_gradient(student):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 2, 4, 4))
    dout = rng.standard_normal((2, 2, 2, 2))
    expected = ref_pool(x, 2, 2)
    layer = student.load("conv").Pooling(2, 2)
    assert_close(layer.forward(fresh(x)), expected, call_text("Pooling(2, 2).forward", x, seed=11))
    dx = layer.backward(fresh(dout))
    numeric = numeric_dx(lambda v: ref_pool(v, 2, 2), x, dout, 1e-6)
    assert_gradient(dx, numeric, call_text("Pooling(2, 2).backward", dout, seed=11))


# -- the kinds of check the hidden tests make, on other inputs: strides that do not fit,
# padding on both sides, random batches, non-square windows, ties --------------------------


def windows_as_rows(x: np.ndarray, fh: int, fw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """What im2col must give, from the convolution formula: a convolution with one filter per
    (channel, row, column) of a window, each filter a single 1, copies that window element;
    its outputs laid out one window per row (image by image, row-major) are im2col's rows."""
    c = x.shape[1]
    picks = np.eye(c * fh * fw).reshape(c * fh * fw, c, fh, fw)
    out = ref_conv(x, picks, np.zeros(c * fh * fw), stride, pad)
    return out.transpose(0, 2, 3, 1).reshape(-1, c * fh * fw)


def summed_back(col: np.ndarray, shape, fh: int, fw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """What col2im must give: the gradient of sum(im2col(x) * col) with respect to x (im2col is
    linear in x, so its central difference is exact up to rounding)."""
    x = np.zeros(shape)
    return numeric_dx(lambda v: windows_as_rows(v, fh, fw, stride, pad), x, col)


@pytest.mark.exercise("chapter7.conv_output_size")
def test_conv_output_size_drops_a_window_the_stride_cannot_fit(student):
    conv = student.load("conv")
    for args in [(7, 2, 2, 0), (9, 3, 4, 0), (6, 4, 3, 1), (11, 5, 3, 0)]:
        expect_size(conv.conv_output_size(*args), out_size(*args), call_text("conv_output_size", *args))


@pytest.mark.exercise("chapter7.conv_output_size")
def test_conv_output_size_counts_the_padding_on_both_sides(student):
    conv = student.load("conv")
    for args in [(2, 3, 1, 1), (6, 5, 1, 2), (3, 2, 2, 2)]:
        expect_size(conv.conv_output_size(*args), out_size(*args), call_text("conv_output_size", *args))
    expect_size(conv.conv_output_size(4, 3, pad=1), 4, call_text("conv_output_size", 4, 3, pad=1))


@pytest.mark.exercise("chapter7.im2col")
def test_im2col_of_a_random_batch_with_non_square_windows_stride_and_padding(student):
    conv = student.load("conv")
    rng = np.random.default_rng(121)
    for (N, C, H, W), fh, fw, s, p in [((2, 2, 4, 5), 2, 3, 1, 0), ((1, 3, 5, 4), 3, 2, 2, 1)]:
        x = rng.standard_normal((N, C, H, W))
        call = call_text("im2col", x, fh, fw, stride=s, pad=p, seed=121)
        assert_close(conv.im2col(fresh(x), fh, fw, stride=s, pad=p), windows_as_rows(x, fh, fw, s, p), call)


@pytest.mark.exercise("chapter7.col2im")
def test_col2im_with_padding_adds_overlaps_and_drops_the_border(student):
    conv = student.load("conv")
    rng = np.random.default_rng(122)
    shape = (1, 2, 3, 4)
    col = rng.standard_normal((3 * 4, 2 * 3 * 3))  # 3x3 windows, stride 1, pad 1
    call = call_text("col2im", col, shape, 3, 3, stride=1, pad=1, seed=122)
    assert_close(conv.col2im(fresh(col), shape, 3, 3, stride=1, pad=1), summed_back(col, shape, 3, 3, 1, 1), call)


@pytest.mark.exercise("chapter7.col2im")
def test_col2im_with_a_stride_and_non_square_windows(student):
    conv = student.load("conv")
    rng = np.random.default_rng(123)
    for (N, C, H, W), fh, fw, s, p in [((2, 1, 5, 4), 2, 3, 2, 1), ((1, 2, 6, 5), 3, 2, 3, 0)]:
        shape = (N, C, H, W)
        col = rng.standard_normal((N * out_size(H, fh, s, p) * out_size(W, fw, s, p), C * fh * fw))
        call = call_text("col2im", col, shape, fh, fw, stride=s, pad=p, seed=123)
        assert_close(conv.col2im(fresh(col), shape, fh, fw, stride=s, pad=p), summed_back(col, shape, fh, fw, s, p), call)


@pytest.mark.exercise("chapter7.Convolution")
def test_convolution_forward_of_a_random_batch_with_stride_and_padding(student):
    conv = student.load("conv")
    for seed, xs, ws, s, p in [(131, (2, 2, 4, 5), (3, 2, 2, 3), 1, 0), (132, (1, 3, 5, 5), (2, 3, 3, 3), 2, 2)]:
        x, W, b, _ = conv_case(seed, xs, ws, s, p)
        call = call_text(f"Convolution(<W {ws}>, <b ({ws[0]},)>, stride={s}, pad={p}).forward", x, seed=seed)
        assert_close(
            conv.Convolution(fresh(W), fresh(b), stride=s, pad=p).forward(fresh(x)), ref_conv(x, W, b, s, p), call
        )


@pytest.mark.exercise("chapter7.Convolution")
def test_convolution_backward_with_a_stride_and_padding(student):
    conv = student.load("conv")
    seed, s, p = 133, 2, 2
    x, W, b, dout = conv_case(seed, (1, 2, 4, 5), (2, 2, 3, 3), s, p)
    expected = ref_conv(x, W, b, s, p)
    name = f"Convolution(<W {W.shape}>, <b (2,)>, stride={s}, pad={p})"
    layer = conv.Convolution(fresh(W), fresh(b), stride=s, pad=p)
    assert_close(layer.forward(fresh(x)), expected, call_text(name + ".forward", x, seed=seed))
    dx = layer.backward(fresh(dout))
    call = call_text(name + ".backward", dout, seed=seed)
    assert_gradient(dx, numeric_dx(lambda v: ref_conv(v, W, b, s, p), x, dout), call)
    num_dW, num_db = numeric_dW_db(lambda Ww, bw: ref_conv(x, Ww, bw, s, p), W, b, dout)
    assert_gradient(layer.dW, num_dW, "layer.dW after " + call)
    assert_gradient(layer.db, num_db, "layer.db after " + call)


@pytest.mark.exercise("chapter7.Pooling")
def test_pooling_forward_with_a_stride_other_than_the_window(student):
    conv = student.load("conv")
    rng = np.random.default_rng(141)
    x = rng.standard_normal((1, 2, 6, 5))
    for ph, pw, s in [(2, 3, 1), (2, 2, 3)]:
        call = call_text(f"Pooling({ph}, {pw}, stride={s}).forward", x, seed=141)
        assert_close(conv.Pooling(ph, pw, stride=s).forward(fresh(x)), ref_pool(x, ph, pw, s), call)
    xp = rng.uniform(0.5, 2.0, (2, 1, 4, 4))  # positive: the zero padding never wins a window
    call = call_text("Pooling(2, 2, stride=1, pad=1).forward", xp, seed=141)
    assert_close(conv.Pooling(2, 2, stride=1, pad=1).forward(fresh(xp)), ref_pool(xp, 2, 2, 1, 1), call)


@pytest.mark.exercise("chapter7.Pooling")
def test_pooling_backward_with_a_stride_other_than_the_window(student):
    conv = student.load("conv")
    rng = np.random.default_rng(142)
    x = rng.standard_normal((1, 2, 5, 4))
    for ph, pw, s in [(2, 3, 1), (3, 3, 2)]:
        dout = rng.standard_normal(ref_pool(x, ph, pw, s).shape)
        layer = conv.Pooling(ph, pw, stride=s)
        call = call_text(f"Pooling({ph}, {pw}, stride={s}).forward", x, seed=142)
        assert_close(layer.forward(fresh(x)), ref_pool(x, ph, pw, s), call)
        dx = layer.backward(fresh(dout))
        numeric = numeric_dx(lambda v, ph=ph, pw=pw, s=s: ref_pool(v, ph, pw, s), x, dout, h=1e-6)
        assert_gradient(dx, numeric, call_text(f"Pooling({ph}, {pw}, stride={s}).backward", dout, seed=142))


@pytest.mark.exercise("chapter7.Pooling")
def test_pooling_backward_gives_a_tie_to_the_first_maximum(student):
    # windows of 2x2, stride 1, worked out by hand: each window's gradient goes to its first
    # maximum in row-major order: (0,0) gets 1, (0,1) gets 2, (1,1) gets 3 + 4
    x = np.array([[[[2.0, 2.0, 1.0], [0.0, 2.0, 1.0], [2.0, 1.0, 1.0]]]])
    layer = student.load("conv").Pooling(2, 2, stride=1)
    assert_close(layer.forward(fresh(x)), ref_pool(x, 2, 2, 1), call_text("Pooling(2, 2, stride=1).forward", x))
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    expected = np.array([[[[1.0, 2.0, 0.0], [0.0, 7.0, 0.0], [0.0, 0.0, 0.0]]]])
    call = call_text("Pooling(2, 2, stride=1).backward", dout) + tr("fb.ctx.tied_maxima")
    assert_close(layer.backward(fresh(dout)), expected, call)
