"""Public checks for chapter 4 gradients: the book's examples (central differences, h = 1e-4)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import Callback, Feedback, Formula, Synced, assert_close, call_text, fresh
from grader.suites.chapter4._reference import H, descent, gradient
from grader.util.i18n import tr

# The tests' functions are formulas (``Formula``): handed to your code in these public tests,
# they run in your worker process, so calling them costs no trip to the grader and back.
book_f1 = Formula("0.01 * x**2 + 0.1 * x")


book_f2 = Formula("float(x[0] ** 2 + x[1] ** 2)")


@pytest.mark.exercise("chapter4.numerical_diff")
@pytest.mark.parametrize("x", [5.0, 10.0])
def test_numerical_diff_of_the_books_quadratic(student, x):
    call = call_text("numerical_diff", book_f1, x) + tr("fb.ctx.with_f", f="0.01*x**2 + 0.1*x")
    expected = (book_f1(x + H) - book_f1(x - H)) / (2 * H)
    assert_close(student.load("gradients").numerical_diff(Callback(book_f1, like=x), x), expected, call, rtol=1e-7)


@pytest.mark.exercise("chapter4.numerical_gradient")
@pytest.mark.points(2)
def test_numerical_gradient_of_the_books_function(student):
    mod = student.load("gradients")
    for point in ([3.0, 4.0], [0.0, 2.0], [3.0, 0.0]):
        x = np.array(point)
        call = call_text("numerical_gradient", book_f2, x) + tr("fb.numgrad.book_f2", point=point)
        assert_close(mod.numerical_gradient(Callback(book_f2, like=x), fresh(x)), gradient(book_f2, x), call, rtol=1e-7, atol=1e-9)


@pytest.mark.exercise("chapter4.numerical_diff")
def test_numerical_diff_keeps_the_sign_of_a_negative_slope(student):
    # catches |f'(x)|: the book's quadratic falls at x = -10 (slope 0.02 * -10 + 0.1 = -0.1)
    x = -10.0
    call = call_text("numerical_diff", book_f1, x) + tr("fb.ctx.with_f", f="0.01*x**2 + 0.1*x")
    expected = (book_f1(x + H) - book_f1(x - H)) / (2 * H)
    assert_close(student.load("gradients").numerical_diff(Callback(book_f1, like=x), x), expected, call, rtol=1e-7)


@pytest.mark.exercise("chapter4.numerical_gradient")
def test_numerical_gradient_of_a_matrix(student):
    # catches a loop over x.size that only works for 1-D x
    f = Formula("float(np.sum(x**2) + x[0, 0] * x[1, 2])")

    x = np.array([[1.0, -2.0, 0.5], [3.0, -1.5, 2.0]])
    call = call_text("numerical_gradient", f, x) + tr("fb.ctx.with_f", f="sum(x**2) + x[0, 0]*x[1, 2]")
    assert_close(student.load("gradients").numerical_gradient(Callback(f, like=x), fresh(x)), gradient(f, x), call, rtol=1e-7, atol=1e-9)


@pytest.mark.exercise("chapter4.numerical_gradient")
def test_numerical_gradient_puts_x_back(student):
    # catches x[idx] left at tmp - h: the caller's x must be as it was (a vector, so that an
    # implementation that only handles vectors fails the matrix test, not this one)
    x = np.array([0.5, -1.0, 2.0, 0.25])
    arg = fresh(x)
    call = call_text("numerical_gradient", book_f2_sum, x) + tr("fb.ctx.with_f", f="sum(x**2)")
    # Synced: the student's x comes back after the call, so a change it leaves in x is seen here
    # (a reshape or a new dtype too: such an x cannot be copied back, so the wrapper says so)
    synced = Synced(arg)
    result = student.load("gradients").numerical_gradient(Callback(book_f2_sum, like=x), synced)
    changed = np.abs(arg - x) > 1e-12 * np.maximum(1.0, np.abs(x))
    if synced.reshaped or arg.shape != x.shape or changed.any():
        where = [int(i) for i in np.argwhere(changed)[0]] if changed.any() and not synced.reshaped else tr("fb.numgrad.its_shape")
        raise Feedback(tr("fb.numgrad.x_changed", call=call, index=where))
    # x put back is worth nothing without the gradient it was nudged for
    assert_close(result, gradient(book_f2_sum, x), call, rtol=1e-7, atol=1e-9)


book_f2_sum = Formula("float(np.sum(x**2))")


@pytest.mark.exercise("chapter4.gradient_descent")
@pytest.mark.points(2)
def test_gradient_descent_walks_to_the_minimum(student):
    init = np.array([-3.0, 4.0])
    call = call_text("gradient_descent", book_f2, init, lr=0.1, step_num=20) + tr("fb.ctx.with_f", f="x[0]**2 + x[1]**2")
    got = student.load("gradients").gradient_descent(Callback(book_f2, like=init), fresh(init), lr=0.1, step_num=20)
    assert_close(got, descent(book_f2, init, 0.1, 20), call, rtol=1e-7, atol=1e-10)


# --- the kinds of check the hidden tests make, on other inputs: curvature, the size of h,
# 2-D and 3-D x, restoring x, the default arguments -------------------------------------


cubic_plus = Formula("x**3 + x")


# oscillates fast enough that the central difference shows which h was used
fast_wave = Formula("np.cos(30.0 * x)")


def linked(seed: int, shape: tuple[int, ...]):
    """f(x) = sum(B * cos(x)) + sum(x)**2 / 2: each partial depends on every element."""
    b = np.random.default_rng(seed).normal(size=shape)
    return Formula("float(np.sum(b * np.cos(x)) + np.sum(x) ** 2 / 2)", b=b)


@pytest.mark.exercise("chapter4.numerical_diff")
@pytest.mark.parametrize("x", [0.5, -2.0])
def test_numerical_diff_of_a_cubic_is_a_central_difference(student, x):
    call = call_text("numerical_diff", cubic_plus, x) + tr("fb.ctx.with_f", f="x**3 + x")
    expected = (cubic_plus(x + H) - cubic_plus(x - H)) / (2 * H)
    assert_close(student.load("gradients").numerical_diff(Callback(cubic_plus, like=x), x), expected, call, rtol=1e-7)


@pytest.mark.exercise("chapter4.numerical_diff")
def test_numerical_diff_steps_by_h_1e4(student):
    x = -0.4
    call = call_text("numerical_diff", fast_wave, x) + tr("fb.ctx.with_f", f="cos(30*x)")
    expected = (fast_wave(x + H) - fast_wave(x - H)) / (2 * H)
    assert_close(student.load("gradients").numerical_diff(Callback(fast_wave, like=x), x), expected, call, rtol=1e-7)


@pytest.mark.exercise("chapter4.numerical_gradient")
def test_numerical_gradient_steps_by_h_1e4(student):
    f = Formula("float(np.sum(np.cos(30.0 * x)))")  # sum(fast_wave(x))

    x = np.array([0.1, -0.45, 0.6])
    call = call_text("numerical_gradient", f, x) + tr("fb.ctx.with_f", f="sum(cos(30*x))")
    assert_close(student.load("gradients").numerical_gradient(Callback(f, like=x), fresh(x)), gradient(f, x), call, rtol=1e-7, atol=1e-9)


@pytest.mark.exercise("chapter4.numerical_gradient")
def test_numerical_gradient_where_each_element_of_a_matrix_matters(student):
    x = np.random.default_rng(86).normal(size=(3, 2))
    f = linked(87, x.shape)
    call = call_text("numerical_gradient", f, x, seed=86)
    assert_close(student.load("gradients").numerical_gradient(Callback(f, like=x), fresh(x)), gradient(f, x), call, rtol=1e-6, atol=1e-8)


@pytest.mark.exercise("chapter4.numerical_gradient")
def test_numerical_gradient_of_a_3d_stack_of_matrices(student):
    x = np.random.default_rng(88).normal(size=(3, 1, 2))
    f = linked(89, x.shape)
    call = call_text("numerical_gradient", f, x, seed=88)
    assert_close(student.load("gradients").numerical_gradient(Callback(f, like=x), fresh(x)), gradient(f, x), call, rtol=1e-6, atol=1e-8)


@pytest.mark.exercise("chapter4.numerical_gradient")
def test_numerical_gradient_leaves_x_as_it_was(student):
    x = np.random.default_rng(90).normal(size=5)  # 1-D: only x's restoring is judged here
    f = linked(91, x.shape)
    arg = fresh(x)
    call = call_text("numerical_gradient", f, x, seed=90)
    synced = Synced(arg)
    result = student.load("gradients").numerical_gradient(Callback(f, like=x), synced)
    changed = np.abs(arg - x) > 1e-12 * np.maximum(1.0, np.abs(x))
    if synced.reshaped or arg.shape != x.shape or changed.any():
        where = [int(i) for i in np.argwhere(changed)[0]] if changed.any() and not synced.reshaped else tr("fb.numgrad.its_shape")
        raise Feedback(tr("fb.numgrad.x_changed", call=call, index=where))
    # x put back is worth nothing without the gradient it was nudged for
    assert_close(result, gradient(f, x), call, rtol=1e-6, atol=1e-8)


@pytest.mark.exercise("chapter4.gradient_descent")
def test_gradient_descent_defaults_to_lr_001_and_100_steps(student):
    f = Formula("float((x[0] + 2.0) ** 2 + x[1] ** 2)")

    init = np.array([1.0, -1.0])
    call = call_text("gradient_descent", f, init) + tr("fb.ctx.with_f", f="(x[0] + 2)**2 + x[1]**2")
    got = student.load("gradients").gradient_descent(Callback(f, like=init), fresh(init))
    assert_close(got, descent(f, init, 0.01, 100), call, rtol=1e-7, atol=1e-10)


@pytest.mark.exercise("chapter4.gradient_descent")
def test_gradient_descent_from_a_2d_start_keeps_its_shape(student):
    init = np.random.default_rng(92).normal(size=(3, 1))
    f = linked(93, init.shape)
    call = call_text("gradient_descent", f, init, lr=0.1, step_num=3, seed=92)
    got = student.load("gradients").gradient_descent(Callback(f, like=init), fresh(init), lr=0.1, step_num=3)
    assert_close(got, descent(f, init, 0.1, 3), call, rtol=1e-6, atol=1e-9)
