"""Public checks for chapter 6 regularization: init scales, weight decay, Dropout's mask and
test-time scaling, Batch Normalization forward, backward and running averages."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import Feedback, assert_close, assert_gradient, call_text, expect_array, fresh
from grader.grading.gradcheck import backward_target, numerical_gradient
from grader.suites.chapter6._reference import bn_test, bn_train
from grader.util.i18n import tr


@pytest.mark.exercise("chapter6.xavier_std")
def test_xavier_std_values(student):
    fn = student.load("regularization").xavier_std
    for n in (1, 4, 100, 784):
        assert_close(fn(n), 1 / np.sqrt(n), call_text("xavier_std", n))


@pytest.mark.exercise("chapter6.he_std")
def test_he_std_values(student):
    fn = student.load("regularization").he_std
    for n in (1, 2, 50, 784):
        assert_close(fn(n), np.sqrt(2 / n), call_text("he_std", n))


@pytest.mark.exercise("chapter6.weight_decay_loss")
@pytest.mark.points(2)
def test_weight_decay_loss_penalises_the_weights(student):
    rng = np.random.default_rng(80)
    params = {
        "W1": rng.normal(size=(3, 4)),
        "b1": rng.normal(size=4),
        "W2": rng.normal(size=(4, 2)),
        "b2": rng.normal(size=2),
    }
    expected = 0.5 * 0.1 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    call = call_text("weight_decay_loss", params, 0.1, seed=80)
    assert_close(student.load("regularization").weight_decay_loss(fresh(params), 0.1), expected, call)


def _check_train_mask(out: object, x: np.ndarray, ratio: float, call: str) -> np.ndarray:
    """Every output is 0 (dropped) or exactly x (kept); about `ratio` of them are dropped."""
    out = expect_array(out, call, shape=x.shape)
    dropped = out == 0
    if not np.allclose(out[~dropped], x[~dropped], rtol=1e-12, atol=0):
        raise Feedback(tr("fb.dropout.kept_changed", call=call))
    share = float(dropped.mean())
    if abs(share - ratio) > 0.05:
        raise Feedback(tr("fb.dropout.share", call=call, share=f"{share:.1%}", ratio=ratio, expect=f"{ratio:.0%}"))
    return ~dropped


@pytest.mark.exercise("chapter6.Dropout")
@pytest.mark.points(2)
def test_dropout_training_mask_and_backward(student):
    rng = np.random.default_rng(81)
    x = rng.uniform(0.5, 1.5, size=(40, 50)) * rng.choice([-1.0, 1.0], size=(40, 50))
    dout = rng.uniform(0.5, 1.5, size=(40, 50)) * rng.choice([-1.0, 1.0], size=(40, 50))  # signs pass through too
    student.seed(81)
    layer = student.load("regularization").Dropout(0.3)
    kept = _check_train_mask(layer.forward(fresh(x), True), x, 0.3, call_text("Dropout(0.3).forward", x, True, seed=81))
    call = call_text("Dropout.backward", dout, seed=81) + tr("fb.ctx.after", what="forward(x, True)")
    dx = expect_array(layer.backward(fresh(dout)), call, shape=x.shape)
    if not (np.array_equal(dx[kept], dout[kept]) and np.all(dx[~kept] == 0)):
        raise Feedback(tr("fb.dropout.backward", call=call))


@pytest.mark.exercise("chapter6.Dropout")
def test_dropout_scales_at_test_time(student):
    rng = np.random.default_rng(82)
    x = rng.normal(size=(4, 5))
    student.seed(82)
    layer = student.load("regularization").Dropout(0.3)
    assert_close(layer.forward(fresh(x), False), x * 0.7, call_text("Dropout(0.3).forward", x, False, seed=82))


@pytest.mark.exercise("chapter6.BatchNormalization")
@pytest.mark.points(2)
def test_batchnorm_forward_training(student):
    rng = np.random.default_rng(83)
    x = rng.normal(loc=3.0, scale=2.0, size=(5, 4))
    gamma, beta = rng.uniform(0.5, 1.5, size=4), rng.normal(size=4)
    layer = student.load("regularization").BatchNormalization(fresh(gamma), fresh(beta))
    assert_close(
        layer.forward(fresh(x), True),
        bn_train(x, gamma, beta),
        call_text("BatchNormalization(gamma, beta).forward", x, True, seed=83),
    )


@pytest.mark.exercise("chapter6.BatchNormalization")
@pytest.mark.points(3)
def test_batchnorm_backward_gives_dx_dgamma_dbeta(student):
    rng = np.random.default_rng(84)
    x = rng.normal(loc=1.0, scale=2.0, size=(5, 4))
    gamma, beta, dout = rng.uniform(0.5, 1.5, size=4), rng.normal(size=4), rng.normal(size=(5, 4))
    layer = student.load("regularization").BatchNormalization(fresh(gamma), fresh(beta))
    assert_close(
        layer.forward(fresh(x), True),
        bn_train(x, gamma, beta),
        call_text("BatchNormalization(gamma, beta).forward", x, True, seed=84),
    )
    call = call_text("BatchNormalization.backward", dout, seed=84) + tr("fb.ctx.after_training_forward")
    numeric = numerical_gradient(backward_target(lambda v: bn_train(v, gamma, beta), dout), x)
    assert_gradient(layer.backward(fresh(dout)), numeric, call)
    numeric_gamma = numerical_gradient(backward_target(lambda g: bn_train(x, g, beta), dout), gamma)
    assert_gradient(layer.dgamma, numeric_gamma, call + tr("fb.ctx.then", what="layer.dgamma"))
    numeric_beta = numerical_gradient(backward_target(lambda b: bn_train(x, gamma, b), dout), beta)
    assert_gradient(layer.dbeta, numeric_beta, call + tr("fb.ctx.then", what="layer.dbeta"))


@pytest.mark.exercise("chapter6.BatchNormalization")
@pytest.mark.points(2)
def test_batchnorm_test_mode_uses_running_averages(student):
    rng = np.random.default_rng(85)
    gamma, beta = rng.uniform(0.5, 1.5, size=3), rng.normal(size=3)
    layer = student.load("regularization").BatchNormalization(fresh(gamma), fresh(beta), momentum=0.9)
    mean, var = np.zeros(3), np.zeros(3)  # the book starts both at zero
    for _ in range(3):
        batch = rng.normal(loc=2.0, scale=3.0, size=(6, 3))
        layer.forward(fresh(batch), True)
        mean = 0.9 * mean + 0.1 * batch.mean(axis=0)
        var = 0.9 * var + 0.1 * batch.var(axis=0)
    x = rng.normal(size=(4, 3))
    expected = bn_test(x, gamma, beta, mean, var)
    call = call_text("BatchNormalization(gamma, beta, momentum=0.9).forward", x, False, seed=85)
    assert_close(layer.forward(fresh(x), False), expected, call + tr("fb.bn.after_batches", n=3))


# --- the kinds of check the hidden tests make, on other inputs: numpy ints, biases left out
# of weight decay, Dropout's defaults and fresh masks, BatchNorm's momentum, test mode and
# another batch size -----------------------------------------------------------------------


@pytest.mark.exercise("chapter6.xavier_std")
def test_xavier_std_of_a_numpy_int(student):
    fn = student.load("regularization").xavier_std
    assert_close(fn(np.int64(64)), 1 / 8, call_text("xavier_std", 64) + tr("fb.ctx.numpy_int"))
    assert_close(fn(5), 1 / np.sqrt(5), call_text("xavier_std", 5))


@pytest.mark.exercise("chapter6.he_std")
def test_he_std_of_a_numpy_int(student):
    fn = student.load("regularization").he_std
    assert_close(fn(np.int64(50)), 0.2, call_text("he_std", 50) + tr("fb.ctx.numpy_int"))
    assert_close(fn(7), np.sqrt(2 / 7), call_text("he_std", 7))


@pytest.mark.exercise("chapter6.weight_decay_loss")
def test_weight_decay_loss_of_two_layers_leaves_the_biases_out(student):
    rng = np.random.default_rng(190)
    params = {"W1": rng.normal(size=(2, 4)), "b1": rng.normal(size=4), "W2": rng.normal(size=(4, 2)), "b2": rng.normal(size=2)}
    fn = student.load("regularization").weight_decay_loss
    expected = 0.5 * 0.05 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    assert_close(fn(fresh(params), 0.05), expected, call_text("weight_decay_loss", params, 0.05, seed=190))
    assert_close(fn(fresh(params), 0.0), 0.0, call_text("weight_decay_loss", params, 0.0, seed=190))


@pytest.mark.exercise("chapter6.Dropout")
def test_dropout_with_its_default_ratio(student):
    rng = np.random.default_rng(191)
    x = rng.uniform(0.5, 1.5, size=(40, 30))
    student.seed(191)
    layer = student.load("regularization").Dropout()
    call = call_text("Dropout().forward", x, seed=191)
    out = expect_array(layer.forward(fresh(x)), call, shape=x.shape)
    share = float((out == 0).mean())
    if abs(share - 0.5) > 0.06:
        raise Feedback(tr("fb.dropout.share_default", call=call, share=f"{share:.1%}"))
    assert_close(layer.forward(fresh(x), False), x * 0.5, call_text("Dropout().forward", x, False, seed=191))


@pytest.mark.exercise("chapter6.Dropout")
def test_dropout_makes_a_new_mask_on_every_forward(student):
    rng = np.random.default_rng(192)
    x = rng.uniform(0.5, 1.5, size=(3, 4, 6))
    dout = rng.uniform(0.5, 1.5, size=x.shape)
    student.seed(192)
    layer = student.load("regularization").Dropout(0.3)
    call = call_text("Dropout(0.3).forward", x, True, seed=192)
    first = expect_array(layer.forward(fresh(x), True), call, shape=x.shape)
    second = expect_array(layer.forward(fresh(x), True), call + tr("fb.what.second_call"), shape=x.shape)
    if np.array_equal(first == 0, second == 0):
        raise Feedback(tr("fb.dropout.same_mask", call=call))
    kept = second != 0
    bcall = call_text("Dropout.backward", dout, seed=192) + tr("fb.ctx.after_two_forwards")
    dx = expect_array(layer.backward(fresh(dout)), bcall, shape=x.shape)
    if not (np.array_equal(dx[kept], dout[kept]) and np.all(dx[~kept] == 0)):
        raise Feedback(tr("fb.dropout.latest_mask", call=bcall))


@pytest.mark.exercise("chapter6.BatchNormalization")
def test_batchnorm_running_averages_use_its_momentum(student):
    rng = np.random.default_rng(193)
    gamma, beta = np.ones(3), np.zeros(3)
    layer = student.load("regularization").BatchNormalization(fresh(gamma), fresh(beta), momentum=0.7)
    mean, var = np.zeros(3), np.zeros(3)
    for _ in range(3):
        batch = rng.normal(loc=2.0, scale=1.5, size=(6, 3))
        layer.forward(fresh(batch), True)
        mean = 0.7 * mean + 0.3 * batch.mean(axis=0)
        var = 0.7 * var + 0.3 * batch.var(axis=0)
    x = rng.normal(size=(2, 3))
    call = call_text("BatchNormalization(gamma, beta, momentum=0.7).forward", x, False, seed=193)
    assert_close(layer.forward(fresh(x), False), bn_test(x, gamma, beta, mean, var), call + tr("fb.bn.after_batches", n=3))


@pytest.mark.exercise("chapter6.BatchNormalization")
def test_batchnorm_in_test_mode_keeps_its_averages(student):
    rng = np.random.default_rng(194)
    gamma, beta = rng.uniform(0.5, 1.5, size=2), rng.normal(size=2)
    layer = student.load("regularization").BatchNormalization(fresh(gamma), fresh(beta))
    batch = rng.normal(loc=-2.0, size=(4, 2))
    call = call_text("BatchNormalization(gamma, beta).forward", batch, seed=194) + tr("fb.ctx.default_train_flg")
    assert_close(layer.forward(fresh(batch)), bn_train(batch, gamma, beta), call)
    mean, var = 0.1 * batch.mean(axis=0), 0.1 * batch.var(axis=0)
    for i in range(2):
        x = rng.normal(loc=-4.0, size=(3, 2))
        expected = bn_test(x, gamma, beta, mean, var)
        call = call_text("BatchNormalization(gamma, beta).forward", x, False, seed=194) + tr("fb.bn.test_call", i=i + 1, n=2)
        assert_close(layer.forward(fresh(x), False), expected, call)


@pytest.mark.exercise("chapter6.BatchNormalization")
def test_batchnorm_backward_for_a_batch_of_four(student):
    rng = np.random.default_rng(195)
    x = rng.normal(size=(4, 3))
    gamma, beta, dout = rng.uniform(0.5, 1.5, size=3), rng.normal(size=3), rng.normal(size=(4, 3))
    layer = student.load("regularization").BatchNormalization(fresh(gamma), fresh(beta))
    assert_close(
        layer.forward(fresh(x), True),
        bn_train(x, gamma, beta),
        call_text("BatchNormalization(gamma, beta).forward", x, True, seed=195),
    )
    call = call_text("BatchNormalization.backward", dout, seed=195) + tr("fb.ctx.after_training_forward")
    numeric = numerical_gradient(backward_target(lambda v: bn_train(v, gamma, beta), dout), x)
    assert_gradient(layer.backward(fresh(dout)), numeric, call)
    numeric_gamma = numerical_gradient(backward_target(lambda g: bn_train(x, g, beta), dout), gamma)
    assert_gradient(layer.dgamma, numeric_gamma, call + tr("fb.ctx.then", what="layer.dgamma"))
