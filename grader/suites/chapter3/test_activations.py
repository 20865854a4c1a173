"""Public checks for chapter 3: each activation on a small float64 vector or batch."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import assert_close, assert_equal_array, call_text, fresh
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
