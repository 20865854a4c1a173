"""Hidden checks for chapter 6 optimizers: the book's default hyperparameters, many steps,
several parameter shapes, zero gradients and independent state per optimizer."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from grader.grading.checks import Synced, assert_close, fresh
from grader.suites.chapter6._reference import adagrad, adam, check_steps, gradients, momentum, rmsprop, sgd, start

SHAPES = MappingProxyType({"W1": (3, 2), "b1": (2,), "W2": (2, 2, 2)})  # read-only


def _check_steps(opt, name: str, seed: int, steps: int, reference, grads_fn=gradients) -> None:
    rng, params = start(seed, SHAPES)
    check_steps(opt, name, rng, params, steps, reference, grads_fn, seed=seed)


@pytest.mark.exercise("chapter6.SGD")
def test_sgd_default_lr_on_several_shapes(student):
    _check_steps(student.load("optimizers").SGD(), "SGD()", 70, 2, sgd(0.01))


@pytest.mark.exercise("chapter6.Momentum")
@pytest.mark.points(2)
def test_momentum_defaults_over_eight_steps(student):
    _check_steps(student.load("optimizers").Momentum(), "Momentum()", 71, 8, momentum(0.01, 0.9))


@pytest.mark.exercise("chapter6.Momentum")
def test_momentum_uses_its_momentum_argument(student):
    opt = student.load("optimizers").Momentum(lr=0.2, momentum=0.5)
    _check_steps(opt, "Momentum(lr=0.2, momentum=0.5)", 72, 3, momentum(0.2, 0.5))


@pytest.mark.exercise("chapter6.Momentum")
def test_two_momentum_optimizers_keep_separate_velocities(student):
    mod = student.load("optimizers")
    first, second = mod.Momentum(lr=0.1, momentum=0.9), mod.Momentum(lr=0.1, momentum=0.9)
    rng, params = start(73, SHAPES)
    ref = momentum(0.1, 0.9)
    expected = fresh(params)
    for _ in range(2):
        grads = gradients(rng, params)
        first.update(Synced(params), fresh(grads))
        ref(expected, grads)
        second.update(fresh(params), gradients(rng, params))
    call = "two Momentum(lr=0.1, momentum=0.9) objects used in turn; the first one's params['W1']"
    assert_close(params["W1"], expected["W1"], call, rtol=1e-6, atol=1e-7)


@pytest.mark.exercise("chapter6.AdaGrad")
@pytest.mark.points(2)
def test_adagrad_defaults_over_eight_steps(student):
    _check_steps(student.load("optimizers").AdaGrad(), "AdaGrad()", 74, 8, adagrad(0.01))


@pytest.mark.exercise("chapter6.AdaGrad")
def test_adagrad_zero_gradient_leaves_param_unchanged(student):
    def zero_first(rng, params):
        grads = gradients(rng, params)
        grads["b1"][:] = 0.0
        return grads

    _check_steps(student.load("optimizers").AdaGrad(lr=0.5), "AdaGrad(lr=0.5)", 75, 2, adagrad(0.5), zero_first)


@pytest.mark.exercise("chapter6.RMSprop")
@pytest.mark.points(2)
def test_rmsprop_defaults_over_eight_steps(student):
    _check_steps(student.load("optimizers").RMSprop(), "RMSprop()", 76, 8, rmsprop(0.01, 0.99))


@pytest.mark.exercise("chapter6.RMSprop")
def test_rmsprop_zero_gradient_leaves_param_unchanged(student):
    def zero_first(rng, params):
        grads = gradients(rng, params)
        grads["b1"][:] = 0.0
        return grads

    opt = student.load("optimizers").RMSprop(lr=0.1, decay_rate=0.5)
    _check_steps(opt, "RMSprop(lr=0.1, decay_rate=0.5)", 77, 2, rmsprop(0.1, 0.5), zero_first)


@pytest.mark.exercise("chapter6.Adam")
@pytest.mark.points(2)
def test_adam_defaults_over_ten_steps(student):
    _check_steps(student.load("optimizers").Adam(), "Adam()", 78, 10, adam(0.001, 0.9, 0.999))


@pytest.mark.exercise("chapter6.Adam")
def test_adam_uses_its_beta_arguments(student):
    opt = student.load("optimizers").Adam(lr=0.05, beta1=0.5, beta2=0.8)
    _check_steps(opt, "Adam(lr=0.05, beta1=0.5, beta2=0.8)", 79, 4, adam(0.05, 0.5, 0.8))


@pytest.mark.exercise("chapter6.Adam")
def test_adam_zero_gradient_leaves_param_unchanged(student):
    def zero_first(rng, params):
        grads = gradients(rng, params)
        grads["b1"][:] = 0.0  # a unit that never gets a gradient: m = v = 0, the step must be 0
        return grads

    opt = student.load("optimizers").Adam(lr=0.01)
    _check_steps(opt, "Adam(lr=0.01)", 80, 3, adam(0.01, 0.9, 0.999), zero_first)


@pytest.mark.exercise("chapter6.Adam")
def test_adam_epsilon_with_tiny_gradients(student):
    # with beta2 = 0 the book's step-size form and the m_hat/v_hat form agree exactly,
    # so the 1e-7 next to sqrt(v) can be seen on gradients of that size
    def tiny_b1(rng, params):
        grads = gradients(rng, params)
        grads["b1"] = grads["b1"] * 1e-7
        return grads

    opt = student.load("optimizers").Adam(lr=0.01, beta1=0.9, beta2=0.0)
    _check_steps(opt, "Adam(lr=0.01, beta1=0.9, beta2=0.0)", 81, 2, adam(0.01, 0.9, 0.0), tiny_b1)
