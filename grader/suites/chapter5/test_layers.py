"""Public checks for chapter 5: each layer's forward against the formula, each backward
against a numerical gradient of that forward."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import Feedback, Synced, assert_close, assert_gradient, call_text, fresh
from grader.grading.gradcheck import backward_target, numerical_gradient
from grader.suites.chapter5._reference import affine, away_from_zero, pair, relu, sigmoid, softmax_loss
from grader.util.i18n import tr


@pytest.mark.exercise("chapter5.MulLayer")
@pytest.mark.points(2)
def test_mul_layer_forward_and_swapped_gradients(student):
    rng = np.random.default_rng(50)
    x, y, dout = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    layer = student.load("layers").MulLayer()
    assert_close(layer.forward(fresh(x), fresh(y)), x * y, call_text("MulLayer().forward", x, y, seed=50))
    call = call_text("MulLayer.backward", dout, seed=50) + tr("fb.ctx.after", what="forward(x, y)")
    dx, dy = pair(layer.backward(fresh(dout)), call)
    assert_gradient(dx, dout * y, call + " -> dx")
    assert_gradient(dy, dout * x, call + " -> dy")


@pytest.mark.exercise("chapter5.MulLayer")
def test_mul_layer_apple_example(student):
    # the book's apple example: 2 apples at 100 each, 10% tax
    mod = student.load("layers")
    apple, tax = mod.MulLayer(), mod.MulLayer()
    price = tax.forward(apple.forward(100.0, 2.0), 1.1)
    assert_close(price, 220.0, "tax.forward(apple.forward(100.0, 2.0), 1.1)")
    dprice, dtax = pair(tax.backward(1.0), "tax.backward(1.0)")
    assert_close(dtax, 200.0, "tax.backward(1.0) -> dtax")
    dapple, dnum = pair(apple.backward(dprice), "apple.backward(dprice)")
    assert_close(dapple, 2.2, "apple.backward(dprice) -> dapple")
    assert_close(dnum, 110.0, "apple.backward(dprice) -> dapple_num")


@pytest.mark.exercise("chapter5.AddLayer")
@pytest.mark.points(2)
def test_add_layer_passes_gradient_through(student):
    rng = np.random.default_rng(51)
    x, y, dout = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    layer = student.load("layers").AddLayer()
    assert_close(layer.forward(fresh(x), fresh(y)), x + y, call_text("AddLayer().forward", x, y, seed=51))
    call = call_text("AddLayer.backward", dout, seed=51)
    dx, dy = pair(layer.backward(fresh(dout)), call)
    assert_gradient(dx, dout, call + " -> dx")
    assert_gradient(dy, dout, call + " -> dy")


@pytest.mark.exercise("chapter5.Relu")
@pytest.mark.points(2)
def test_relu_forward_and_backward(student):
    rng = np.random.default_rng(52)
    x, dout = away_from_zero(rng, (3, 4)), rng.normal(size=(3, 4))
    layer = student.load("layers").Relu()
    assert_close(layer.forward(fresh(x)), relu(x), call_text("Relu().forward", x, seed=52))
    numeric = numerical_gradient(backward_target(relu, dout), x)
    assert_gradient(layer.backward(fresh(dout)), numeric, call_text("Relu.backward", dout, seed=52))


@pytest.mark.exercise("chapter5.Relu")
def test_relu_forward_leaves_its_input_alone(student):
    # catches x[mask] = 0 on the caller's array
    rng = np.random.default_rng(59)
    x = away_from_zero(rng, (2, 5))
    arg = fresh(x)
    call = call_text("Relu().forward", x, seed=59)
    # Synced: the student's x comes back after the call, so an edit made to it in place is seen
    # (a reshape or a new dtype too: the wrapper says whether anything changed)
    synced = Synced(arg)
    assert_close(student.load("layers").Relu().forward(synced), relu(x), call)
    if synced.changed or not np.array_equal(arg, x):
        raise Feedback(tr("fb.relu.in_place", call=call))


@pytest.mark.exercise("chapter5.Sigmoid")
@pytest.mark.points(2)
def test_sigmoid_forward_and_backward(student):
    rng = np.random.default_rng(53)
    x, dout = rng.normal(scale=2.0, size=(3, 4)), rng.normal(size=(3, 4))
    layer = student.load("layers").Sigmoid()
    assert_close(layer.forward(fresh(x)), sigmoid(x), call_text("Sigmoid().forward", x, seed=53))
    numeric = numerical_gradient(backward_target(sigmoid, dout), x)
    assert_gradient(layer.backward(fresh(dout)), numeric, call_text("Sigmoid.backward", dout, seed=53))


@pytest.mark.exercise("chapter5.Affine")
def test_affine_forward(student):
    rng = np.random.default_rng(54)
    W, b, x = rng.normal(size=(4, 2)), rng.normal(size=2), rng.normal(size=(3, 4))
    expected = affine(x, W, b)
    layer = student.load("layers").Affine(fresh(W), fresh(b))
    assert_close(layer.forward(fresh(x)), expected, call_text("Affine(W, b).forward", x, seed=54))


@pytest.mark.exercise("chapter5.Affine")
@pytest.mark.points(3)
def test_affine_backward_gives_dx_dW_db(student):
    rng = np.random.default_rng(55)
    W, b, x, dout = rng.normal(size=(4, 2)), rng.normal(size=2), rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    expected = affine(x, W, b)
    layer = student.load("layers").Affine(fresh(W), fresh(b))
    assert_close(layer.forward(fresh(x)), expected, call_text("Affine(W, b).forward", x, seed=55))
    call = call_text("Affine.backward", dout, seed=55)
    num_x = numerical_gradient(backward_target(lambda v: affine(v, W, b), dout), x)
    assert_gradient(layer.backward(fresh(dout)), num_x, call)
    num_W = numerical_gradient(backward_target(lambda w: affine(x, w, b), dout), W)
    assert_gradient(layer.dW, num_W, call + tr("fb.ctx.then", what="layer.dW"))
    num_b = numerical_gradient(backward_target(lambda c: affine(x, W, c), dout), b)
    assert_gradient(layer.db, num_b, call + tr("fb.ctx.then", what="layer.db"))


@pytest.mark.exercise("chapter5.SoftmaxWithLoss")
@pytest.mark.points(2)
def test_softmax_with_loss_forward_one_hot(student):
    rng = np.random.default_rng(56)
    x = rng.normal(size=(4, 3))
    t = np.eye(3)[rng.integers(0, 3, size=4)]
    layer = student.load("layers").SoftmaxWithLoss()
    assert_close(
        layer.forward(fresh(x), fresh(t)), softmax_loss(x, t), call_text("SoftmaxWithLoss().forward", x, t, seed=56)
    )


@pytest.mark.exercise("chapter5.SoftmaxWithLoss")
@pytest.mark.points(2)
def test_softmax_with_loss_backward_matches_numerical_gradient(student):
    rng = np.random.default_rng(57)
    x = rng.normal(size=(4, 3))
    t = np.eye(3)[rng.integers(0, 3, size=4)]
    layer = student.load("layers").SoftmaxWithLoss()
    assert_close(
        layer.forward(fresh(x), fresh(t)), softmax_loss(x, t), call_text("SoftmaxWithLoss().forward", x, t, seed=57)
    )
    numeric = numerical_gradient(lambda v: softmax_loss(v, t), x)
    assert_gradient(
        layer.backward(1), numeric, call_text("SoftmaxWithLoss.backward", 1, seed=57) + tr("fb.ctx.after", what="forward(x, t)")
    )


# --- the kinds of check the hidden tests make, on other inputs: scalars, N-D input, the
# latest forward, saturated sigmoid, a batch of one, label targets, large logits -------


@pytest.mark.exercise("chapter5.MulLayer")
def test_mul_layer_with_plain_numbers(student):
    layer = student.load("layers").MulLayer()
    assert_close(layer.forward(-2.5, 6.0), -15.0, "MulLayer().forward(-2.5, 6.0)")
    grads = layer.backward(-1.5)
    if not isinstance(grads, (list, tuple)) or len(grads) != 2:
        raise Feedback(tr("fb.layer.pair", call="MulLayer.backward(-1.5)"))
    assert_close(grads[0], -9.0, "MulLayer.backward(-1.5) -> dx after forward(-2.5, 6.0)")
    assert_close(grads[1], 3.75, "MulLayer.backward(-1.5) -> dy after forward(-2.5, 6.0)")


@pytest.mark.exercise("chapter5.AddLayer")
def test_add_layer_with_plain_numbers(student):
    layer = student.load("layers").AddLayer()
    assert_close(layer.forward(-1.5, 7.0), 5.5, "AddLayer().forward(-1.5, 7.0)")
    grads = layer.backward(-3.0)
    if not isinstance(grads, (list, tuple)) or len(grads) != 2:
        raise Feedback(tr("fb.layer.pair", call="AddLayer.backward(-3.0)"))
    assert_close(grads[0], -3.0, "AddLayer.backward(-3.0) -> dx")
    assert_close(grads[1], -3.0, "AddLayer.backward(-3.0) -> dy")


@pytest.mark.exercise("chapter5.Relu")
def test_relu_on_a_3d_batch(student):
    rng = np.random.default_rng(150)
    x, dout = away_from_zero(rng, (3, 1, 2)), rng.normal(size=(3, 1, 2))
    layer = student.load("layers").Relu()
    arg = fresh(x)
    call = call_text("Relu().forward", x, seed=150)
    assert_close(layer.forward(Synced(arg)), relu(x), call)
    if not np.array_equal(arg, x):
        raise Feedback(tr("fb.relu.in_place", call=call))
    numeric = numerical_gradient(backward_target(relu, dout), x)
    assert_gradient(layer.backward(fresh(dout)), numeric, call_text("Relu.backward", dout, seed=150))


@pytest.mark.exercise("chapter5.Relu")
def test_relu_backward_follows_the_last_forward(student):
    rng = np.random.default_rng(151)
    first, second = away_from_zero(rng, (2, 4)), away_from_zero(rng, (2, 4))
    dout = rng.normal(size=(2, 4))
    layer = student.load("layers").Relu()
    layer.forward(fresh(first))
    assert_close(layer.forward(fresh(second)), relu(second), call_text("Relu.forward", second, seed=151))
    numeric = numerical_gradient(backward_target(relu, dout), second)
    call = call_text("Relu.backward", dout, seed=151) + tr("fb.ctx.after_two_forwards")
    assert_gradient(layer.backward(fresh(dout)), numeric, call)


@pytest.mark.exercise("chapter5.Sigmoid")
def test_sigmoid_of_a_vector_with_saturated_ends(student):
    x = np.array([-25.0, -2.0, 0.0, 1.0, 25.0])
    dout = np.array([0.5, -1.0, 2.0, 1.0, -0.5])
    layer = student.load("layers").Sigmoid()
    assert_close(layer.forward(fresh(x)), sigmoid(x), call_text("Sigmoid().forward", x))
    y = sigmoid(x)
    assert_close(
        layer.backward(fresh(dout)), dout * y * (1 - y), call_text("Sigmoid.backward", dout), rtol=1e-6, atol=1e-12
    )


@pytest.mark.exercise("chapter5.Affine")
def test_affine_of_images_flattens_them_and_gives_dx_their_shape(student):
    rng = np.random.default_rng(152)
    x = rng.normal(size=(3, 2, 2))
    W, b, dout = rng.normal(size=(4, 2)), rng.normal(size=2), rng.normal(size=(3, 2))
    expected = affine(x, W, b)
    layer = student.load("layers").Affine(fresh(W), fresh(b))
    assert_close(layer.forward(fresh(x)), expected, call_text("Affine(W, b).forward", x, seed=152))
    call = call_text("Affine.backward", dout, seed=152) + tr("fb.ctx.nd_input", n=3)
    numeric_x = numerical_gradient(backward_target(lambda v: affine(v, W, b), dout), x)
    assert_gradient(layer.backward(fresh(dout)), numeric_x, call)
    numeric_W = numerical_gradient(backward_target(lambda w: affine(x, w, b), dout), W)
    assert_gradient(layer.dW, numeric_W, call + tr("fb.ctx.then", what="layer.dW"))


@pytest.mark.exercise("chapter5.Affine")
def test_affine_with_a_batch_of_one(student):
    rng = np.random.default_rng(153)
    W, b, x, dout = rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(1, 2)), rng.normal(size=(1, 3))
    expected = affine(x, W, b)
    layer = student.load("layers").Affine(fresh(W), fresh(b))
    assert_close(layer.forward(fresh(x)), expected, call_text("Affine(W, b).forward", x, seed=153))
    call = call_text("Affine.backward", dout, seed=153)
    assert_gradient(layer.backward(fresh(dout)), dout @ W.T, call)
    assert_gradient(layer.dW, x.T @ dout, call + tr("fb.ctx.then", what="layer.dW"))
    assert_gradient(layer.db, dout[0], call + tr("fb.ctx.then", what="layer.db"))


@pytest.mark.exercise("chapter5.Affine")
def test_affine_db_is_the_sum_over_the_batch(student):
    rng = np.random.default_rng(154)
    W, b, x, dout = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    expected = affine(x, W, b)
    layer = student.load("layers").Affine(fresh(W), fresh(b))
    assert_close(layer.forward(fresh(x)), expected, call_text("Affine(W, b).forward", x, seed=154))
    call = call_text("Affine.backward", dout, seed=154)
    layer.backward(fresh(dout))
    assert_gradient(layer.db, dout.sum(axis=0), call + tr("fb.ctx.then", what="layer.db"))


@pytest.mark.exercise("chapter5.SoftmaxWithLoss")
def test_softmax_with_loss_with_label_targets(student):
    rng = np.random.default_rng(155)
    x, t = rng.normal(size=(3, 5)), rng.integers(0, 5, size=3)
    layer = student.load("layers").SoftmaxWithLoss()
    assert_close(
        layer.forward(fresh(x), fresh(t)), softmax_loss(x, t), call_text("SoftmaxWithLoss().forward", x, t, seed=155)
    )
    numeric = numerical_gradient(lambda v: softmax_loss(v, t), x)
    assert_gradient(layer.backward(), numeric, "SoftmaxWithLoss.backward()" + tr("fb.ctx.after", what="forward(x, t)") + tr("fb.what.label_t"))


@pytest.mark.exercise("chapter5.SoftmaxWithLoss")
def test_softmax_with_loss_of_large_logits_in_a_batch_of_one(student):
    x = np.array([[-900.0, 1000.0, 1001.0]])
    t = np.array([[0.0, 0.0, 1.0]])
    layer = student.load("layers").SoftmaxWithLoss()
    assert_close(layer.forward(fresh(x), fresh(t)), softmax_loss(x, t), call_text("SoftmaxWithLoss().forward", x, t))
    numeric = numerical_gradient(lambda v: softmax_loss(v, t), x)
    assert_gradient(layer.backward(1), numeric, "SoftmaxWithLoss.backward(1) for a batch of one with large logits")


@pytest.mark.exercise("chapter5.SoftmaxWithLoss")
def test_softmax_with_loss_of_a_confident_mistake_stays_finite(student):
    x = np.array([[60.0, 0.0, 1.0], [0.5, 2.0, 0.0]])
    t = np.array([1, 1])
    layer = student.load("layers").SoftmaxWithLoss()
    call = call_text("SoftmaxWithLoss().forward", x, t) + tr("fb.ctx.confidently_wrong")
    assert_close(layer.forward(fresh(x), fresh(t)), softmax_loss(x, t), call)
