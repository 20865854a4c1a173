"""Public checks for chapter 5's TwoLayerNet: Affine -> ReLU -> Affine -> SoftmaxWithLoss,
its loss at parameters the test knows, and a backprop gradient that agrees with a numerical
gradient of the reference loss at those parameters."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import Feedback, assert_close, assert_gradient, call_text, fresh
from grader.i18n import tr
from grader.suites.chapter5._reference import (
    KEYS,
    check_loss,
    known_net,
    net_numerical_gradient,
    net_scores,
    params_of,
)


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
