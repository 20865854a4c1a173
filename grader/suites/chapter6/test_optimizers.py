"""Public checks for chapter 6 optimizers: a few update steps, compared with the update rule,
on params changed in place."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import Feedback, Synced, assert_close, call_text, fresh
from grader.i18n import tr
from grader.suites.chapter6._reference import adagrad, adam, check_steps, gradients, momentum, rmsprop, start

SHAPES = {"W": (2, 3), "b": (3,)}


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
