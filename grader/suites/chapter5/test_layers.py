"""Public checks for chapter 5: each layer's forward against the formula, each backward
against a numerical gradient of that forward."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import Feedback, assert_close, assert_gradient, call_text
from grader.gradcheck import backward_target, numerical_gradient


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    # |x| >= 0.2 keeps ReLU's kink far from every numerical-gradient step
    x = rng.uniform(0.2, 2.0, size=shape)
    return x * rng.choice([-1.0, 1.0], size=shape)


def _pair(value: object, call: str) -> tuple[object, object]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise Feedback(f"{call} should return two gradients, (dx, dy).")
    return value[0], value[1]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _softmax_loss(x: np.ndarray, t: np.ndarray) -> float:
    x = x - x.max(axis=1, keepdims=True)
    y = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    labels = t.argmax(axis=1) if t.ndim == 2 else t
    return float(-np.sum(np.log(y[np.arange(len(y)), labels] + 1e-7)) / len(y))


@pytest.mark.exercise("chapter5.MulLayer")
@pytest.mark.points(2)
def test_mul_layer_forward_and_swapped_gradients(student):
    rng = np.random.default_rng(50)
    x, y, dout = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    layer = student.load("layers").MulLayer()
    assert_close(layer.forward(x.copy(), y.copy()), x * y, call_text("MulLayer().forward", x, y, seed=50))
    call = call_text("MulLayer.backward", dout, seed=50) + " after forward(x, y)"
    dx, dy = _pair(layer.backward(dout.copy()), call)
    assert_gradient(dx, dout * y, call + " -> dx")
    assert_gradient(dy, dout * x, call + " -> dy")


@pytest.mark.exercise("chapter5.MulLayer")
def test_mul_layer_apple_example(student):
    # the book's apple example: 2 apples at 100 each, 10% tax
    mod = student.load("layers")
    apple, tax = mod.MulLayer(), mod.MulLayer()
    price = tax.forward(apple.forward(100.0, 2.0), 1.1)
    assert_close(price, 220.0, "tax.forward(apple.forward(100.0, 2.0), 1.1)")
    dprice, dtax = _pair(tax.backward(1.0), "tax.backward(1.0)")
    assert_close(dtax, 200.0, "tax.backward(1.0) -> dtax")
    dapple, dnum = _pair(apple.backward(dprice), "apple.backward(dprice)")
    assert_close(dapple, 2.2, "apple.backward(dprice) -> dapple")
    assert_close(dnum, 110.0, "apple.backward(dprice) -> dapple_num")


@pytest.mark.exercise("chapter5.AddLayer")
@pytest.mark.points(2)
def test_add_layer_passes_gradient_through(student):
    rng = np.random.default_rng(51)
    x, y, dout = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    layer = student.load("layers").AddLayer()
    assert_close(layer.forward(x.copy(), y.copy()), x + y, call_text("AddLayer().forward", x, y, seed=51))
    call = call_text("AddLayer.backward", dout, seed=51)
    dx, dy = _pair(layer.backward(dout.copy()), call)
    assert_gradient(dx, dout, call + " -> dx")
    assert_gradient(dy, dout, call + " -> dy")


@pytest.mark.exercise("chapter5.Relu")
@pytest.mark.points(2)
def test_relu_forward_and_backward(student):
    rng = np.random.default_rng(52)
    x, dout = _away_from_zero(rng, (3, 4)), rng.normal(size=(3, 4))
    layer = student.load("layers").Relu()
    assert_close(layer.forward(x.copy().copy()), np.maximum(0, x), call_text("Relu().forward", x, seed=52))
    numeric = numerical_gradient(backward_target(lambda v: np.maximum(0, v), dout), x)
    assert_gradient(layer.backward(dout.copy()), numeric, call_text("Relu.backward", dout, seed=52))


@pytest.mark.exercise("chapter5.Sigmoid")
@pytest.mark.points(2)
def test_sigmoid_forward_and_backward(student):
    rng = np.random.default_rng(53)
    x, dout = rng.normal(scale=2.0, size=(3, 4)), rng.normal(size=(3, 4))
    layer = student.load("layers").Sigmoid()
    assert_close(layer.forward(x.copy().copy()), _sigmoid(x), call_text("Sigmoid().forward", x, seed=53))
    numeric = numerical_gradient(backward_target(_sigmoid, dout), x)
    assert_gradient(layer.backward(dout.copy()), numeric, call_text("Sigmoid.backward", dout, seed=53))


@pytest.mark.exercise("chapter5.Affine")
def test_affine_forward(student):
    rng = np.random.default_rng(54)
    W, b, x = rng.normal(size=(4, 2)), rng.normal(size=2), rng.normal(size=(3, 4))
    layer = student.load("layers").Affine(W, b)
    assert_close(layer.forward(x.copy()), x @ W + b, call_text("Affine(W, b).forward", x, seed=54))


@pytest.mark.exercise("chapter5.Affine")
@pytest.mark.points(3)
def test_affine_backward_gives_dx_dW_db(student):
    rng = np.random.default_rng(55)
    W, b, x, dout = rng.normal(size=(4, 2)), rng.normal(size=2), rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    layer = student.load("layers").Affine(W, b)
    assert_close(layer.forward(x.copy()), x @ W + b, call_text("Affine(W, b).forward", x, seed=55))
    call = call_text("Affine.backward", dout, seed=55)
    assert_gradient(
        layer.backward(dout.copy()), numerical_gradient(backward_target(lambda v: v @ W + b, dout), x), call
    )
    num_W = numerical_gradient(backward_target(lambda w: x @ w + b, dout), W)
    assert_gradient(layer.dW, num_W, call + ", then layer.dW")
    num_b = numerical_gradient(backward_target(lambda c: x @ W + c, dout), b)
    assert_gradient(layer.db, num_b, call + ", then layer.db")


@pytest.mark.exercise("chapter5.SoftmaxWithLoss")
@pytest.mark.points(2)
def test_softmax_with_loss_forward_one_hot(student):
    rng = np.random.default_rng(56)
    x = rng.normal(size=(4, 3))
    t = np.eye(3)[rng.integers(0, 3, size=4)]
    layer = student.load("layers").SoftmaxWithLoss()
    assert_close(
        layer.forward(x.copy(), t.copy()), _softmax_loss(x, t), call_text("SoftmaxWithLoss().forward", x, t, seed=56)
    )


@pytest.mark.exercise("chapter5.SoftmaxWithLoss")
@pytest.mark.points(2)
def test_softmax_with_loss_backward_matches_numerical_gradient(student):
    rng = np.random.default_rng(57)
    x = rng.normal(size=(4, 3))
    t = np.eye(3)[rng.integers(0, 3, size=4)]
    layer = student.load("layers").SoftmaxWithLoss()
    assert_close(
        layer.forward(x.copy(), t.copy()), _softmax_loss(x, t), call_text("SoftmaxWithLoss().forward", x, t, seed=57)
    )
    numeric = numerical_gradient(lambda v: _softmax_loss(v, t), x)
    assert_gradient(
        layer.backward(1), numeric, call_text("SoftmaxWithLoss.backward", 1, seed=57) + " after forward(x, t)"
    )
