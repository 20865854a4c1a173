"""Hidden checks for chapter 3 activations: batches, N-D arrays, conventions, overflow."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import assert_close, assert_equal_array, call_text, fresh
from grader.suites.chapter3._reference import leaky_relu, random_array, relu, sigmoid, softmax, step


@pytest.mark.exercise("chapter3.identity_function")
def test_identity_keeps_the_shape_of_a_batch(student):
    x = random_array(11, (3, 4), near_zero=-0.5)
    call = call_text("identity_function", x, seed=11)
    assert_close(student.load("activations").identity_function(fresh(x)), x, call, rtol=0, atol=0)


@pytest.mark.exercise("chapter3.step_function")
def test_step_at_zero_is_zero(student):
    x = np.array([-1.0, 0.0, 1e-9, -1e-9, 0.0, 2.0])
    call = call_text("step_function", x)
    assert_equal_array(student.load("activations").step_function(fresh(x)), step(x), call, given=x)


@pytest.mark.exercise("chapter3.step_function")
def test_step_on_a_batch(student):
    x = random_array(12, (4, 5), near_zero=-0.5)
    call = call_text("step_function", x, seed=12)
    assert_equal_array(student.load("activations").step_function(fresh(x)), step(x), call, given=x)


@pytest.mark.exercise("chapter3.sigmoid")
def test_sigmoid_on_a_batch_over_a_wide_range(student):
    x = random_array(13, (5, 6), near_zero=-0.5, scale=10.0).clip(-30, 30)
    call = call_text("sigmoid", x, seed=13)
    assert_close(student.load("activations").sigmoid(fresh(x)), sigmoid(x), call, atol=1e-15)


@pytest.mark.exercise("chapter3.relu")
def test_relu_on_a_batch_returns_floats(student):
    x = random_array(14, (3, 2, 4), near_zero=-0.5)
    call = call_text("relu", x, seed=14)
    assert_close(student.load("activations").relu(fresh(x)), relu(x), call)


@pytest.mark.exercise("chapter3.leaky_relu")
def test_leaky_relu_uses_the_alpha_it_is_given(student):
    x = random_array(15, (4, 3), near_zero=-0.5)
    call = call_text("leaky_relu", x, alpha=0.2, seed=15)
    assert_close(student.load("activations").leaky_relu(fresh(x), alpha=0.2), leaky_relu(x, 0.2), call)


@pytest.mark.exercise("chapter3.tanh")
def test_tanh_on_a_batch_over_a_wide_range(student):
    x = np.concatenate([random_array(16, (12,), near_zero=-0.5, scale=8.0).clip(-20, 20), [1e-4, -1e-4, 0.0]]).reshape(
        3, 5
    )
    call = call_text("tanh", x, seed=16)
    assert_close(student.load("activations").tanh(fresh(x)), np.tanh(x), call, atol=1e-12)


@pytest.mark.exercise("chapter3.softmax")
def test_softmax_does_not_overflow_on_large_scores(student):
    x = np.array([1010.0, 1000.0, 990.0, -1000.0])  # a wide spread: only the max shift is safe
    call = call_text("softmax", x)
    assert_close(student.load("activations").softmax(fresh(x)), softmax(x), call)


@pytest.mark.exercise("chapter3.softmax")
def test_softmax_shifts_each_row_by_its_own_max(student):
    x = np.array([[1000.0, 1001.0, 1002.0], [-5.0, 0.0, 5.0], [3.0, 3.0, 3.0]])
    call = call_text("softmax", x)
    assert_close(student.load("activations").softmax(fresh(x)), softmax(x), call)


@pytest.mark.exercise("chapter3.softmax")
def test_softmax_of_a_single_row_batch_keeps_the_batch_axis(student):
    x = np.random.default_rng(17).normal(size=(1, 4))
    call = call_text("softmax", x, seed=17)
    assert_close(student.load("activations").softmax(fresh(x)), softmax(x), call)


@pytest.mark.exercise("chapter3.softmax")
def test_softmax_of_a_3d_array_works_along_the_last_axis(student):
    x = np.random.default_rng(18).normal(scale=2.0, size=(2, 3, 4))
    call = call_text("softmax", x, seed=18)
    assert_close(student.load("activations").softmax(fresh(x)), softmax(x), call)
