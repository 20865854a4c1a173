"""Public checks for chapter 4 TwoLayerNet: parameters, predict, loss and accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import Feedback, assert_close, call_text, expect_number, fresh
from grader.i18n import tr
from grader.suites.chapter4._reference import (
    expect_params,
    known_params,
    labels_with_accuracy,
    loss,
    new_net,
    predict,
    set_params,
)


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
