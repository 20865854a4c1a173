"""Hidden checks for chapter 4 gradients: curvature, 2-D and 3-D x, restoring x, defaults."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import Callback, Feedback, Synced, assert_close, call_text, fresh
from grader.suites.chapter4._reference import H, descent, gradient
from grader.util.i18n import tr


def cubic(x: float) -> float:
    return x**3 - 2 * x


def coupled(seed: int, shape: tuple[int, ...]):
    """f(x) = sum(A * sin(x)) + (sum(x))**2: every element's partial depends on all the others."""
    a = np.random.default_rng(seed).normal(size=shape)

    def f(x: np.ndarray) -> float:
        return float(np.sum(a * np.sin(x)) + np.sum(x) ** 2)

    return f


@pytest.mark.exercise("chapter4.numerical_diff")
@pytest.mark.parametrize("x", [-1.5, 2.0])
def test_numerical_diff_uses_a_central_difference(student, x):
    call = call_text("numerical_diff", cubic, x) + tr("fb.ctx.with_f", f="x**3 - 2*x")
    expected = (cubic(x + H) - cubic(x - H)) / (2 * H)
    assert_close(student.load("gradients").numerical_diff(Callback(cubic, like=x), x), expected, call, rtol=1e-7)


def wiggly(x):
    """A fast oscillation: its central difference depends visibly on h (relative error ~ (40h)**2 / 6)."""
    return np.sin(40.0 * x)


@pytest.mark.exercise("chapter4.numerical_diff")
def test_numerical_diff_uses_h_equal_to_1e4(student):
    x = 0.3
    call = call_text("numerical_diff", wiggly, x) + tr("fb.ctx.with_f", f="sin(40*x)")
    expected = (wiggly(x + H) - wiggly(x - H)) / (2 * H)
    assert_close(student.load("gradients").numerical_diff(Callback(wiggly, like=x), x), expected, call, rtol=1e-7)


@pytest.mark.exercise("chapter4.numerical_gradient")
def test_numerical_gradient_uses_h_equal_to_1e4(student):
    def f(x: np.ndarray) -> float:
        return float(np.sum(wiggly(x)))

    # 1-D on purpose: an implementation that only handles vectors fails the tests about
    # matrices, not this one about h
    x = np.array([0.3, -0.2, 0.05, 0.7])
    call = call_text("numerical_gradient", f, x) + tr("fb.ctx.with_f", f="sum(sin(40*x))")
    assert_close(student.load("gradients").numerical_gradient(Callback(f, like=x), fresh(x)), gradient(f, x), call, rtol=1e-7, atol=1e-9)


@pytest.mark.exercise("chapter4.numerical_gradient")
def test_numerical_gradient_of_a_2d_array(student):
    x = np.random.default_rng(51).normal(size=(2, 3))
    f = coupled(52, x.shape)
    call = call_text("numerical_gradient", f, x, seed=51)
    assert_close(student.load("gradients").numerical_gradient(Callback(f, like=x), fresh(x)), gradient(f, x), call, rtol=1e-6, atol=1e-8)


@pytest.mark.exercise("chapter4.numerical_gradient")
def test_numerical_gradient_of_a_3d_array(student):
    x = np.random.default_rng(53).normal(size=(2, 2, 3))
    f = coupled(54, x.shape)
    call = call_text("numerical_gradient", f, x, seed=53)
    assert_close(student.load("gradients").numerical_gradient(Callback(f, like=x), fresh(x)), gradient(f, x), call, rtol=1e-6, atol=1e-8)


@pytest.mark.exercise("chapter4.numerical_gradient")
def test_numerical_gradient_leaves_x_as_it_found_it(student):
    x = np.random.default_rng(55).normal(size=6)  # 1-D: only x's restoring is judged here
    f = coupled(56, x.shape)
    arg = fresh(x)
    call = call_text("numerical_gradient", f, x, seed=55)
    # Synced: the student's x comes back after the call, so a change it leaves in x is seen here
    # (a reshape or a new dtype too: such an x cannot be copied back, so the wrapper says so)
    synced = Synced(arg)
    result = student.load("gradients").numerical_gradient(Callback(f, like=x), synced)
    changed = np.abs(arg - x) > 1e-12 * np.maximum(1.0, np.abs(x))
    if synced.reshaped or arg.shape != x.shape or changed.any():
        where = [int(i) for i in np.argwhere(changed)[0]] if changed.any() and not synced.reshaped else tr("fb.numgrad.its_shape")
        raise Feedback(tr("fb.numgrad.x_changed", call=call, index=where))
    # x put back is worth nothing without the gradient it was nudged for
    assert_close(result, gradient(f, x), call, rtol=1e-7, atol=1e-9)


@pytest.mark.exercise("chapter4.gradient_descent")
def test_gradient_descent_uses_the_default_lr_and_step_num(student):
    def f(x: np.ndarray) -> float:
        return float((x[0] - 1.0) ** 2 + 3.0 * x[0])

    init = np.array([2.0])
    call = call_text("gradient_descent", f, init) + tr("fb.ctx.with_f", f="(x[0] - 1)**2 + 3*x[0]")
    got = student.load("gradients").gradient_descent(Callback(f, like=init), fresh(init))
    assert_close(got, descent(f, init, 0.01, 100), call, rtol=1e-7, atol=1e-10)


@pytest.mark.exercise("chapter4.gradient_descent")
def test_gradient_descent_keeps_the_shape_of_a_2d_start(student):
    init = np.random.default_rng(57).normal(size=(2, 2))
    f = coupled(58, init.shape)
    call = call_text("gradient_descent", f, init, lr=0.05, step_num=5, seed=57)
    got = student.load("gradients").gradient_descent(Callback(f, like=init), fresh(init), lr=0.05, step_num=5)
    assert_close(got, descent(f, init, 0.05, 5), call, rtol=1e-6, atol=1e-9)
