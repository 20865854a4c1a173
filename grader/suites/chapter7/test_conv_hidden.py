"""Hidden checks for chapter 7: random batches, many channels, non-square filters, stride and
padding, compared with plain-loop references (im2col, col2im and the pooling gradient live only
here); backward passes are compared with numerical gradients of the reference forward passes,
computed on the grader's side, after the forward pass itself is checked."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import assert_close, assert_gradient, call_text, fresh
from grader.suites.chapter7._reference import conv as ref_conv
from grader.suites.chapter7._reference import (
    conv_case,
    expect_size,
    numeric_dW_db,
    numeric_dx,
    out_size,
    padded,
    windows,
)
from grader.suites.chapter7._reference import pool as ref_pool
from grader.util.i18n import tr


def ref_im2col(x, fh, fw, stride=1, pad=0):
    N, _, H, W = x.shape
    xp = padded(x, pad)
    rows = [
        xp[n, :, i * stride : i * stride + fh, j * stride : j * stride + fw].ravel()
        for n in range(N)
        for i in range(out_size(H, fh, stride, pad))
        for j in range(out_size(W, fw, stride, pad))
    ]
    return np.array(rows)


def ref_col2im(col, shape, fh, fw, stride=1, pad=0):
    N, C, H, W = shape
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    r = 0
    for n in range(N):
        for i in range(out_size(H, fh, stride, pad)):
            for j in range(out_size(W, fw, stride, pad)):
                img[n, :, i * stride : i * stride + fh, j * stride : j * stride + fw] += col[r].reshape(C, fh, fw)
                r += 1
    return img[:, :, pad : pad + H, pad : pad + W]


def ref_pool_backward(x, dout, ph, pw, stride=2, pad=0):
    """Each window's gradient goes to its first maximum (row-major order inside the window)."""
    N, C, H, W = x.shape
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for i, j, win in windows(x, ph, pw, stride, pad):
        for n in range(N):
            for c in range(C):
                y, xx = np.unravel_index(np.argmax(win[n, c]), (ph, pw))
                dxp[n, c, i * stride + y, j * stride + xx] += dout[n, c, i, j]
    return dxp[:, :, pad : pad + H, pad : pad + W]


# -- conv_output_size ---------------------------------------------------------------------


@pytest.mark.exercise("chapter7.conv_output_size")
def test_conv_output_size_rounds_down_when_the_stride_does_not_fit(student):
    conv = student.load("conv")
    for args in [(6, 3, 2, 0), (5, 2, 3, 1), (10, 4, 3, 0), (8, 3, 3, 1), (9, 2, 4, 0)]:
        expect_size(conv.conv_output_size(*args), out_size(*args), call_text("conv_output_size", *args))


@pytest.mark.exercise("chapter7.conv_output_size")
def test_conv_output_size_pads_both_sides(student):
    conv = student.load("conv")
    for args in [(3, 3, 1, 1), (5, 5, 1, 2), (4, 2, 1, 3), (1, 3, 2, 1)]:
        expect_size(conv.conv_output_size(*args), out_size(*args), call_text("conv_output_size", *args))
    expect_size(conv.conv_output_size(6, 3, pad=2), 8, call_text("conv_output_size", 6, 3, pad=2))


# -- im2col / col2im ----------------------------------------------------------------------

# (N, C, H, W, FH, FW, stride, pad): non-square inputs and filters, strides that do not fit
IM2COL_CASES = ((2, 3, 5, 6, 3, 2, 1, 0), (2, 2, 7, 5, 3, 3, 2, 1), (1, 2, 6, 7, 2, 4, 3, 2))


@pytest.mark.exercise("chapter7.im2col")
@pytest.mark.points(2)
def test_im2col_matches_reference_on_random_batches(student):
    conv = student.load("conv")
    rng = np.random.default_rng(21)
    for N, C, H, W, fh, fw, s, p in IM2COL_CASES:
        x = rng.standard_normal((N, C, H, W))
        call = call_text("im2col", x, fh, fw, stride=s, pad=p, seed=21)
        assert_close(conv.im2col(fresh(x), fh, fw, stride=s, pad=p), ref_im2col(x, fh, fw, s, p), call)
    x = rng.standard_normal((1, 2, 4, 3))
    assert_close(conv.im2col(fresh(x), 2, 3), ref_im2col(x, 2, 3), call_text("im2col", x, 2, 3, seed=21))


@pytest.mark.exercise("chapter7.col2im")
def test_col2im_matches_reference_with_overlaps_and_padding(student):
    conv = student.load("conv")
    rng = np.random.default_rng(22)
    shape = (2, 2, 4, 5)
    col = rng.standard_normal((2 * 4 * 5, 2 * 3 * 3))  # 3x3 windows, stride 1, pad 1
    call = call_text("col2im", col, shape, 3, 3, stride=1, pad=1, seed=22)
    assert_close(conv.col2im(fresh(col), shape, 3, 3, stride=1, pad=1), ref_col2im(col, shape, 3, 3, 1, 1), call)


