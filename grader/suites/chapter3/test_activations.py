"""Public checks for chapter 3: each activation on a small float64 vector or batch."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import assert_close, assert_equal_array, call_text, fresh
from grader.suites.chapter3._reference import leaky_relu, random_array, relu, sigmoid, softmax, step


@pytest.mark.exercise("chapter3.identity_function")
def test_identity_returns_its_input(student):
    x = random_array(1)
    call = call_text("identity_function", x, seed=1)
    assert_close(student.load("activations").identity_function(fresh(x)), x, call, rtol=0, atol=0)


@pytest.mark.exercise("chapter3.step_function")
def test_step_is_one_for_positive_and_zero_for_negative(student):
    x = random_array(2)
    call = call_text("step_function", x, seed=2)
    assert_equal_array(student.load("activations").step_function(fresh(x)), step(x), call, given=x)


@pytest.mark.exercise("chapter3.sigmoid")
def test_sigmoid_values(student):
    x = random_array(3)
    call = call_text("sigmoid", x, seed=3)
    assert_close(student.load("activations").sigmoid(fresh(x)), sigmoid(x), call)


@pytest.mark.exercise("chapter3.relu")
def test_relu_keeps_positives_and_zeroes_negatives(student):
    x = random_array(4)
    call = call_text("relu", x, seed=4)
    assert_close(student.load("activations").relu(fresh(x)), relu(x), call)


@pytest.mark.exercise("chapter3.leaky_relu")
def test_leaky_relu_default_slope(student):
    x = random_array(5)
    call = call_text("leaky_relu", x, seed=5)
    assert_close(student.load("activations").leaky_relu(fresh(x)), leaky_relu(x), call)


@pytest.mark.exercise("chapter3.tanh")
def test_tanh_values(student):
    x = random_array(6)
    call = call_text("tanh", x, seed=6)
    assert_close(student.load("activations").tanh(fresh(x)), np.tanh(x), call, atol=1e-12)


@pytest.mark.exercise("chapter3.softmax")
def test_softmax_of_a_vector(student):
    x = random_array(7, (5,))
    call = call_text("softmax", x, seed=7)
    assert_close(student.load("activations").softmax(fresh(x)), softmax(x), call)


@pytest.mark.exercise("chapter3.softmax")
@pytest.mark.points(2)
def test_softmax_each_row_of_a_batch_sums_to_one(student):
    x = random_array(8, (4, 3))
    call = call_text("softmax", x, seed=8)
    assert_close(student.load("activations").softmax(fresh(x)), softmax(x), call)


# --- the kinds of check the hidden tests make, on other inputs: batches, the edge at 0,
# a non-default alpha, large scores and N-D arrays ---------------------------------------


@pytest.mark.exercise("chapter3.identity_function")
def test_identity_keeps_a_batch_as_it_is(student):
    x = random_array(31, (2, 3), near_zero=0.25)
    call = call_text("identity_function", x, seed=31)
    assert_close(student.load("activations").identity_function(fresh(x)), x, call, rtol=0, atol=0)


@pytest.mark.exercise("chapter3.step_function")
def test_step_of_exactly_zero_is_zero(student):
    x = np.array([0.0, 3.0, -0.0, -2.0, 1e-12])
    call = call_text("step_function", x)
    assert_equal_array(student.load("activations").step_function(fresh(x)), step(x), call, given=x)


@pytest.mark.exercise("chapter3.step_function")
def test_step_of_a_batch_keeps_its_shape(student):
    x = random_array(32, (3, 2), near_zero=0.25)
    call = call_text("step_function", x, seed=32)
    assert_equal_array(student.load("activations").step_function(fresh(x)), step(x), call, given=x)


@pytest.mark.exercise("chapter3.sigmoid")
def test_sigmoid_of_a_batch_with_large_inputs(student):
    x = random_array(33, (3, 4), near_zero=0.25, scale=8.0).clip(-25, 25)
    call = call_text("sigmoid", x, seed=33)
    assert_close(student.load("activations").sigmoid(fresh(x)), sigmoid(x), call, atol=1e-15)


@pytest.mark.exercise("chapter3.relu")
def test_relu_of_a_batch(student):
    x = random_array(34, (2, 5), near_zero=0.25)
    call = call_text("relu", x, seed=34)
    assert_close(student.load("activations").relu(fresh(x)), relu(x), call)


@pytest.mark.exercise("chapter3.leaky_relu")
def test_leaky_relu_with_another_alpha(student):
    x = random_array(35, (6,), near_zero=0.25)
    call = call_text("leaky_relu", x, alpha=0.1, seed=35)
    assert_close(student.load("activations").leaky_relu(fresh(x), alpha=0.1), leaky_relu(x, 0.1), call)


@pytest.mark.exercise("chapter3.tanh")
def test_tanh_of_a_batch_with_large_inputs(student):
    x = random_array(36, (2, 4), near_zero=0.25, scale=6.0).clip(-15, 15)
    call = call_text("tanh", x, seed=36)
    assert_close(student.load("activations").tanh(fresh(x)), np.tanh(x), call, atol=1e-12)


@pytest.mark.exercise("chapter3.softmax")
def test_softmax_of_large_scores_does_not_overflow(student):
    x = np.array([[1000.0, 1000.0], [0.0, 0.0]])  # the stub's own example: exp(1000) is inf
    call = call_text("softmax", x)
    assert_close(student.load("activations").softmax(fresh(x)), softmax(x), call)


@pytest.mark.exercise("chapter3.softmax")
def test_softmax_shifts_each_row_by_that_rows_max(student):
    x = np.array([[800.0, 799.0, 801.0], [0.0, 2.0, -1.0]])  # the whole batch's max would empty row 2
    call = call_text("softmax", x)
    assert_close(student.load("activations").softmax(fresh(x)), softmax(x), call)


@pytest.mark.exercise("chapter3.softmax")
def test_softmax_of_a_batch_of_one_row(student):
    x = np.random.default_rng(37).normal(size=(1, 3))
    call = call_text("softmax", x, seed=37)
    assert_close(student.load("activations").softmax(fresh(x)), softmax(x), call)


@pytest.mark.exercise("chapter3.softmax")
def test_softmax_of_a_3d_array_along_its_last_axis(student):
    x = np.random.default_rng(38).normal(scale=2.0, size=(3, 2, 2))
    call = call_text("softmax", x, seed=38)
    assert_close(student.load("activations").softmax(fresh(x)), softmax(x), call)
