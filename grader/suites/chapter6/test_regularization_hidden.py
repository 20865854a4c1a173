"""Hidden checks for chapter 6 regularization: numpy ints, biases left out of weight decay,
Dropout's defaults and fresh masks, Batch Normalization's momentum, test mode and shapes."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import Feedback, assert_close, assert_gradient, call_text, expect_array, fresh
from grader.grading.gradcheck import backward_target, numerical_gradient
from grader.suites.chapter6._reference import bn_test, bn_train
from grader.util.i18n import tr


@pytest.mark.exercise("chapter6.xavier_std")
def test_xavier_std_scales_a_layer(student):
    # used as W = np.random.randn(n, m) * xavier_std(n)
    fn = student.load("regularization").xavier_std
    assert_close(fn(np.int64(256)), 1 / 16, call_text("xavier_std", 256) + tr("fb.ctx.numpy_int"))
    assert_close(fn(3), 1 / np.sqrt(3), call_text("xavier_std", 3))


@pytest.mark.exercise("chapter6.he_std")
def test_he_std_scales_a_layer(student):
    fn = student.load("regularization").he_std
    assert_close(fn(np.int64(200)), 0.1, call_text("he_std", 200) + tr("fb.ctx.numpy_int"))
    assert_close(fn(3), np.sqrt(2 / 3), call_text("he_std", 3))


@pytest.mark.exercise("chapter6.weight_decay_loss")
def test_weight_decay_loss_three_layers_and_zero_lambda(student):
    rng = np.random.default_rng(90)
    params = {f"W{i}": rng.normal(size=(3, 3)) for i in (1, 2, 3)}
    params.update({f"b{i}": rng.normal(size=3) for i in (1, 2, 3)})
    fn = student.load("regularization").weight_decay_loss
    expected = 0.5 * 0.01 * sum(np.sum(params[f"W{i}"] ** 2) for i in (1, 2, 3))
    assert_close(fn(fresh(params), 0.01), expected, call_text("weight_decay_loss", params, 0.01, seed=90))
    assert_close(fn(fresh(params), 0.0), 0.0, call_text("weight_decay_loss", params, 0.0, seed=90))


@pytest.mark.exercise("chapter6.Dropout")
def test_dropout_defaults(student):
    rng = np.random.default_rng(91)
    x = rng.uniform(0.5, 1.5, size=(30, 40))
    student.seed(91)
    layer = student.load("regularization").Dropout()
    call = call_text("Dropout().forward", x, seed=91)
    out = expect_array(layer.forward(fresh(x)), call, shape=x.shape)
    share = float((out == 0).mean())
    if abs(share - 0.5) > 0.06:
        raise Feedback(tr("fb.dropout.share_default", call=call, share=f"{share:.1%}"))
    assert_close(layer.forward(fresh(x), False), x * 0.5, call_text("Dropout().forward", x, False, seed=91))


@pytest.mark.exercise("chapter6.Dropout")
def test_dropout_draws_a_new_mask_each_forward(student):
    rng = np.random.default_rng(92)
    x = rng.uniform(0.5, 1.5, size=(2, 3, 5, 5))
    dout = rng.uniform(0.5, 1.5, size=x.shape)
    student.seed(92)
    layer = student.load("regularization").Dropout(0.4)
    call = call_text("Dropout(0.4).forward", x, True, seed=92)
    first = expect_array(layer.forward(fresh(x), True), call, shape=x.shape)
    second = expect_array(layer.forward(fresh(x), True), call + tr("fb.what.second_call"), shape=x.shape)
    if np.array_equal(first == 0, second == 0):
        raise Feedback(tr("fb.dropout.same_mask", call=call))
    kept = second != 0
    bcall = call_text("Dropout.backward", dout, seed=92) + tr("fb.ctx.after_two_forwards")
    dx = expect_array(layer.backward(fresh(dout)), bcall, shape=x.shape)
    if not (np.array_equal(dx[kept], dout[kept]) and np.all(dx[~kept] == 0)):
        raise Feedback(tr("fb.dropout.latest_mask", call=bcall))


@pytest.mark.exercise("chapter6.BatchNormalization")
def test_batchnorm_momentum_argument(student):
    rng = np.random.default_rng(93)
    gamma, beta = np.ones(2), np.zeros(2)
    layer = student.load("regularization").BatchNormalization(fresh(gamma), fresh(beta), momentum=0.5)
    mean, var = np.zeros(2), np.zeros(2)
    for _ in range(4):
        batch = rng.normal(loc=-1.0, scale=0.5, size=(8, 2))
        layer.forward(fresh(batch), True)
        mean = 0.5 * mean + 0.5 * batch.mean(axis=0)
        var = 0.5 * var + 0.5 * batch.var(axis=0)
    x = rng.normal(size=(3, 2))
    call = call_text("BatchNormalization(gamma, beta, momentum=0.5).forward", x, False, seed=93)
    assert_close(layer.forward(fresh(x), False), bn_test(x, gamma, beta, mean, var), call + tr("fb.bn.after_batches", n=4))


@pytest.mark.exercise("chapter6.BatchNormalization")
def test_batchnorm_test_mode_does_not_change_the_averages(student):
    rng = np.random.default_rng(94)
    gamma, beta = rng.uniform(0.5, 1.5, size=3), rng.normal(size=3)
    layer = student.load("regularization").BatchNormalization(fresh(gamma), fresh(beta))
    batch = rng.normal(loc=1.0, size=(5, 3))
    call = call_text("BatchNormalization(gamma, beta).forward", batch, seed=94) + tr("fb.ctx.default_train_flg")
    assert_close(layer.forward(fresh(batch)), bn_train(batch, gamma, beta), call)
    mean, var = 0.1 * batch.mean(axis=0), 0.1 * batch.var(axis=0)
    for i in range(2):
        x = rng.normal(loc=5.0, size=(4, 3))
        expected = bn_test(x, gamma, beta, mean, var)
        call = call_text("BatchNormalization(gamma, beta).forward", x, False, seed=94) + tr("fb.bn.test_call", i=i + 1, n=2)
        assert_close(layer.forward(fresh(x), False), expected, call)


@pytest.mark.exercise("chapter6.BatchNormalization")
@pytest.mark.points(2)
def test_batchnorm_backward_other_batch_size(student):
    rng = np.random.default_rng(95)
    x = rng.normal(size=(3, 6))
    gamma, beta, dout = rng.uniform(0.5, 1.5, size=6), rng.normal(size=6), rng.normal(size=(3, 6))
    layer = student.load("regularization").BatchNormalization(fresh(gamma), fresh(beta))
    assert_close(
        layer.forward(fresh(x), True),
        bn_train(x, gamma, beta),
        call_text("BatchNormalization(gamma, beta).forward", x, True, seed=95),
    )
    call = call_text("BatchNormalization.backward", dout, seed=95) + tr("fb.ctx.after_training_forward")
    numeric = numerical_gradient(backward_target(lambda v: bn_train(v, gamma, beta), dout), x)
    assert_gradient(layer.backward(fresh(dout)), numeric, call)
    numeric_gamma = numerical_gradient(backward_target(lambda g: bn_train(x, g, beta), dout), gamma)
    assert_gradient(layer.dgamma, numeric_gamma, call + tr("fb.ctx.then", what="layer.dgamma"))