@pytest.mark.exercise("chapter7.col2im")
def test_col2im_matches_reference_with_stride_and_rectangular_windows(student):
    conv = student.load("conv")
    rng = np.random.default_rng(23)
    for N, C, H, W, fh, fw, s, p in IM2COL_CASES[1:]:
        shape = (N, C, H, W)
        col = rng.standard_normal((N * out_size(H, fh, s, p) * out_size(W, fw, s, p), C * fh * fw))
        call = call_text("col2im", col, shape, fh, fw, stride=s, pad=p, seed=23)
        assert_close(
            conv.col2im(fresh(col), shape, fh, fw, stride=s, pad=p), ref_col2im(col, shape, fh, fw, s, p), call
        )


# -- Convolution --------------------------------------------------------------------------


@pytest.mark.exercise("chapter7.Convolution")
def test_convolution_forward_matches_reference_with_stride_and_padding(student):
    conv = student.load("conv")
    for seed, xs, ws, s, p in [(31, (2, 3, 5, 6), (4, 3, 3, 2), 1, 0), (32, (2, 2, 6, 5), (3, 2, 3, 3), 2, 1)]:
        x, W, b, _ = conv_case(seed, xs, ws, s, p)
        call = call_text(f"Convolution(<W {ws}>, <b ({ws[0]},)>, stride={s}, pad={p}).forward", x, seed=seed)
        assert_close(
            conv.Convolution(fresh(W), fresh(b), stride=s, pad=p).forward(fresh(x)), ref_conv(x, W, b, s, p), call
        )


@pytest.mark.exercise("chapter7.Convolution")
def test_convolution_backward_with_stride_and_padding_matches_numerical_gradient(student):
    conv = student.load("conv")
    seed, s, p = 33, 2, 1
    x, W, b, dout = conv_case(seed, (2, 2, 5, 4), (3, 2, 3, 2), s, p)
    expected = ref_conv(x, W, b, s, p)
    name = f"Convolution(<W {W.shape}>, <b (3,)>, stride={s}, pad={p})"
    layer = conv.Convolution(fresh(W), fresh(b), stride=s, pad=p)
    assert_close(layer.forward(fresh(x)), expected, call_text(name + ".forward", x, seed=seed))
    dx = layer.backward(fresh(dout))
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
        assert_close(conv.Pooling(ph, pw, stride=s).forward(fresh(x)), ref_pool(x, ph, pw, s), call)
    # positive inputs, so zero padding never wins a window
    xp = rng.uniform(0.5, 2.0, (1, 2, 5, 5))
    call = call_text("Pooling(3, 3, stride=2, pad=1).forward", xp, seed=41)
    assert_close(conv.Pooling(3, 3, stride=2, pad=1).forward(fresh(xp)), ref_pool(xp, 3, 3, 2, 1), call)


@pytest.mark.exercise("chapter7.Pooling")
def test_pooling_backward_with_overlapping_windows_matches_numerical_gradient(student):
    conv = student.load("conv")
    rng = np.random.default_rng(42)
    x = rng.standard_normal((2, 2, 4, 5))
    for ph, pw, s in [(2, 2, 1), (3, 2, 2)]:
        dout = rng.standard_normal(ref_pool(x, ph, pw, s).shape)
        layer = conv.Pooling(ph, pw, stride=s)
        call = call_text(f"Pooling({ph}, {pw}, stride={s}).forward", x, seed=42)
        assert_close(layer.forward(fresh(x)), ref_pool(x, ph, pw, s), call)
        dx = layer.backward(fresh(dout))
        numeric = numeric_dx(lambda v, ph=ph, pw=pw, s=s: ref_pool(v, ph, pw, s), x, dout, h=1e-6)
        assert_gradient(dx, numeric, call_text(f"Pooling({ph}, {pw}, stride={s}).backward", dout, seed=42))


@pytest.mark.exercise("chapter7.Pooling")
def test_pooling_backward_sends_ties_to_the_first_maximum(student):
    conv = student.load("conv")
    x = np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 0.0, 2.0, 2.0], [3.0, 3.0, 3.0, 3.0], [3.0, 3.0, 3.0, 3.0]]]])
    for s in (2, 1):
        layer = conv.Pooling(2, 2, stride=s)
        expected = ref_pool(x, 2, 2, s)
        assert_close(layer.forward(fresh(x)), expected, call_text(f"Pooling(2, 2, stride={s}).forward", x))
        dout = np.arange(1.0, 1.0 + expected.size).reshape(expected.shape)
        call = call_text(f"Pooling(2, 2, stride={s}).backward", dout) + tr("fb.ctx.tied_maxima")
        assert_close(layer.backward(fresh(dout)), ref_pool_backward(x, dout, 2, 2, s), call)
