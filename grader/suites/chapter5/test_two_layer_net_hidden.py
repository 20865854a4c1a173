"""Hidden checks for chapter 5's TwoLayerNet: label targets, one-hot accuracy, other sizes,
a batch of one, and the init scale."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import Feedback, assert_close, assert_gradient, call_text, fresh
from grader.suites.chapter5._reference import (
    KEYS,
    check_loss,
    known_net,
    net_numerical_gradient,
    net_scores,
    params_of,
)
from grader.util.i18n import tr


def _check_gradient(student, seed: int, sizes: tuple[int, int, int], x: np.ndarray, t: np.ndarray, what: str) -> None:
    net, p = known_net(student, seed, sizes)
    # the gate uses another batch: gradient(x, t) must run its own forward pass
    check_loss(net, p, np.random.default_rng(seed + 1).normal(size=x.shape), t[::-1].copy(), seed=seed + 1)
    numeric = net_numerical_gradient(p, x, t)
    call = call_text("net.gradient", x, t, seed=seed) + tr(what)
    grads = net.gradient(fresh(x), fresh(t))
    if not isinstance(grads, dict):
        raise Feedback(tr("fb.net.grads_dict", call=call, want=list(KEYS)))
    for key in KEYS:
        if key not in grads:
            raise Feedback(tr("fb.net.grads_missing", call=call, key=repr(key)))
        assert_gradient(grads[key], numeric[key], f"{call}[{key!r}]")


@pytest.mark.exercise("chapter5.TwoLayerNet")
@pytest.mark.points(2)
def test_gradient_with_label_targets(student):
    rng = np.random.default_rng(80)
    x, t = rng.normal(size=(5, 3)), rng.integers(0, 4, size=5)
    _check_gradient(student, 80, (3, 6, 4), x, t, "fb.what.label_t")


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_gradient_for_a_batch_of_one(student):
    # seed 91: most hidden units are active for this sample, so every parameter has a gradient
    rng = np.random.default_rng(91)
    x, t = rng.normal(size=(1, 3)), np.eye(2)[[1]]
    _check_gradient(student, 91, (3, 4, 2), x, t, "fb.what.batch_of_one")


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_accuracy_with_one_hot_targets(student):
    rng = np.random.default_rng(82)
    net, p = known_net(student, 82, (3, 4, 5), std=1.0)
    x = rng.normal(size=(8, 3))
    labels = net_scores(p, x).argmax(axis=1)
    labels[:2] = (labels[:2] + 1) % 5  # 6 of 8 right
    t = np.eye(5)[labels]
    assert_close(net.accuracy(fresh(x), fresh(t)), 0.75, call_text("net.accuracy", x, t, seed=82) + tr("fb.ctx.one_hot"))


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_predict_returns_scores_before_softmax(student):
    rng = np.random.default_rng(83)
    net, p = known_net(student, 83, (3, 4, 2), std=1.0)
    x = rng.normal(size=(4, 3))
    scores = net_scores(p, x)
    assert_close(net.predict(fresh(x)), scores, call_text("net.predict", x, seed=83))


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_weight_init_std_scales_the_weights(student):
    mod = student.load("two_layer_net")
    student.seed(84)
    for std_arg, text in ((0.1, ", weight_init_std=0.1"), (0.01, "")):
        net = mod.TwoLayerNet(40, 50, 10, weight_init_std=std_arg) if text else mod.TwoLayerNet(40, 50, 10)
        p = params_of(net, (40, 50, 10))
        call = f"TwoLayerNet(40, 50, 10{text}).params['W1']"
        std = float(p["W1"].std())
        if not 0.9 * std_arg < std < 1.1 * std_arg or abs(float(p["W1"].mean())) > 0.1 * std_arg:
            raise Feedback(tr("fb.net.init_std", call=call, std=f"{std:.3g}"))


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_provided_numerical_gradient_still_agrees(student):
    # the book's gradient check (5.7.3): your predict/loss must leave it working
    rng = np.random.default_rng(85)
    net, p = known_net(student, 85, (3, 4, 3))  # three classes: every label means one class
    x, t = rng.normal(size=(4, 3)), rng.integers(0, 3, size=4)
    check_loss(net, p, x, t, seed=85)
    numeric = net_numerical_gradient(p, x, t)
    grads = net.numerical_gradient(fresh(x), fresh(t))
    call = call_text("net.numerical_gradient", x, t, seed=85)
    if not isinstance(grads, dict):
        raise Feedback(tr("fb.net.grads_dict", call=call, want=list(KEYS)))
    for key in KEYS:
        assert_gradient(grads.get(key), numeric[key], f"{call}[{key!r}]")
