"""What the chapter 4 suites (public and hidden) share: the book's losses, central differences
(h = 1e-4), gradient descent and the sigmoid/softmax TwoLayerNet, as the stubs state them, plus
builders that return fresh arrays and helpers that set a student's network up.

Ships with student releases: reference formulas and input builders only, no expected values
of any hidden test.
"""

from __future__ import annotations

import numpy as np

from grader.boundary.proxy import type_name
from grader.grading.checks import Feedback, expect_array, fresh, reference
from grader.util.i18n import tr

H = 1e-4
KEYS = ("W1", "b1", "W2", "b2")


# -- losses ---------------------------------------------------------------------------------


def sum_squared_error(y: np.ndarray, t: np.ndarray) -> float:
    return float(0.5 * np.sum(np.square(y - t)))


def cross_entropy_error(y: np.ndarray, t: np.ndarray) -> float:
    """Mean over the batch of -log(y[label] + 1e-7); 1-D or batched y, one-hot or label t."""
    rows = y.reshape(-1, y.shape[-1])
    labels = t.reshape(rows.shape).argmax(axis=1) if t.size == y.size else t.reshape(-1)
    picked = rows[np.arange(rows.shape[0]), labels]
    return float(-np.log(picked + 1e-7).sum() / rows.shape[0])


def softmax_rows(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def probabilities(seed: int, n: int, c: int) -> np.ndarray:
    """n rows of c probabilities (a softmax of normal scores drawn from ``seed``)."""
    return softmax_rows(np.random.default_rng(seed).normal(size=(n, c)))


# -- gradients ------------------------------------------------------------------------------


def gradient(f, x: np.ndarray) -> np.ndarray:
    """Central differences with h = 1e-4, element by element, on a private copy of x."""
    point = np.array(x, dtype=np.float64)
    grad = np.zeros_like(point)
    for idx in np.ndindex(point.shape):
        keep = point[idx]
        point[idx] = keep + H
        upper = f(point)
        point[idx] = keep - H
        lower = f(point)
        point[idx] = keep
        grad[idx] = (upper - lower) / (2 * H)
    return grad


def descent(f, x: np.ndarray, lr: float, step_num: int) -> np.ndarray:
    point = np.array(x, dtype=np.float64)
    for _step in range(step_num):
        point = point - lr * gradient(f, point)
    return point


# -- TwoLayerNet (sigmoid hidden layer, softmax output) --------------------------------------


def known_params(seed: int, d: int, h: int, k: int, scale: float = 1.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(scale=scale, size=(d, h)),
        "b1": rng.normal(scale=scale, size=h),
        "W2": rng.normal(scale=scale, size=(h, k)),
        "b2": rng.normal(scale=scale, size=k),
    }


def predict(p: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    hidden = 1.0 / (1.0 + np.exp(-(x @ p["W1"] + p["b1"])))
    return softmax_rows(hidden @ p["W2"] + p["b2"])


def loss(p: dict[str, np.ndarray], x: np.ndarray, labels: np.ndarray) -> float:
    return cross_entropy_error(predict(p, x), labels)


def labels_with_accuracy(p: dict[str, np.ndarray], x: np.ndarray, k: int, wrong: list[int]) -> np.ndarray:
    """Labels that agree with the reference prediction except at the rows in ``wrong``."""
    labels = predict(p, x).argmax(axis=1)
    labels[wrong] = (labels[wrong] + 1) % k
    return labels


def net_numerical_gradient(p: dict[str, np.ndarray], x: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """The reference loss at ``p`` differentiated by central differences, parameter by parameter,
    computed once per grading session for the same ``p``, ``x`` and ``labels`` (``reference``)."""
    return reference(_net_numerical_gradient, p, x, labels)


def _net_numerical_gradient(p: dict[str, np.ndarray], x: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """The reference loss differentiated by central differences (h = 1e-4), parameter by parameter."""
    return {key: gradient(lambda v, key=key: loss({**p, key: v}, x, labels), p[key]) for key in KEYS}


def new_net(student, seed: int, *args, **kwargs):
    student.seed(seed)
    return student.load("two_layer_net").TwoLayerNet(*args, **kwargs)


def set_params(net, p: dict[str, np.ndarray]) -> None:
    """Give the student's network the test's own parameters (a private copy of them)."""
    net.params = fresh(p)


def expect_params(params, call: str, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    if not isinstance(params, dict):
        raise Feedback(tr("fb.net.params_not_dict", call=call, type=type_name(params)))
    if sorted(params) != sorted(shapes):
        raise Feedback(tr("fb.net.params_keys", call=call, got=sorted(map(str, params)), want=sorted(shapes)))
    for key, shape in shapes.items():
        expect_array(params[key], f"{call}: params[{key!r}]", shape=shape)
    return params
