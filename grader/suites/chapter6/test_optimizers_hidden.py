"""Hidden checks for chapter 6 optimizers: the book's default hyperparameters, many steps,
several parameter shapes, zero gradients and independent state per optimizer."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import Feedback, Synced, assert_close, call_text


def _start(seed: int) -> tuple[np.random.Generator, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return rng, {"W1": rng.normal(size=(3, 2)), "b1": rng.normal(size=2), "W2": rng.normal(size=(2, 2, 2))}


def _grads(rng: np.random.Generator, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for key, p in params.items():
        g = rng.uniform(0.5, 1.5, size=p.shape)
        out[key] = g * rng.choice([-1.0, 1.0], size=p.shape)
    return out


def _check_steps(opt, name: str, seed: int, steps: int, reference, grads_fn=_grads) -> None:
    rng, params = _start(seed)
    expected = {k: v.copy() for k, v in params.items()}
    for step in range(1, steps + 1):
        grads = grads_fn(rng, params)
        opt.update(Synced(params), {k: v.copy() for k, v in grads.items()})
        reference(expected, grads)
        for key, want in expected.items():
            call = call_text(f"{name}.update", params, grads, seed=seed) + f", step {step} of {steps}: params[{key!r}]"
            if not isinstance(params.get(key), np.ndarray):
                raise Feedback(f"{call} is no longer an array; update the arrays in params in place.")
            assert_close(params[key], want, call, rtol=1e-6, atol=1e-7)


def _momentum(lr: float, momentum: float):
    v: dict[str, np.ndarray] = {}

    def step(p, g):
        for k in p:
            v[k] = momentum * v.get(k, 0.0) - lr * g[k]
            p[k] += v[k]

    return step


def _adagrad(lr: float):
    h: dict[str, np.ndarray] = {}

    def step(p, g):
        for k in p:
            h[k] = h.get(k, 0.0) + g[k] * g[k]
            p[k] -= lr * g[k] / (np.sqrt(h[k]) + 1e-7)

    return step


def _rmsprop(lr: float, decay: float):
    h: dict[str, np.ndarray] = {}

    def step(p, g):
        for k in p:
            h[k] = decay * h.get(k, 0.0) + (1 - decay) * g[k] * g[k]
            p[k] -= lr * g[k] / (np.sqrt(h[k]) + 1e-7)

    return step


def _adam(lr: float, beta1: float, beta2: float):
    m: dict[str, np.ndarray] = {}
    v: dict[str, np.ndarray] = {}
    t = [0]

    def step(p, g):
        t[0] += 1
        for k in p:
            m[k] = beta1 * m.get(k, 0.0) + (1 - beta1) * g[k]
            v[k] = beta2 * v.get(k, 0.0) + (1 - beta2) * g[k] ** 2
            m_hat, v_hat = m[k] / (1 - beta1 ** t[0]), v[k] / (1 - beta2 ** t[0])
            p[k] -= lr * m_hat / (np.sqrt(v_hat) + 1e-7)

    return step


@pytest.mark.exercise("chapter6.SGD")
def test_sgd_default_lr_on_several_shapes(student):
    def reference(p, g):
        for k in p:
            p[k] -= 0.01 * g[k]

    _check_steps(student.load("optimizers").SGD(), "SGD()", 70, 2, reference)


@pytest.mark.exercise("chapter6.Momentum")
@pytest.mark.points(2)
def test_momentum_defaults_over_eight_steps(student):
    _check_steps(student.load("optimizers").Momentum(), "Momentum()", 71, 8, _momentum(0.01, 0.9))


@pytest.mark.exercise("chapter6.Momentum")
def test_momentum_uses_its_momentum_argument(student):
    opt = student.load("optimizers").Momentum(lr=0.2, momentum=0.5)
    _check_steps(opt, "Momentum(lr=0.2, momentum=0.5)", 72, 3, _momentum(0.2, 0.5))


@pytest.mark.exercise("chapter6.Momentum")
def test_two_momentum_optimizers_keep_separate_velocities(student):
    mod = student.load("optimizers")
    first, second = mod.Momentum(lr=0.1, momentum=0.9), mod.Momentum(lr=0.1, momentum=0.9)
    rng, params = _start(73)
    ref = _momentum(0.1, 0.9)
    expected = {k: v.copy() for k, v in params.items()}
    for _ in range(2):
        grads = _grads(rng, params)
        first.update(Synced(params), {k: v.copy() for k, v in grads.items()})
        ref(expected, grads)
        second.update({k: v.copy() for k, v in params.items()}, _grads(rng, params))
    call = "two Momentum(lr=0.1, momentum=0.9) objects used in turn; the first one's params['W1']"
    assert_close(params["W1"], expected["W1"], call, rtol=1e-6, atol=1e-7)


@pytest.mark.exercise("chapter6.AdaGrad")
@pytest.mark.points(2)
def test_adagrad_defaults_over_eight_steps(student):
    _check_steps(student.load("optimizers").AdaGrad(), "AdaGrad()", 74, 8, _adagrad(0.01))


@pytest.mark.exercise("chapter6.AdaGrad")
def test_adagrad_zero_gradient_leaves_param_unchanged(student):
    def zero_first(rng, params):
        grads = _grads(rng, params)
        grads["b1"][:] = 0.0
        return grads

    _check_steps(student.load("optimizers").AdaGrad(lr=0.5), "AdaGrad(lr=0.5)", 75, 2, _adagrad(0.5), zero_first)


@pytest.mark.exercise("chapter6.RMSprop")
@pytest.mark.points(2)
def test_rmsprop_defaults_over_eight_steps(student):
    _check_steps(student.load("optimizers").RMSprop(), "RMSprop()", 76, 8, _rmsprop(0.01, 0.99))


@pytest.mark.exercise("chapter6.RMSprop")
def test_rmsprop_zero_gradient_leaves_param_unchanged(student):
    def zero_first(rng, params):
        grads = _grads(rng, params)
        grads["b1"][:] = 0.0
        return grads

    opt = student.load("optimizers").RMSprop(lr=0.1, decay_rate=0.5)
    _check_steps(opt, "RMSprop(lr=0.1, decay_rate=0.5)", 77, 2, _rmsprop(0.1, 0.5), zero_first)


@pytest.mark.exercise("chapter6.Adam")
@pytest.mark.points(2)
def test_adam_defaults_over_ten_steps(student):
    _check_steps(student.load("optimizers").Adam(), "Adam()", 78, 10, _adam(0.001, 0.9, 0.999))


@pytest.mark.exercise("chapter6.Adam")
def test_adam_uses_its_beta_arguments(student):
    opt = student.load("optimizers").Adam(lr=0.05, beta1=0.5, beta2=0.8)
    _check_steps(opt, "Adam(lr=0.05, beta1=0.5, beta2=0.8)", 79, 4, _adam(0.05, 0.5, 0.8))


@pytest.mark.exercise("chapter6.Adam")
def test_adam_zero_gradient_leaves_param_unchanged(student):
    def zero_first(rng, params):
        grads = _grads(rng, params)
        grads["b1"][:] = 0.0  # a unit that never gets a gradient: m = v = 0, the step must be 0
        return grads

    opt = student.load("optimizers").Adam(lr=0.01)
    _check_steps(opt, "Adam(lr=0.01)", 80, 3, _adam(0.01, 0.9, 0.999), zero_first)


@pytest.mark.exercise("chapter6.Adam")
def test_adam_epsilon_with_tiny_gradients(student):
    # with beta2 = 0 the book's step-size form and the m_hat/v_hat form agree exactly,
    # so the 1e-7 next to sqrt(v) can be seen on gradients of that size
    def tiny_b1(rng, params):
        grads = _grads(rng, params)
        grads["b1"] = grads["b1"] * 1e-7
        return grads

    opt = student.load("optimizers").Adam(lr=0.01, beta1=0.9, beta2=0.0)
    _check_steps(opt, "Adam(lr=0.01, beta1=0.9, beta2=0.0)", 81, 2, _adam(0.01, 0.9, 0.0), tiny_b1)
