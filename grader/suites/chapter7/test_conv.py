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

from grader.checks import assert_close, assert_gradient, call_text, fresh, frozen
from grader.suites.chapter7._reference import conv as ref_conv
from grader.suites.chapter7._reference import conv_case, expect_size, numeric_dW_db, numeric_dx
from grader.suites.chapter7._reference import pool as ref_pool

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
