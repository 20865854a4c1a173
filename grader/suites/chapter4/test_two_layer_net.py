"""Public checks for chapter 4 TwoLayerNet: parameters, predict, loss and accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from grader.boundary.proxy import type_name
from grader.grading.checks import Feedback, assert_close, assert_gradient, call_text, expect_array, expect_number, fresh
from grader.suites.chapter4._reference import (
    KEYS,
    expect_params,
    known_params,
    labels_with_accuracy,
    loss,
    net_numerical_gradient,
    new_net,
    predict,
    set_params,
)
from grader.util.i18n import tr


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_init_makes_random_weights_and_zero_biases_of_the_right_shapes(student):
    call = call_text("TwoLayerNet", input_size=4, hidden_size=5, output_size=3)
    net = new_net(student, 61, input_size=4, hidden_size=5, output_size=3)
    p = expect_params(net.params, call, {"W1": (4, 5), "b1": (5,), "W2": (5, 3), "b2": (3,)})
    for key in ("b1", "b2"):
        if np.any(p[key] != 0):
            raise Feedback(tr("fb.net.bias_zero", call=call, key=repr(key)))
    for key in ("W1", "W2"):
        if np.unique(p[key]).size < p[key].size // 2:
            raise Feedback(tr("fb.net.weight_random", call=call, key=repr(key)))


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_predict_gives_softmax_probabilities(student):
    p = known_params(62, 4, 5, 3)
    x = np.random.default_rng(63).normal(size=(6, 4))
    net = new_net(student, 62, 4, 5, 3)
    set_params(net, p)
    call = call_text("net.predict", x, seed=63) + tr("fb.ctx.after_params")
    assert_close(net.predict(fresh(x)), predict(p, x), call)
    # scores near 1000: softmax must subtract the row's maximum before exp, or exp overflows
    big = {**p, "b2": p["b2"] + 1000.0}
    set_params(net, big)
    call = call_text("net.predict", x, seed=63) + tr("fb.ctx.after_params") + " (b2 + 1000)"
    assert_close(net.predict(fresh(x)), predict(big, x), call)


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_loss_with_label_targets(student):
    p = known_params(64, 3, 4, 3)
    x = np.random.default_rng(65).normal(size=(5, 3))
    t = np.random.default_rng(66).integers(0, 3, size=5)
    net = new_net(student, 64, 3, 4, 3)
    set_params(net, p)
    call = call_text("net.loss", x, t, seed=65) + tr("fb.ctx.after_params")
    # rtol 3e-5: the 1e-7 inside the log belongs to cross_entropy_error's own tests
    assert_close(net.loss(fresh(x), fresh(t)), loss(p, x, t), call, rtol=3e-5)


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_accuracy_with_label_targets(student):
    p = known_params(67, 3, 4, 3, scale=2.0)
    x = np.random.default_rng(68).normal(size=(10, 3))
    t = labels_with_accuracy(p, x, 3, wrong=[1, 4, 7])
    net = new_net(student, 67, 3, 4, 3)
    set_params(net, p)
    call = call_text("net.accuracy", x, t, seed=68) + tr("fb.ctx.after_params")
    assert_close(expect_number(net.accuracy(fresh(x), fresh(t)), call), 0.7, call, rtol=1e-12)
    t = labels_with_accuracy(p, x, 3, wrong=[1, 4, 8])  # other rows wrong: the same 0.7 from other rows
    call = call_text("net.accuracy", x, t, seed=68) + tr("fb.ctx.after_params")
    assert_close(expect_number(net.accuracy(fresh(x), fresh(t)), call), 0.7, call, rtol=1e-12)


# --- the kinds of check the hidden tests make, on other inputs: the weights' scale, one-hot
# targets, numerical gradients of the parameters themselves ------------------------------


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_init_scales_the_weights_by_the_weight_init_std_it_is_given(student):
    for std, given in ((0.01, False), (0.2, True)):
        kwargs = {"weight_init_std": std} if given else {}  # the default is 0.01
        call = call_text("TwoLayerNet", input_size=25, hidden_size=20, output_size=8, **kwargs)
        net = new_net(student, 94, input_size=25, hidden_size=20, output_size=8, **kwargs)
        params = net.params
        if not isinstance(params, dict) or "W1" not in params or "W2" not in params:
            raise Feedback(tr("fb.net.params_not_dict", call=call, type=type_name(params)))
        for key, shape in (("W1", (25, 20)), ("W2", (20, 8))):
            w = expect_array(params[key], f"{call}: params[{key!r}]", shape=shape)
            spread = float(np.std(w))
            if not 0.75 * std < spread < 1.25 * std or abs(float(np.mean(w))) > 0.25 * std:
                raise Feedback(tr("fb.net.weight_spread", call=call, key=repr(key), mean=f"{np.mean(w):.3g}", std=f"{spread:.3g}"))


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_loss_is_the_same_for_one_hot_and_label_targets(student):
    p = known_params(95, 3, 5, 3)
    x = np.random.default_rng(96).normal(size=(4, 3))
    labels = np.random.default_rng(97).integers(0, 3, size=4)
    t = np.eye(3)[labels]
    net = new_net(student, 95, 3, 5, 3)
    set_params(net, p)
    call = call_text("net.loss", x, t, seed=96) + tr("fb.ctx.after_params")
    assert_close(net.loss(fresh(x), fresh(t)), loss(p, x, labels), call, rtol=3e-5)


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_accuracy_counts_one_hot_targets_too(student):
    p = known_params(98, 2, 4, 3, scale=2.0)
    x = np.random.default_rng(99).normal(size=(5, 2))
    labels = predict(p, x).argmax(axis=1)
    labels[[2, 3]] = (labels[[2, 3]] + 1) % 3
    t = np.eye(3)[labels]
    net = new_net(student, 98, 2, 4, 3)
    set_params(net, p)
    call = call_text("net.accuracy", x, t, seed=99) + tr("fb.ctx.after_params")
    assert_close(expect_number(net.accuracy(fresh(x), fresh(t)), call), 0.6, call, rtol=1e-12)


def _numerical_grads(student, seed, sizes, batch):
    p = known_params(seed, *sizes)
    x = np.random.default_rng(seed + 1).normal(size=(batch, sizes[0]))
    labels = np.random.default_rng(seed + 2).integers(0, sizes[2], size=batch)
    net = new_net(student, seed, *sizes)
    set_params(net, p)
    call = call_text("net.numerical_gradient", x, labels, seed=seed + 1) + tr("fb.ctx.after_params")
    return p, x, labels, net, call, net.numerical_gradient(fresh(x), fresh(labels))


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_numerical_gradient_of_each_parameter(student):
    p, x, labels, _, call, grads = _numerical_grads(student, 101, (2, 3, 2), 3)
    if not isinstance(grads, dict) or sorted(grads) != sorted(KEYS):
        keys = sorted(map(str, grads)) if isinstance(grads, dict) else type_name(grads)
        raise Feedback(tr("fb.net.grads_keys_got", call=call, got=keys, want=sorted(KEYS)))
    expected = net_numerical_gradient(p, x, labels)
    for key in KEYS:
        assert_close(grads[key], expected[key], f"{call}, grads[{key!r}]", rtol=3e-5, atol=1e-8)


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_numerical_gradient_of_the_output_bias_matches_the_formula(student):
    # For softmax + cross-entropy, dL/db2 = mean over the batch of (y - onehot(t)).
    p, x, labels, _, call, grads = _numerical_grads(student, 105, (3, 2, 3), 4)
    if not isinstance(grads, dict) or "b2" not in grads:
        raise Feedback(tr("fb.net.grads_missing", call=call, key="'b2'"))
    analytic = (predict(p, x) - np.eye(3)[labels]).mean(axis=0)
    assert_gradient(grads["b2"], analytic, f"{call}, grads['b2']")


@pytest.mark.exercise("chapter4.TwoLayerNet")
def test_numerical_gradient_puts_the_params_back(student):
    p, _, _, net, call, _ = _numerical_grads(student, 109, (2, 2, 2), 3)
    after = net.params
    for key in KEYS:
        got = after.get(key) if isinstance(after, dict) else None
        if not isinstance(got, np.ndarray) or got.shape != p[key].shape or np.abs(got - p[key]).max() > 1e-12:
            raise Feedback(tr("fb.net.params_changed", call=call, key=repr(key)))
