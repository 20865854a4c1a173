"""Public checks for chapter 3: the 3-layer forward pass (sigmoid, sigmoid, identity)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import assert_close, call_text, fresh
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
