"""What the chapter 6 suites (public and hidden) share: the optimizers' update rules,
Batch Normalization as the stubs state them, and builders that return fresh arrays.

Ships with student releases: reference formulas and input builders only, no expected values
of any hidden test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from grader.grading.checks import Feedback, Synced, assert_close, call_text
from grader.util.i18n import tr

EPS = 1e-6  # the book's 10e-7

Step = Callable[[dict[str, np.ndarray], dict[str, np.ndarray]], None]


# -- optimizers -------------------------------------------------------------------------------


def start(seed: int, shapes: Mapping[str, tuple[int, ...]]) -> tuple[np.random.Generator, dict[str, np.ndarray]]:
    """A generator and fresh normal params of the given shapes (drawn in key order)."""
    rng = np.random.default_rng(seed)
    return rng, {key: rng.normal(size=shape) for key, shape in shapes.items()}


def gradients(rng: np.random.Generator, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients with magnitudes in [0.5, 1.5] and random signs: the two textbook forms of Adam
    differ by < 1e-7 there."""
    out = {}
    for key, p in params.items():
        size = rng.uniform(0.5, 1.5, size=p.shape)
        out[key] = size * rng.choice([-1.0, 1.0], size=p.shape)
    return out


def sgd(lr: float) -> Step:
    def step(p, g):
        for k in p:
            p[k] -= lr * g[k]

    return step


def momentum(lr: float, beta: float) -> Step:
    velocity: dict[str, np.ndarray] = {}

    def step(p, g):
        for k in p:
            velocity[k] = beta * velocity.get(k, 0.0) - lr * g[k]
            p[k] += velocity[k]

    return step


def adagrad(lr: float) -> Step:
    squares: dict[str, np.ndarray] = {}

    def step(p, g):
        for k in p:
            squares[k] = squares.get(k, 0.0) + g[k] ** 2
            p[k] -= lr * g[k] / (np.sqrt(squares[k]) + 1e-7)

    return step


def rmsprop(lr: float, decay: float) -> Step:
    average: dict[str, np.ndarray] = {}

    def step(p, g):
        for k in p:
            average[k] = decay * average.get(k, 0.0) + (1 - decay) * g[k] ** 2
            p[k] -= lr * g[k] / (np.sqrt(average[k]) + 1e-7)

    return step


def adam(lr: float, beta1: float, beta2: float) -> Step:
    """Textbook Adam with bias-corrected moments (the book's step-size form agrees to ~1e-7)."""
    first: dict[str, np.ndarray] = {}
    second: dict[str, np.ndarray] = {}
    count = [0]

    def step(p, g):
        count[0] += 1
        n = count[0]
        for k in p:
            first[k] = beta1 * first.get(k, 0.0) + (1 - beta1) * g[k]
            second[k] = beta2 * second.get(k, 0.0) + (1 - beta2) * g[k] ** 2
            m_hat = first[k] / (1 - beta1**n)
            v_hat = second[k] / (1 - beta2**n)
            p[k] -= lr * m_hat / (np.sqrt(v_hat) + 1e-7)

    return step


def check_steps(opt, name: str, rng, params, steps: int, reference: Step, grads_fn=gradients, seed=None) -> None:
    """Run ``steps`` updates of the student's optimizer (on ``params``, synced back after each
    call) and of ``reference`` (on a private copy) side by side, comparing after every step."""
    expected = {k: v.copy() for k, v in params.items()}
    for step in range(1, steps + 1):
        grads = grads_fn(rng, params)
        sent = {k: v.copy() for k, v in grads.items()}
        # described (and, in public tests, rebuilt) with the params as they were before this step
        # (the test's own keys only: a key the student's code added to params is its choice)
        described = call_text(f"{name}.update", {k: params[k].copy() for k in expected if k in params}, grads, seed=seed)
        synced = Synced(params)
        opt.update(synced, sent)
        reference(expected, grads)
        if synced.reshaped:  # an array came back with another shape or dtype: never a right update
            raise Feedback(tr("fb.opt.reshaped", call=described + tr("fb.opt.step", step=step, steps=steps)))
        if set(params) != set(expected):  # keys added or removed (an added key is the code's choice)
            raise Feedback(tr("fb.opt.keys", call=described + tr("fb.opt.step", step=step, steps=steps)))
        for key, want in expected.items():
            call = described + tr("fb.opt.step", step=step, steps=steps) + f": params[{key!r}]"
            if not isinstance(params.get(key), np.ndarray):
                raise Feedback(tr("fb.opt.not_array", call=call))
            assert_close(params[key], want, call, rtol=1e-6, atol=1e-7)


# -- Batch Normalization ---------------------------------------------------------------------


def bn_train(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Training mode: normalise by the batch's own mean and (biased) variance."""
    centred = x - x.mean(axis=0)
    return gamma * centred / np.sqrt(np.mean(centred**2, axis=0) + EPS) + beta


def bn_test(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Test mode: normalise by the running averages."""
    return gamma * (x - mean) / np.sqrt(var + EPS) + beta
