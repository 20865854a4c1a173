"""Hidden checks for chapter 5's TwoLayerNet: label targets, one-hot accuracy, other sizes,
a batch of one, and the init scale."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import Feedback, assert_close, assert_gradient, call_text, expect_array
from grader.gradcheck import numerical_gradient

KEYS = ("W1", "b1", "W2", "b2")


def _params(net: object, sizes: tuple[int, int, int]) -> dict[str, np.ndarray]:
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


def _check_gradient(student, seed: int, sizes: tuple[int, int, int], x: np.ndarray, t: np.ndarray, what: str) -> None:
    student.seed(seed)
    net = student.load("two_layer_net").TwoLayerNet(*sizes, weight_init_std=0.5)
    p = _params(net, sizes)
    call = call_text("net.gradient", x, t, seed=seed) + f" ({what})"
    grads = net.gradient(x.copy(), t.copy())
    if not isinstance(grads, dict):
        raise Feedback(f"{call} should return a dict of gradients with the keys {list(KEYS)}.")
    for key in KEYS:
        if key not in grads:
            raise Feedback(f"{call} returned no gradient for {key!r}.")

        def f(v: np.ndarray, key: str = key) -> float:
            return _loss({**p, key: v}, x, t)

        assert_gradient(grads[key], numerical_gradient(f, p[key]), f"{call}[{key!r}]")


@pytest.mark.exercise("chapter5.TwoLayerNet")
@pytest.mark.points(2)
def test_gradient_with_label_targets(student):
    rng = np.random.default_rng(80)
    x, t = rng.normal(size=(5, 3)), rng.integers(0, 4, size=5)
    _check_gradient(student, 80, (3, 6, 4), x, t, "label t")


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_gradient_for_a_batch_of_one(student):
    rng = np.random.default_rng(81)
    x, t = rng.normal(size=(1, 3)), np.eye(2)[[1]]
    _check_gradient(student, 81, (3, 4, 2), x, t, "batch of one")


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_accuracy_with_one_hot_targets(student):
    rng = np.random.default_rng(82)
    student.seed(82)
    net = student.load("two_layer_net").TwoLayerNet(3, 4, 5, weight_init_std=1.0)
    p = _params(net, (3, 4, 5))
    x = rng.normal(size=(8, 3))
    labels = (np.maximum(0, x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]).argmax(axis=1)
    labels[:2] = (labels[:2] + 1) % 5  # 6 of 8 right
    t = np.eye(5)[labels]
    assert_close(net.accuracy(x.copy(), t.copy()), 0.75, call_text("net.accuracy", x, t, seed=82) + " with one-hot t")


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_predict_returns_scores_before_softmax(student):
    rng = np.random.default_rng(83)
    student.seed(83)
    net = student.load("two_layer_net").TwoLayerNet(3, 4, 2, weight_init_std=1.0)
    p = _params(net, (3, 4, 2))
    x = rng.normal(size=(4, 3))
    scores = np.maximum(0, x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    assert_close(net.predict(x.copy()), scores, call_text("net.predict", x, seed=83))


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_weight_init_std_scales_the_weights(student):
    mod = student.load("two_layer_net")
    student.seed(84)
    for std_arg, text in ((0.1, ", weight_init_std=0.1"), (0.01, "")):
        net = mod.TwoLayerNet(40, 50, 10, weight_init_std=std_arg) if text else mod.TwoLayerNet(40, 50, 10)
        p = _params(net, (40, 50, 10))
        call = f"TwoLayerNet(40, 50, 10{text}).params['W1']"
        std = float(p["W1"].std())
        if not 0.9 * std_arg < std < 1.1 * std_arg or abs(float(p["W1"].mean())) > 0.1 * std_arg:
            raise Feedback(
                f"{call} has standard deviation {std:.3g}; draw it as weight_init_std * np.random.randn(...) "
                "(weight_init_std defaults to 0.01)."
            )


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_provided_numerical_gradient_still_agrees(student):
    # the book's gradient check (5.7.3): your predict/loss must leave it working
    rng = np.random.default_rng(85)
    student.seed(85)
    net = student.load("two_layer_net").TwoLayerNet(3, 4, 2, weight_init_std=0.5)
    p = _params(net, (3, 4, 2))
    x, t = rng.normal(size=(4, 3)), rng.integers(0, 2, size=4)
    grads = net.numerical_gradient(x.copy(), t.copy())
    call = call_text("net.numerical_gradient", x, t, seed=85)
    if not isinstance(grads, dict):
        raise Feedback(f"{call} should return a dict of gradients with the keys {list(KEYS)}.")
    for key in KEYS:

        def f(v: np.ndarray, key: str = key) -> float:
            return _loss({**p, key: v}, x, t)

        assert_gradient(grads.get(key), numerical_gradient(f, p[key]), f"{call}[{key!r}]")
