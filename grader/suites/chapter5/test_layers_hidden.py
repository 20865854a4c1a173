"""Hidden checks for chapter 5 layers: N-D input, other batch sizes, label targets,
default arguments and repeated use of one layer."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import Feedback, Synced, assert_close, assert_gradient, call_text, fresh
from grader.grading.gradcheck import backward_target, numerical_gradient
from grader.suites.chapter5._reference import affine, away_from_zero, relu, sigmoid, softmax_loss
from grader.util.i18n import tr


@pytest.mark.exercise("chapter5.MulLayer")
def test_mul_layer_backward_with_scalars(student):
    layer = student.load("layers").MulLayer()
    assert_close(layer.forward(3.0, -4.0), -12.0, "MulLayer().forward(3.0, -4.0)")
    grads = layer.backward(2.0)
    if not isinstance(grads, (list, tuple)) or len(grads) != 2:
        raise Feedback(tr("fb.layer.pair", call="MulLayer.backward(2.0)"))
    assert_close(grads[0], -8.0, "MulLayer.backward(2.0) -> dx after forward(3.0, -4.0)")
    assert_close(grads[1], 6.0, "MulLayer.backward(2.0) -> dy after forward(3.0, -4.0)")


@pytest.mark.exercise("chapter5.AddLayer")
def test_add_layer_with_scalars(student):
    layer = student.load("layers").AddLayer()
    assert_close(layer.forward(3.0, -4.0), -1.0, "AddLayer().forward(3.0, -4.0)")
    grads = layer.backward(2.5)
    if not isinstance(grads, (list, tuple)) or len(grads) != 2:
        raise Feedback(tr("fb.layer.pair", call="AddLayer.backward(2.5)"))
    assert_close(grads[0], 2.5, "AddLayer.backward(2.5) -> dx")
    assert_close(grads[1], 2.5, "AddLayer.backward(2.5) -> dy")


@pytest.mark.exercise("chapter5.Relu")
def test_relu_on_3d_input(student):
    rng = np.random.default_rng(60)
    x, dout = away_from_zero(rng, (2, 2, 3)), rng.normal(size=(2, 2, 3))
    layer = student.load("layers").Relu()
    arg = fresh(x)
    call = call_text("Relu().forward", x, seed=60)
    # Synced: the student's x comes back after the call, so an edit made to it in place is seen
    # (a reshape or a new dtype too: the wrapper says whether anything changed)
    synced = Synced(arg)
    assert_close(layer.forward(synced), relu(x), call)
    if synced.changed or not np.array_equal(arg, x):
        raise Feedback(tr("fb.relu.in_place", call=call))
    numeric = numerical_gradient(backward_target(relu, dout), x)
    assert_gradient(layer.backward(fresh(dout)), numeric, call_text("Relu.backward", dout, seed=60))


@pytest.mark.exercise("chapter5.Relu")
def test_relu_backward_uses_the_latest_forward(student):
    rng = np.random.default_rng(61)
    first, second = away_from_zero(rng, (3, 3)), away_from_zero(rng, (3, 3))
    dout = rng.normal(size=(3, 3))
    layer = student.load("layers").Relu()
    layer.forward(fresh(first))
    assert_close(layer.forward(fresh(second)), relu(second), call_text("Relu.forward", second, seed=61))
    numeric = numerical_gradient(backward_target(relu, dout), second)
    call = call_text("Relu.backward", dout, seed=61) + tr("fb.ctx.after_two_forwards")
    assert_gradient(layer.backward(fresh(dout)), numeric, call)


@pytest.mark.exercise("chapter5.Sigmoid")
def test_sigmoid_on_1d_and_large_inputs(student):
    x = np.array([-30.0, -5.0, -0.5, 0.0, 0.5, 5.0, 30.0])
    dout = np.linspace(-1.0, 1.0, x.size)
    layer = student.load("layers").Sigmoid()
    assert_close(layer.forward(fresh(x)), sigmoid(x), call_text("Sigmoid().forward", x))
    # exact derivative y(1-y): the numerical one is too noisy where sigmoid saturates
    y = sigmoid(x)
    assert_close(
        layer.backward(fresh(dout)), dout * y * (1 - y), call_text("Sigmoid.backward", dout), rtol=1e-6, atol=1e-12
    )


@pytest.mark.exercise("chapter5.Affine")
@pytest.mark.points(3)
def test_affine_flattens_nd_input_and_restores_dx_shape(student):
    rng = np.random.default_rng(62)
    x = rng.normal(size=(2, 3, 2, 2))
    W, b, dout = rng.normal(size=(12, 5)), rng.normal(size=5), rng.normal(size=(2, 5))
    expected = affine(x, W, b)
    layer = student.load("layers").Affine(fresh(W), fresh(b))
    assert_close(layer.forward(fresh(x)), expected, call_text("Affine(W, b).forward", x, seed=62))
    call = call_text("Affine.backward", dout, seed=62) + tr("fb.ctx.nd_input", n=4)
    numeric_x = numerical_gradient(backward_target(lambda v: affine(v, W, b), dout), x)
    assert_gradient(layer.backward(fresh(dout)), numeric_x, call)
    numeric_W = numerical_gradient(backward_target(lambda w: affine(x, w, b), dout), W)
    assert_gradient(layer.dW, numeric_W, call + tr("fb.ctx.then", what="layer.dW"))


@pytest.mark.exercise("chapter5.Affine")
def test_affine_batch_of_one(student):
    rng = np.random.default_rng(63)
    W, b, x, dout = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(1, 3)), rng.normal(size=(1, 4))
    expected = affine(x, W, b)
    layer = student.load("layers").Affine(fresh(W), fresh(b))
    assert_close(layer.forward(fresh(x)), expected, call_text("Affine(W, b).forward", x, seed=63))
    call = call_text("Affine.backward", dout, seed=63)
    assert_gradient(layer.backward(fresh(dout)), dout @ W.T, call)
    assert_gradient(layer.dW, x.T @ dout, call + tr("fb.ctx.then", what="layer.dW"))
    assert_gradient(layer.db, dout[0], call + tr("fb.ctx.then", what="layer.db"))


@pytest.mark.exercise("chapter5.Affine")
def test_affine_db_sums_over_a_larger_batch(student):
    rng = np.random.default_rng(64)
    W, b, x, dout = rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(6, 2)), rng.normal(size=(6, 3))
    expected = affine(x, W, b)
    layer = student.load("layers").Affine(fresh(W), fresh(b))
    assert_close(layer.forward(fresh(x)), expected, call_text("Affine(W, b).forward", x, seed=64))
    call = call_text("Affine.backward", dout, seed=64)
    layer.backward(fresh(dout))
    assert_gradient(layer.db, dout.sum(axis=0), call + tr("fb.ctx.then", what="layer.db"))


@pytest.mark.exercise("chapter5.SoftmaxWithLoss")
@pytest.mark.points(2)
def test_softmax_with_loss_label_targets(student):
    rng = np.random.default_rng(65)
    x, t = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)
    layer = student.load("layers").SoftmaxWithLoss()
    assert_close(
        layer.forward(fresh(x), fresh(t)), softmax_loss(x, t), call_text("SoftmaxWithLoss().forward", x, t, seed=65)
    )
    numeric = numerical_gradient(lambda v: softmax_loss(v, t), x)
    assert_gradient(layer.backward(), numeric, "SoftmaxWithLoss.backward()" + tr("fb.ctx.after", what="forward(x, t)") + tr("fb.what.label_t"))


@pytest.mark.exercise("chapter5.SoftmaxWithLoss")
def test_softmax_with_loss_large_logits_and_batch_of_one(student):
    x = np.array([[1000.0, 998.0, -1000.0]])
    t = np.array([[0.0, 1.0, 0.0]])
    layer = student.load("layers").SoftmaxWithLoss()
    assert_close(layer.forward(fresh(x), fresh(t)), softmax_loss(x, t), call_text("SoftmaxWithLoss().forward", x, t))
    numeric = numerical_gradient(lambda v: softmax_loss(v, t), x)
    assert_gradient(layer.backward(1), numeric, "SoftmaxWithLoss.backward(1) for a batch of one with large logits")
    x = np.array([[1000.0, 998.0, 999.0]])  # every score large: only subtracting the row's maximum keeps exp finite
    layer = student.load("layers").SoftmaxWithLoss()
    assert_close(layer.forward(fresh(x), fresh(t)), softmax_loss(x, t), call_text("SoftmaxWithLoss().forward", x, t))


@pytest.mark.exercise("chapter5.SoftmaxWithLoss")
def test_softmax_with_loss_confident_mistake_is_capped(student):
    # the right class gets probability ~1e-22: the 1e-7 inside the log keeps the loss finite
    x = np.array([[0.0, 50.0], [3.0, 1.0]])
    t = np.array([0, 0])
    layer = student.load("layers").SoftmaxWithLoss()
    call = call_text("SoftmaxWithLoss().forward", x, t) + tr("fb.ctx.confidently_wrong")
    assert_close(layer.forward(fresh(x), fresh(t)), softmax_loss(x, t), call)
