"""Hidden checks for chapter 3 forward: the book's network, odd sizes, large signals."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import assert_close, call_text, fresh, frozen
from grader.suites.chapter3._reference import forward, make_network

BOOK_NETWORK = frozen(
    {
        "W1": np.array([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]),
        "b1": np.array([0.1, 0.2, 0.3]),
        "W2": np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]),
        "b2": np.array([0.1, 0.2]),
        "W3": np.array([[0.1, 0.3], [0.2, 0.4]]),
        "b3": np.array([0.1, 0.2]),
    }
)


@pytest.mark.exercise("chapter3.forward")
def test_forward_on_the_books_network(student):
    x = np.array([1.0, 0.5])
    call = call_text("forward", BOOK_NETWORK, x)
    assert_close(student.load("network").forward(fresh(BOOK_NETWORK), fresh(x)), forward(BOOK_NETWORK, x), call)


@pytest.mark.exercise("chapter3.forward")
def test_forward_with_one_output_and_a_batch_of_one(student):
    net = make_network(25, (3, 4, 2, 1))
    x = np.random.default_rng(26).normal(size=(1, 3))
    call = call_text("forward", net, x, seed=25)
    assert_close(student.load("network").forward(fresh(net), fresh(x)), forward(net, x), call)


@pytest.mark.exercise("chapter3.forward")
def test_forward_with_large_weights_and_negative_outputs(student):
    net = make_network(27, (5, 4, 6, 3), scale=4.0)
    x = np.random.default_rng(28).normal(scale=3.0, size=(8, 5))
    call = call_text("forward", net, x, seed=27)
    assert_close(student.load("network").forward(fresh(net), fresh(x)), forward(net, x), call)
