"""What the chapter 5 suites (public and hidden) share: the layers' formulas and the
Affine -> ReLU -> Affine -> SoftmaxWithLoss network as the stubs state them, builders that
return fresh arrays, and the set-up of a student's TwoLayerNet with parameters the test knows.

Ships with student releases: reference formulas and input builders only, no expected values
of any hidden test.
"""

from __future__ import annotations

import numpy as np

from grader.grading.checks import Feedback, assert_close, call_text, expect_array, fresh, reference
from grader.grading.gradcheck import numerical_gradient
from grader.util.i18n import tr

KEYS = ("W1", "b1", "W2", "b2")


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values with 0.2 <= |x| <= 2: ReLU's kink stays far from every numerical-gradient step."""
    magnitude = rng.uniform(0.2, 2.0, size=shape)
    return magnitude * rng.choice([-1.0, 1.0], size=shape)


def relu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, 0.0)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def affine(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x flattened to (N, -1), times W, plus b."""
    return x.reshape(x.shape[0], -1) @ W + b


def softmax_loss(scores: np.ndarray, t: np.ndarray) -> float:
    """Mean cross-entropy (1e-7 inside the log) of the row-wise softmax; one-hot or label t."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    y = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    labels = t.argmax(axis=1) if t.ndim == 2 else t
    return float(-np.log(y[np.arange(y.shape[0]), labels] + 1e-7).sum() / y.shape[0])


def pair(value: object, call: str) -> tuple[object, object]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise Feedback(tr("fb.layer.pair", call=call))
    return value[0], value[1]


# -- TwoLayerNet ------------------------------------------------------------------------------


def net_scores(p: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    return relu(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]


def net_loss(p: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> float:
    return softmax_loss(net_scores(p, x), t)


def net_numerical_gradient(p: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """The reference loss at ``p`` differentiated by central differences, parameter by parameter,
    computed once per grading session for the same ``p``, ``x`` and ``t`` (``reference``)."""
    return reference(_net_numerical_gradient, p, x, t)


def _net_numerical_gradient(p: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """The reference loss at ``p`` differentiated by central differences, parameter by parameter."""
    return {key: numerical_gradient(lambda v, key=key: net_loss({**p, key: v}, x, t), p[key]) for key in KEYS}


def stub_init_params(seed: int, sizes: tuple[int, int, int], std: float) -> dict[str, np.ndarray]:
    """The params the stub's own ``__init__`` draws after ``np.random.seed(seed)``: W1 then W2
    from ``weight_init_std * np.random.randn``, zero biases."""
    i, h, o = sizes
    rs = np.random.RandomState(seed)
    W1 = std * rs.randn(i, h)
    W2 = std * rs.randn(h, o)
    return {"W1": W1, "b1": np.zeros(h), "W2": W2, "b2": np.zeros(o)}


def params_of(net: object, sizes: tuple[int, int, int]) -> dict[str, np.ndarray]:
    """The student's params, checked for keys and shapes."""
    params = net.params
    if not isinstance(params, dict) or set(params) != set(KEYS):
        raise Feedback(tr("fb.net.params_dict", want=list(KEYS)))
    i, h, o = sizes
    shapes = {"W1": (i, h), "b1": (h,), "W2": (h, o), "b2": (o,)}
    return {k: expect_array(params[k], f"net.params[{k!r}]", shape=shapes[k]) for k in KEYS}


def known_net(student, seed: int, sizes: tuple[int, int, int], std: float = 0.5):
    """A student's TwoLayerNet whose parameters are the test's own: ``(net, p)``.

    The network is built after seeding the worker, so the stub's ``__init__`` draws exactly
    ``stub_init_params(seed, ...)``. A network whose params are something else (drawn another
    way — or chosen by the network itself) is given the test's params by assignment,
    ``net.params = {...}``. Either way the caller checks that the network really computes with
    ``p`` (``check_loss``) before trusting anything measured at ``p``.
    """
    student.seed(seed)
    net = student.load("two_layer_net").TwoLayerNet(*sizes, weight_init_std=std)
    p = stub_init_params(seed, sizes, std)
    reported = params_of(net, sizes)
    if not all(np.allclose(reported[k], p[k], rtol=1e-12, atol=0) for k in KEYS):
        net.params = fresh(p)
    return net, p


def check_loss(net, p: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray, seed: int) -> None:
    """The gate before any gradient check: the student's loss is the reference loss at ``p``."""
    call = call_text("net.loss", x, t, seed=seed)
    expected = net_loss(p, x, t)
    got = net.loss(fresh(x), fresh(t))
    try:
        assert_close(got, expected, call)
    except Feedback as exc:
        raise Feedback((exc.args[0] if exc.args else "") + " " + tr("fb.net.loss_from_params")) from None
