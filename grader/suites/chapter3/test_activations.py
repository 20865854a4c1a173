"""Public checks for chapter 3: each activation on a small float64 vector or batch."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import assert_close, assert_equal_array, call_text


def _vector(seed: int, shape: tuple[int, ...] = (7,), scale: float = 3.0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(scale=scale, size=shape)
    x[np.abs(x) < 1e-3] = 0.5  # stay away from the kink at 0
    return x


@pytest.mark.exercise("chapter3.identity_function")
def test_identity_returns_its_input(student):
    x = _vector(1)
    call = call_text("identity_function", x, seed=1)
    assert_close(student.load("activations").identity_function(x.copy()), x, call, rtol=0, atol=0)


@pytest.mark.exercise("chapter3.step_function")
def test_step_is_one_for_positive_and_zero_for_negative(student):
    x = _vector(2)
    call = call_text("step_function", x, seed=2)
    assert_equal_array(student.load("activations").step_function(x.copy()), (x > 0).astype(np.int64), call, given=x)


@pytest.mark.exercise("chapter3.sigmoid")
def test_sigmoid_values(student):
    x = _vector(3)
    call = call_text("sigmoid", x, seed=3)
    assert_close(student.load("activations").sigmoid(x.copy()), 1 / (1 + np.exp(-x)), call)


@pytest.mark.exercise("chapter3.relu")
def test_relu_keeps_positives_and_zeroes_negatives(student):
    x = _vector(4)
    call = call_text("relu", x, seed=4)
    assert_close(student.load("activations").relu(x.copy()), np.maximum(0, x), call)


@pytest.mark.exercise("chapter3.leaky_relu")
def test_leaky_relu_default_slope(student):
    x = _vector(5)
    call = call_text("leaky_relu", x, seed=5)
    assert_close(student.load("activations").leaky_relu(x.copy()), np.where(x > 0, x, 0.01 * x), call)


@pytest.mark.exercise("chapter3.tanh")
def test_tanh_values(student):
    x = _vector(6)
    call = call_text("tanh", x, seed=6)
    assert_close(student.load("activations").tanh(x.copy()), np.tanh(x), call, atol=1e-12)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.exercise("chapter3.softmax")
def test_softmax_of_a_vector(student):
    x = _vector(7, (5,))
    call = call_text("softmax", x, seed=7)
    assert_close(student.load("activations").softmax(x.copy()), _softmax(x), call)


@pytest.mark.exercise("chapter3.softmax")
@pytest.mark.points(2)
def test_softmax_each_row_of_a_batch_sums_to_one(student):
    x = _vector(8, (4, 3))
    call = call_text("softmax", x, seed=8)
    assert_close(student.load("activations").softmax(x.copy()), _softmax(x), call)
