"""Public checks for chapter 3: the 3-layer forward pass (sigmoid, sigmoid, identity)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import assert_close, call_text


def make_network(seed: int, sizes: tuple[int, int, int, int], scale: float = 1.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    d, h1, h2, k = sizes
    return {
        "W1": rng.normal(scale=scale, size=(d, h1)),
        "b1": rng.normal(scale=scale, size=h1),
        "W2": rng.normal(scale=scale, size=(h1, h2)),
        "b2": rng.normal(scale=scale, size=h2),
        "W3": rng.normal(scale=scale, size=(h2, k)),
        "b3": rng.normal(scale=scale, size=k),
    }


def reference_forward(net: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    def sig(a: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-a))

    z1 = sig(x @ net["W1"] + net["b1"])
    z2 = sig(z1 @ net["W2"] + net["b2"])
    return z2 @ net["W3"] + net["b3"]


def _copy(net: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in net.items()}


@pytest.mark.exercise("chapter3.forward")
@pytest.mark.points(2)
def test_forward_one_sample(student):
    net = make_network(21, (2, 3, 2, 2))
    x = np.random.default_rng(22).normal(size=2)
    call = call_text("forward", net, x, seed=21)
    assert_close(student.load("network").forward(_copy(net), x.copy()), reference_forward(net, x), call)


@pytest.mark.exercise("chapter3.forward")
@pytest.mark.points(2)
def test_forward_a_batch_gives_one_row_per_sample(student):
    net = make_network(23, (4, 5, 3, 3))
    x = np.random.default_rng(24).normal(size=(6, 4))
    call = call_text("forward", net, x, seed=23)
    assert_close(student.load("network").forward(_copy(net), x.copy()), reference_forward(net, x), call)
