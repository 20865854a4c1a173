"""Public checks for chapter 6 optimizers: a few update steps, compared with the update rule,
on params changed in place."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pytest

from grader.grading.checks import Feedback, Synced, assert_close, call_text, fresh
from grader.suites.chapter6._reference import adagrad, adam, check_steps, gradients, momentum, rmsprop, sgd, start
from grader.util.i18n import tr

SHAPES = MappingProxyType({"W": (2, 3), "b": (3,)})  # read-only: shared by every target


def _with_tiny(rng: np.random.Generator, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    grads = gradients(rng, params)
    grads["W"][0, 0] = 0.0  # a unit that gets no gradient at all
    grads["W"][1, 2] = 1e-6  # and one with a very small gradient
    return grads


def _not_in_place(params: dict[str, np.ndarray], before: dict[str, np.ndarray], call: str) -> None:
    if all(np.array_equal(params[k], before[k]) for k in before):
        raise Feedback(tr("fb.opt.unchanged", call=call))


@pytest.mark.exercise("chapter6.SGD")
@pytest.mark.points(2)
def test_sgd_updates_params_in_place(student):
    rng, params = start(60, SHAPES)
    before = fresh(params)
    grads = gradients(rng, params)
    synced = Synced(params)
    student.load("optimizers").SGD(lr=0.1).update(synced, fresh(grads))
    call = call_text("SGD(lr=0.1).update", before, grads, seed=60)
    if synced.reshaped:  # an array came back with another shape or dtype: never a right update
        raise Feedback(tr("fb.opt.reshaped", call=call))
    if set(params) != set(before):  # keys added or removed (an added key is the code's choice)
        raise Feedback(tr("fb.opt.keys", call=call))
    # Every key the test gave, never the keys the student's dict came back with: an update
    # that deletes what it did not update must not have those keys skipped.
    for key in before:
        if not isinstance(params.get(key), np.ndarray):
            raise Feedback(tr("fb.opt.not_array", call=f"{call}: params[{key!r}]"))
    _not_in_place(params, before, call)
    for key in before:
        assert_close(params[key], before[key] - 0.1 * grads[key], f"{call}: params[{key!r}]")


@pytest.mark.exercise("chapter6.Momentum")
@pytest.mark.points(2)
def test_momentum_three_steps(student):
    opt = student.load("optimizers").Momentum(lr=0.1, momentum=0.9)
    rng, params = start(61, SHAPES)
    check_steps(opt, "Momentum(lr=0.1, momentum=0.9)", rng, params, 3, momentum(0.1, 0.9), seed=61)


@pytest.mark.exercise("chapter6.AdaGrad")
@pytest.mark.points(2)
def test_adagrad_three_steps(student):
    opt = student.load("optimizers").AdaGrad(lr=0.1)
    rng, params = start(62, SHAPES)
    check_steps(opt, "AdaGrad(lr=0.1)", rng, params, 3, adagrad(0.1), _with_tiny, seed=62)


@pytest.mark.exercise("chapter6.RMSprop")
@pytest.mark.points(2)
def test_rmsprop_three_steps(student):
    opt = student.load("optimizers").RMSprop(lr=0.05, decay_rate=0.9)
    rng, params = start(63, SHAPES)
    check_steps(opt, "RMSprop(lr=0.05, decay_rate=0.9)", rng, params, 3, rmsprop(0.05, 0.9), _with_tiny, seed=63)


@pytest.mark.exercise("chapter6.Adam")
@pytest.mark.points(2)
def test_adam_three_steps(student):
    opt = student.load("optimizers").Adam(lr=0.01, beta1=0.9, beta2=0.999)
    rng, params = start(64, SHAPES)
    check_steps(opt, "Adam(lr=0.01, beta1=0.9, beta2=0.999)", rng, params, 3, adam(0.01, 0.9, 0.999), seed=64)


# --- the kinds of check the hidden tests make, on other inputs: default hyperparameters
# over more steps, non-default arguments, zero and tiny gradients, independent state ----

OTHER_SHAPES = MappingProxyType({"w": (4,), "K": (2, 1, 3)})


def _check_other(opt, name: str, seed: int, steps: int, reference, grads_fn=gradients) -> None:
    rng, params = start(seed, OTHER_SHAPES)
    check_steps(opt, name, rng, params, steps, reference, grads_fn, seed=seed)


def _zero_w(rng, params):
    grads = gradients(rng, params)
    grads["w"][:] = 0.0  # a parameter that gets no gradient: its step must be 0
    return grads


@pytest.mark.exercise("chapter6.SGD")
def test_sgd_default_lr_on_other_shapes(student):
    _check_other(student.load("optimizers").SGD(), "SGD()", 170, 3, sgd(0.01))


@pytest.mark.exercise("chapter6.Momentum")
def test_momentum_defaults_over_six_steps(student):
    _check_other(student.load("optimizers").Momentum(), "Momentum()", 171, 6, momentum(0.01, 0.9))


@pytest.mark.exercise("chapter6.Momentum")
def test_momentum_with_another_momentum(student):
    opt = student.load("optimizers").Momentum(lr=0.1, momentum=0.3)
    _check_other(opt, "Momentum(lr=0.1, momentum=0.3)", 172, 3, momentum(0.1, 0.3))


@pytest.mark.exercise("chapter6.Momentum")
def test_each_momentum_optimizer_keeps_its_own_velocity(student):
    mod = student.load("optimizers")
    first, second = mod.Momentum(lr=0.2, momentum=0.8), mod.Momentum(lr=0.2, momentum=0.8)
    rng, params = start(173, OTHER_SHAPES)
    ref = momentum(0.2, 0.8)
    expected = fresh(params)
    for _ in range(2):
        grads = gradients(rng, params)
        first.update(Synced(params), fresh(grads))
        ref(expected, grads)
        second.update(fresh(params), gradients(rng, params))
    call = "two Momentum(lr=0.2, momentum=0.8) objects used in turn; the first one's params['K']"
    assert_close(params["K"], expected["K"], call, rtol=1e-6, atol=1e-7)


@pytest.mark.exercise("chapter6.AdaGrad")
def test_adagrad_defaults_over_six_steps(student):
    _check_other(student.load("optimizers").AdaGrad(), "AdaGrad()", 174, 6, adagrad(0.01))


@pytest.mark.exercise("chapter6.AdaGrad")
def test_adagrad_leaves_a_param_with_zero_gradient_alone(student):
    _check_other(student.load("optimizers").AdaGrad(lr=0.3), "AdaGrad(lr=0.3)", 175, 2, adagrad(0.3), _zero_w)


@pytest.mark.exercise("chapter6.RMSprop")
def test_rmsprop_defaults_over_six_steps(student):
    _check_other(student.load("optimizers").RMSprop(), "RMSprop()", 176, 6, rmsprop(0.01, 0.99))


@pytest.mark.exercise("chapter6.RMSprop")
def test_rmsprop_leaves_a_param_with_zero_gradient_alone(student):
    opt = student.load("optimizers").RMSprop(lr=0.05, decay_rate=0.7)
    _check_other(opt, "RMSprop(lr=0.05, decay_rate=0.7)", 177, 2, rmsprop(0.05, 0.7), _zero_w)


@pytest.mark.exercise("chapter6.Adam")
def test_adam_defaults_over_six_steps(student):
    _check_other(student.load("optimizers").Adam(), "Adam()", 178, 6, adam(0.001, 0.9, 0.999))


@pytest.mark.exercise("chapter6.Adam")
def test_adam_with_other_betas(student):
    opt = student.load("optimizers").Adam(lr=0.02, beta1=0.6, beta2=0.9)
    _check_other(opt, "Adam(lr=0.02, beta1=0.6, beta2=0.9)", 179, 3, adam(0.02, 0.6, 0.9))


@pytest.mark.exercise("chapter6.Adam")
def test_adam_leaves_a_param_with_zero_gradient_alone(student):
    opt = student.load("optimizers").Adam(lr=0.02)
    _check_other(opt, "Adam(lr=0.02)", 180, 2, adam(0.02, 0.9, 0.999), _zero_w)


@pytest.mark.exercise("chapter6.Adam")
def test_adam_adds_its_epsilon_for_tiny_gradients(student):
    # beta2 = 0: the step-size form and the m_hat/v_hat form agree exactly, so the 1e-7 next
    # to sqrt(v) shows on gradients of that size
    def tiny_w(rng, params):
        grads = gradients(rng, params)
        grads["w"] = grads["w"] * 1e-7
        return grads

    opt = student.load("optimizers").Adam(lr=0.05, beta1=0.8, beta2=0.0)
    _check_other(opt, "Adam(lr=0.05, beta1=0.8, beta2=0.0)", 181, 2, adam(0.05, 0.8, 0.0), tiny_w)
