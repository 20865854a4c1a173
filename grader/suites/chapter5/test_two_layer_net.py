"""Public checks for chapter 5's TwoLayerNet: Affine -> ReLU -> Affine -> SoftmaxWithLoss,
its loss at parameters the test knows, and a backprop gradient that agrees with a numerical
gradient of the reference loss at those parameters."""

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


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_params_have_the_right_shapes(student):
    student.seed(70)
    net = student.load("two_layer_net").TwoLayerNet(4, 5, 3, weight_init_std=0.01)
    p = params_of(net, (4, 5, 3))
    assert_close(p["b1"], np.zeros(5), "TwoLayerNet(4, 5, 3).params['b1']")
    assert_close(p["b2"], np.zeros(3), "TwoLayerNet(4, 5, 3).params['b2']")


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_loss_is_softmax_cross_entropy_of_the_network(student):
    rng = np.random.default_rng(71)
    net, p = known_net(student, 71, (4, 5, 3))
    x, t = rng.normal(size=(6, 4)), np.eye(3)[rng.integers(0, 3, size=6)]
    check_loss(net, p, x, t, seed=71)


@pytest.mark.exercise("chapter5.TwoLayerNet")
@pytest.mark.points(4)
def test_gradient_matches_numerical_gradient(student):
    rng = np.random.default_rng(72)
    net, p = known_net(student, 72, (4, 5, 3))
    x, t = rng.normal(size=(6, 4)), np.eye(3)[rng.integers(0, 3, size=6)]
    # the gate uses another batch: gradient(x, t) must run its own forward pass
    check_loss(net, p, rng.normal(size=(6, 4)), t[::-1].copy(), seed=72)
    numeric = net_numerical_gradient(p, x, t)
    grads = net.gradient(fresh(x), fresh(t))
    call = call_text("net.gradient", x, t, seed=72)
    if not isinstance(grads, dict):
        raise Feedback(tr("fb.net.grads_dict", call=call, want=list(KEYS)))
    for key in KEYS:
        if key not in grads:
            raise Feedback(tr("fb.net.grads_missing", call=call, key=repr(key)))
        assert_gradient(grads[key], numeric[key], f"{call}[{key!r}]")


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_accuracy_with_label_targets(student):
    rng = np.random.default_rng(73)
    net, p = known_net(student, 73, (4, 5, 3), std=1.0)
    x = rng.normal(size=(10, 4))
    t = net_scores(p, x).argmax(axis=1)
    t[:4] = (t[:4] + 1) % 3  # 6 of 10 right
    assert_close(net.accuracy(fresh(x), fresh(t)), 0.6, call_text("net.accuracy", x, t, seed=73))


# --- the kinds of check the hidden tests make, on other inputs: label targets, a batch of
# one, one-hot accuracy, raw scores from predict, the init scale, the book's check -----


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
def test_gradient_with_labels_instead_of_one_hot_targets(student):
    rng = np.random.default_rng(186)
    x, t = rng.normal(size=(6, 2)), rng.integers(0, 4, size=6)
    _check_gradient(student, 186, (2, 5, 4), x, t, "fb.what.label_t")


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_gradient_of_a_single_sample(student):
    rng = np.random.default_rng(181)
    x, t = rng.normal(size=(1, 2)), np.eye(3)[[2]]
    _check_gradient(student, 181, (2, 4, 3), x, t, "fb.what.batch_of_one")


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_accuracy_of_one_hot_targets(student):
    rng = np.random.default_rng(182)
    net, p = known_net(student, 182, (2, 3, 4), std=1.0)
    x = rng.normal(size=(5, 2))
    labels = net_scores(p, x).argmax(axis=1)
    labels[:1] = (labels[:1] + 1) % 4  # 4 of 5 right
    t = np.eye(4)[labels]
    assert_close(net.accuracy(fresh(x), fresh(t)), 0.8, call_text("net.accuracy", x, t, seed=182) + tr("fb.ctx.one_hot"))


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_predict_gives_the_scores_before_softmax(student):
    rng = np.random.default_rng(183)
    net, p = known_net(student, 183, (2, 3, 3), std=1.0)
    x = rng.normal(size=(3, 2))
    assert_close(net.predict(fresh(x)), net_scores(p, x), call_text("net.predict", x, seed=183))


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_weight_init_std_sets_the_spread_of_the_weights(student):
    mod = student.load("two_layer_net")
    student.seed(184)
    for std_arg, text in ((0.05, ", weight_init_std=0.05"), (0.01, "")):
        net = mod.TwoLayerNet(50, 40, 5, weight_init_std=std_arg) if text else mod.TwoLayerNet(50, 40, 5)
        p = params_of(net, (50, 40, 5))
        call = f"TwoLayerNet(50, 40, 5{text}).params['W1']"
        std = float(p["W1"].std())
        if not 0.9 * std_arg < std < 1.1 * std_arg or abs(float(p["W1"].mean())) > 0.1 * std_arg:
            raise Feedback(tr("fb.net.init_std", call=call, std=f"{std:.3g}"))


@pytest.mark.exercise("chapter5.TwoLayerNet")
def test_the_books_numerical_gradient_still_works(student):
    rng = np.random.default_rng(185)
    net, p = known_net(student, 185, (2, 3, 2))
    x, t = rng.normal(size=(3, 2)), rng.integers(0, 2, size=3)
    check_loss(net, p, x, t, seed=185)
    numeric = net_numerical_gradient(p, x, t)
    grads = net.numerical_gradient(fresh(x), fresh(t))
    call = call_text("net.numerical_gradient", x, t, seed=185)
    if not isinstance(grads, dict):
        raise Feedback(tr("fb.net.grads_dict", call=call, want=list(KEYS)))
    for key in KEYS:
        assert_gradient(grads.get(key), numeric[key], f"{call}[{key!r}]")
