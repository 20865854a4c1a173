"""Public checks for chapter 4 TwoLayerNet: parameters, predict, loss and accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from grader.boundary.proxy import type_name
from grader.checks import Feedback, assert_close, call_text, expect_array, expect_number

KEYS = ("W1", "b1", "W2", "b2")


def known_params(seed: int, d: int, h: int, k: int, scale: float = 1.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(scale=scale, size=(d, h)),
        "b1": rng.normal(scale=scale, size=h),
        "W2": rng.normal(scale=scale, size=(h, k)),
        "b2": rng.normal(scale=scale, size=k),
    }


def ref_predict(p: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    z1 = 1 / (1 + np.exp(-(x @ p["W1"] + p["b1"])))
    a2 = z1 @ p["W2"] + p["b2"]
    e = np.exp(a2 - a2.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ref_loss(p: dict[str, np.ndarray], x: np.ndarray, labels: np.ndarray) -> float:
    y = ref_predict(p, x)
    return float(-np.mean(np.log(y[np.arange(len(y)), labels] + 1e-7)))


def labels_with_accuracy(p: dict[str, np.ndarray], x: np.ndarray, k: int, wrong: list[int]) -> np.ndarray:
    """Targets that agree with the reference prediction except at the rows in ``wrong``."""
    labels = ref_predict(p, x).argmax(axis=1)
    labels[wrong] = (labels[wrong] + 1) % k
    return labels


def expect_params(params, call: str, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    if not isinstance(params, dict):
        raise Feedback(f"{call}: net.params is a {type_name(params)}; it must be a dict with keys W1, b1, W2, b2.")
    if sorted(params) != sorted(shapes):
        raise Feedback(
            f"{call}: net.params has the keys {sorted(map(str, params))}; expected exactly {sorted(shapes)}."
        )
    for key, shape in shapes.items():
        expect_array(params[key], f"{call}: params[{key!r}]", shape=shape)
    return params


def new_net(student, seed: int, *args, **kwargs):
    student.seed(seed)
    return student.load("two_layer_net").TwoLayerNet(*args, **kwargs)


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_init_creates_params_with_the_right_shapes(student):
    call = call_text("TwoLayerNet", input_size=4, hidden_size=5, output_size=3)
    net = new_net(student, 61, input_size=4, hidden_size=5, output_size=3)
    p = expect_params(net.params, call, {"W1": (4, 5), "b1": (5,), "W2": (5, 3), "b2": (3,)})
    for key in ("b1", "b2"):
        if np.any(p[key] != 0):
            raise Feedback(f"{call}: params[{key!r}] should start at zeros.")
    for key in ("W1", "W2"):
        if np.unique(p[key]).size < p[key].size // 2:
            raise Feedback(f"{call}: params[{key!r}] should be random (np.random.randn), not constant.")


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_predict_gives_softmax_probabilities(student):
    p = known_params(62, 4, 5, 3)
    x = np.random.default_rng(63).normal(size=(6, 4))
    net = new_net(student, 62, 4, 5, 3)
    net.params = {k: v.copy() for k, v in p.items()}
    call = call_text("net.predict", x, seed=63) + " after setting net.params"
    assert_close(net.predict(x.copy()), ref_predict(p, x), call)


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_loss_with_label_targets(student):
    p = known_params(64, 3, 4, 3)
    x = np.random.default_rng(65).normal(size=(5, 3))
    t = np.random.default_rng(66).integers(0, 3, size=5)
    net = new_net(student, 64, 3, 4, 3)
    net.params = {k: v.copy() for k, v in p.items()}
    call = call_text("net.loss", x, t, seed=65) + " after setting net.params"
    # rtol 3e-5: the 1e-7 inside the log belongs to cross_entropy_error's own tests
    assert_close(net.loss(x.copy(), t.copy()), ref_loss(p, x, t), call, rtol=3e-5)


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_accuracy_with_label_targets(student):
    p = known_params(67, 3, 4, 3, scale=2.0)
    x = np.random.default_rng(68).normal(size=(10, 3))
    t = labels_with_accuracy(p, x, 3, wrong=[1, 4, 7])
    net = new_net(student, 67, 3, 4, 3)
    net.params = {k: v.copy() for k, v in p.items()}
    call = call_text("net.accuracy", x, t, seed=68) + " after setting net.params"
    assert_close(expect_number(net.accuracy(x.copy(), t.copy()), call), 0.7, call, rtol=1e-12)
