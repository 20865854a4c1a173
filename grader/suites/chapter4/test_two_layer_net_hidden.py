"""Hidden checks for chapter 4 TwoLayerNet: init scale, one-hot targets, numerical gradients."""

from __future__ import annotations

import numpy as np
import pytest

from grader.boundary.proxy import type_name
from grader.grading.checks import Feedback, assert_close, assert_gradient, call_text, expect_array, expect_number, fresh
from grader.suites.chapter4._reference import (
    KEYS,
    known_params,
    loss,
    net_numerical_gradient,
    new_net,
    predict,
    set_params,
)
from grader.util.i18n import tr


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_init_scales_the_weights_by_weight_init_std(student):
    for std, given in ((0.01, False), (0.01, True), (0.5, True)):
        kwargs = {"weight_init_std": std} if given else {}  # the default is 0.01
        call = call_text("TwoLayerNet", input_size=20, hidden_size=30, output_size=10, **kwargs)
        net = new_net(student, 71, input_size=20, hidden_size=30, output_size=10, **kwargs)
        params = net.params
        if not isinstance(params, dict) or "W1" not in params or "W2" not in params:
            raise Feedback(tr("fb.net.params_not_dict", call=call, type=type_name(params)))
        for key, shape in (("W1", (20, 30)), ("W2", (30, 10))):
            w = expect_array(params[key], f"{call}: params[{key!r}]", shape=shape)
            spread = float(np.std(w))
            if not 0.75 * std < spread < 1.25 * std or abs(float(np.mean(w))) > 0.25 * std:
                raise Feedback(tr("fb.net.weight_spread", call=call, key=repr(key), mean=f"{np.mean(w):.3g}", std=f"{spread:.3g}"))


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_loss_with_one_hot_targets(student):
    p = known_params(72, 4, 3, 4)
    x = np.random.default_rng(73).normal(size=(6, 4))
    labels = np.random.default_rng(74).integers(0, 4, size=6)
    t = np.eye(4)[labels]
    net = new_net(student, 72, 4, 3, 4)
    set_params(net, p)
    call = call_text("net.loss", x, t, seed=73) + tr("fb.ctx.after_params")
    assert_close(net.loss(fresh(x), fresh(t)), loss(p, x, labels), call, rtol=3e-5)


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_accuracy_with_one_hot_targets(student):
    p = known_params(75, 3, 4, 4, scale=2.0)
    x = np.random.default_rng(76).normal(size=(8, 3))
    labels = predict(p, x).argmax(axis=1)
    labels[[0, 5]] = (labels[[0, 5]] + 1) % 4
    t = np.eye(4)[labels]
    net = new_net(student, 75, 3, 4, 4)
    set_params(net, p)
    call = call_text("net.accuracy", x, t, seed=76) + tr("fb.ctx.after_params")
    assert_close(expect_number(net.accuracy(fresh(x), fresh(t)), call), 0.75, call, rtol=1e-12)


@pytest.mark.exercise("chapter4.TwoLayerNet")
@pytest.mark.points(2)
def test_numerical_gradient_of_every_parameter(student):
    p = known_params(77, 3, 4, 3)
    x = np.random.default_rng(78).normal(size=(5, 3))
    labels = np.random.default_rng(79).integers(0, 3, size=5)
    net = new_net(student, 77, 3, 4, 3)
    set_params(net, p)
    call = call_text("net.numerical_gradient", x, labels, seed=78) + tr("fb.ctx.after_params")
    grads = net.numerical_gradient(fresh(x), fresh(labels))
    if not isinstance(grads, dict) or sorted(grads) != sorted(KEYS):
        keys = sorted(map(str, grads)) if isinstance(grads, dict) else type_name(grads)
        raise Feedback(tr("fb.net.grads_keys_got", call=call, got=keys, want=sorted(KEYS)))
    expected = net_numerical_gradient(p, x, labels)
    for key in KEYS:
        # loose enough for a loss without the 1e-7 (err/tol 0.04), tight enough for forward differences (13)
        assert_close(grads[key], expected[key], f"{call}, grads[{key!r}]", rtol=3e-5, atol=1e-8)


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_numerical_gradient_agrees_with_the_analytic_gradient_of_the_output_bias(student):
    # For softmax + cross-entropy, dL/db2 = mean over the batch of (y - onehot(t)).
    p = known_params(80, 2, 3, 4)
    x = np.random.default_rng(81).normal(size=(6, 2))
    labels = np.random.default_rng(82).integers(0, 4, size=6)
    net = new_net(student, 80, 2, 3, 4)
    set_params(net, p)
    call = call_text("net.numerical_gradient", x, labels, seed=81) + tr("fb.ctx.after_params")
    grads = net.numerical_gradient(fresh(x), fresh(labels))
    if not isinstance(grads, dict) or "b2" not in grads:
        raise Feedback(tr("fb.net.grads_missing", call=call, key="'b2'"))
    analytic = (predict(p, x) - np.eye(4)[labels]).mean(axis=0)
    assert_gradient(grads["b2"], analytic, f"{call}, grads['b2']")


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_numerical_gradient_leaves_the_params_unchanged(student):
    p = known_params(83, 3, 2, 2)
    x = np.random.default_rng(84).normal(size=(4, 3))
    labels = np.random.default_rng(85).integers(0, 2, size=4)
    net = new_net(student, 83, 3, 2, 2)
    set_params(net, p)
    call = call_text("net.numerical_gradient", x, labels, seed=84) + tr("fb.ctx.after_params")
    grads = net.numerical_gradient(fresh(x), fresh(labels))
    after = net.params
    for key in KEYS:
        got = after.get(key) if isinstance(after, dict) else None
        if not isinstance(got, np.ndarray) or got.shape != p[key].shape or np.abs(got - p[key]).max() > 1e-12:
            raise Feedback(tr("fb.net.params_changed", call=call, key=repr(key)))
    # params put back are worth nothing without the gradients they were nudged for
    if not isinstance(grads, dict):
        raise Feedback(tr("fb.net.grads_dict", call=call, want=list(KEYS)))
    expected = net_numerical_gradient(p, x, labels)
    for key in KEYS:
        if key not in grads:
            raise Feedback(tr("fb.net.grads_missing", call=call, key=repr(key)))
        assert_close(grads[key], expected[key], f"{call}, grads[{key!r}]", rtol=3e-5, atol=1e-8)
