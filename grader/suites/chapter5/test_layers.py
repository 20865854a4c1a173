"""Public checks for chapter 5: each layer's forward against the formula, each backward
against a numerical gradient of that forward."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import Feedback, Synced, assert_close, assert_gradient, call_text, fresh
from grader.gradcheck import backward_target, numerical_gradient
from grader.i18n import tr
from grader.suites.chapter5._reference import affine, away_from_zero, pair, relu, sigmoid, softmax_loss


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
