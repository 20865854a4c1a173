"""Public checks for chapter 6 optimizers: a few update steps, compared with the update rule,
on params changed in place."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import Feedback, Synced, assert_close, call_text


def _start(seed: int) -> tuple[np.random.Generator, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return rng, {"W": rng.normal(size=(2, 3)), "b": rng.normal(size=3)}


def _grads(rng: np.random.Generator, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    # magnitudes in [0.5, 1.5]: the two textbook forms of Adam differ by < 1e-7 there
    out = {}
    for key, p in params.items():
        g = rng.uniform(0.5, 1.5, size=p.shape)
        out[key] = g * rng.choice([-1.0, 1.0], size=p.shape)
    return out


def _check_steps(opt, name: str, seed: int, steps: int, reference, grads_fn=_grads) -> None:
    """Run ``steps`` updates on the student's optimizer and on ``reference`` side by side."""
    rng, params = _start(seed)
    expected = {k: v.copy() for k, v in params.items()}
    for step in range(1, steps + 1):
        grads = grads_fn(rng, params)
        sent = {k: v.copy() for k, v in grads.items()}
        opt.update(Synced(params), sent)
        reference(expected, grads)
        for key, want in expected.items():
            call = call_text(f"{name}.update", params, grads, seed=seed) + f", step {step} of {steps}: params[{key!r}]"
            if not isinstance(params.get(key), np.ndarray):
                raise Feedback(f"{call} is no longer an array; update the arrays in params in place.")
            assert_close(params[key], want, call, rtol=1e-6, atol=1e-7)


def _not_in_place(params: dict[str, np.ndarray], before: dict[str, np.ndarray], call: str) -> None:
    if all(np.array_equal(params[k], before[k]) for k in params):
        raise Feedback(
            f"{call} left params unchanged. Update the arrays inside the dict in place "
            "(params[key] -= ...); assigning a new dict to the local name params changes nothing for the caller."
        )


@pytest.mark.exercise("chapter6.SGD")
@pytest.mark.points(2)
def test_sgd_updates_params_in_place(student):
    rng, params = _start(60)
    before = {k: v.copy() for k, v in params.items()}
    grads = _grads(rng, params)
    student.load("optimizers").SGD(lr=0.1).update(Synced(params), grads)
    call = call_text("SGD(lr=0.1).update", params, grads, seed=60)
    _not_in_place(params, before, call)
    for key in params:
        assert_close(params[key], before[key] - 0.1 * grads[key], f"{call}: params[{key!r}]")


@pytest.mark.exercise("chapter6.Momentum")
@pytest.mark.points(2)
def test_momentum_three_steps(student):
    v: dict[str, np.ndarray] = {}

    def reference(p, g):
        for k in p:
            v[k] = 0.9 * v.get(k, 0.0) - 0.1 * g[k]
            p[k] += v[k]

    opt = student.load("optimizers").Momentum(lr=0.1, momentum=0.9)
    _check_steps(opt, "Momentum(lr=0.1, momentum=0.9)", 61, 3, reference)


def _with_tiny(rng: np.random.Generator, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    grads = _grads(rng, params)
    grads["W"][0, 0] = 0.0  # a unit that gets no gradient at all
    grads["W"][1, 2] = 1e-6  # and one with a very small gradient
    return grads


@pytest.mark.exercise("chapter6.AdaGrad")
@pytest.mark.points(2)
def test_adagrad_three_steps(student):
    h: dict[str, np.ndarray] = {}

    def reference(p, g):
        for k in p:
            h[k] = h.get(k, 0.0) + g[k] * g[k]
            p[k] -= 0.1 * g[k] / (np.sqrt(h[k]) + 1e-7)

    opt = student.load("optimizers").AdaGrad(lr=0.1)
    _check_steps(opt, "AdaGrad(lr=0.1)", 62, 3, reference, _with_tiny)


@pytest.mark.exercise("chapter6.RMSprop")
@pytest.mark.points(2)
def test_rmsprop_three_steps(student):
    h: dict[str, np.ndarray] = {}

    def reference(p, g):
        for k in p:
            h[k] = 0.9 * h.get(k, 0.0) + 0.1 * g[k] * g[k]
            p[k] -= 0.05 * g[k] / (np.sqrt(h[k]) + 1e-7)

    opt = student.load("optimizers").RMSprop(lr=0.05, decay_rate=0.9)
    _check_steps(opt, "RMSprop(lr=0.05, decay_rate=0.9)", 63, 3, reference, _with_tiny)


@pytest.mark.exercise("chapter6.Adam")
@pytest.mark.points(2)
def test_adam_three_steps(student):
    state: dict[str, dict[str, np.ndarray]] = {"m": {}, "v": {}}
    t = [0]

    def reference(p, g):
        # textbook form: bias-corrected moments
        t[0] += 1
        for k in p:
            m = state["m"][k] = 0.9 * state["m"].get(k, 0.0) + 0.1 * g[k]
            v = state["v"][k] = 0.999 * state["v"].get(k, 0.0) + 0.001 * g[k] ** 2
            m_hat, v_hat = m / (1 - 0.9 ** t[0]), v / (1 - 0.999 ** t[0])
            p[k] -= 0.01 * m_hat / (np.sqrt(v_hat) + 1e-7)

    opt = student.load("optimizers").Adam(lr=0.01, beta1=0.9, beta2=0.999)
    _check_steps(opt, "Adam(lr=0.01, beta1=0.9, beta2=0.999)", 64, 3, reference)
