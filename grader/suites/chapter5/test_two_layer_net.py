"""Public checks for chapter 5's TwoLayerNet: Affine -> ReLU -> Affine -> SoftmaxWithLoss,
its loss from its own params, and a backprop gradient that agrees with a numerical one."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import Feedback, assert_close, assert_gradient, call_text, expect_array
from grader.gradcheck import numerical_gradient

KEYS = ("W1", "b1", "W2", "b2")


def _params(net: object, sizes: tuple[int, int, int]) -> dict[str, np.ndarray]:
    """The student's params, checked for keys and shapes."""
    params = net.params
    if not isinstance(params, dict) or set(params) != set(KEYS):
        raise Feedback(f"net.params should be a dict with the keys {list(KEYS)}.")
    i, h, o = sizes
    shapes = {"W1": (i, h), "b1": (h,), "W2": (h, o), "b2": (o,)}
    return {k: expect_array(params[k], f"net.params[{k!r}]", shape=shapes[k]) for k in KEYS}


def _loss(p: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> float:
    a = np.maximum(0, x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    a = a - a.max(axis=1, keepdims=True)
    y = np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
    labels = t.argmax(axis=1) if t.ndim == 2 else t
    return float(-np.sum(np.log(y[np.arange(len(y)), labels] + 1e-7)) / len(y))


def _numerical(p: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    grads = {}
    for key in KEYS:

        def f(v: np.ndarray, key: str = key) -> float:
            return _loss({**p, key: v}, x, t)

        grads[key] = numerical_gradient(f, p[key])
    return grads


def _net(student, seed: int, sizes: tuple[int, int, int], std: float = 0.5):
    student.seed(seed)
    return student.load("two_layer_net").TwoLayerNet(*sizes, weight_init_std=std)


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_params_have_the_right_shapes(student):
    net = _net(student, 70, (4, 5, 3), std=0.01)
    p = _params(net, (4, 5, 3))
    assert_close(p["b1"], np.zeros(5), "TwoLayerNet(4, 5, 3).params['b1']")
    assert_close(p["b2"], np.zeros(3), "TwoLayerNet(4, 5, 3).params['b2']")


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_loss_is_softmax_cross_entropy_of_the_network(student):
    rng = np.random.default_rng(71)
    net = _net(student, 71, (4, 5, 3))
    p = _params(net, (4, 5, 3))
    x, t = rng.normal(size=(6, 4)), np.eye(3)[rng.integers(0, 3, size=6)]
    assert_close(net.loss(x.copy(), t.copy()), _loss(p, x, t), call_text("net.loss", x, t, seed=71))


@pytest.mark.exercise("chapter5.TwoLayerNet")
@pytest.mark.points(4)
def test_gradient_matches_numerical_gradient(student):
    rng = np.random.default_rng(72)
    net = _net(student, 72, (4, 5, 3))
    p = _params(net, (4, 5, 3))
    x, t = rng.normal(size=(6, 4)), np.eye(3)[rng.integers(0, 3, size=6)]
    assert_close(net.loss(x.copy(), t.copy()), _loss(p, x, t), call_text("net.loss", x, t, seed=72))
    grads = net.gradient(x.copy(), t.copy())
    call = call_text("net.gradient", x, t, seed=72)
    if not isinstance(grads, dict):
        raise Feedback(f"{call} should return a dict of gradients with the keys {list(KEYS)}.")
    numeric = _numerical(p, x, t)
    for key in KEYS:
        if key not in grads:
            raise Feedback(f"{call} returned no gradient for {key!r}.")
        assert_gradient(grads[key], numeric[key], f"{call}[{key!r}]")


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_accuracy_with_label_targets(student):
    rng = np.random.default_rng(73)
    net = _net(student, 73, (4, 5, 3), std=1.0)
    p = _params(net, (4, 5, 3))
    x = rng.normal(size=(10, 4))
    scores = np.maximum(0, x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    t = scores.argmax(axis=1)
    t[:4] = (t[:4] + 1) % 3  # 6 of 10 right
    assert_close(net.accuracy(x.copy(), t.copy()), 0.6, call_text("net.accuracy", x, t, seed=73))
