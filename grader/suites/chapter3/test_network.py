"""Public checks for chapter 3: the 3-layer forward pass (sigmoid, sigmoid, identity)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import assert_close, call_text, fresh
from grader.suites.chapter3._reference import forward, make_network


@pytest.mark.exercise("chapter3.forward")
@pytest.mark.points(2)
def test_forward_one_sample(student):
    net = make_network(21, (2, 3, 2, 2))
    x = np.random.default_rng(22).normal(size=2)
    call = call_text("forward", net, x, seed=21)
    assert_close(student.load("network").forward(fresh(net), fresh(x)), forward(net, x), call)


@pytest.mark.exercise("chapter3.forward")
@pytest.mark.points(2)
def test_forward_a_batch_gives_one_row_per_sample(student):
    net = make_network(23, (4, 5, 3, 3))
    x = np.random.default_rng(24).normal(size=(6, 4))
    call = call_text("forward", net, x, seed=23)
    assert_close(student.load("network").forward(fresh(net), fresh(x)), forward(net, x), call)


# --- the kinds of check the hidden tests make, on other inputs ------------------------------


@pytest.mark.exercise("chapter3.forward")
def test_forward_on_a_small_hand_written_network(student):
    net = {
        "W1": np.array([[0.2, -0.1], [0.4, 0.3]]),
        "b1": np.array([0.05, -0.2]),
        "W2": np.array([[0.3, 0.1, -0.5], [0.6, 0.2, 0.4]]),
        "b2": np.array([0.1, 0.0, -0.1]),
        "W3": np.array([[0.2, 0.7], [-0.3, 0.1], [0.5, 0.5]]),
        "b3": np.array([-0.1, 0.3]),
    }
    x = np.array([0.5, -1.0])
    call = call_text("forward", net, x)
    assert_close(student.load("network").forward(fresh(net), fresh(x)), forward(net, x), call)


@pytest.mark.exercise("chapter3.forward")
def test_forward_with_a_single_output_for_one_sample_in_a_batch(student):
    net = make_network(29, (2, 3, 3, 1))
    x = np.random.default_rng(30).normal(size=(1, 2))
    call = call_text("forward", net, x, seed=29)
    assert_close(student.load("network").forward(fresh(net), fresh(x)), forward(net, x), call)


@pytest.mark.exercise("chapter3.forward")
def test_forward_with_large_weights(student):
    net = make_network(41, (3, 5, 4, 2), scale=3.0)
    x = np.random.default_rng(42).normal(scale=3.0, size=(4, 3))
    call = call_text("forward", net, x, seed=41)
    assert_close(student.load("network").forward(fresh(net), fresh(x)), forward(net, x), call)
