"""What the chapter 3 suites (public and hidden) share: the activations and the 3-layer
forward pass as the stubs state them, and builders that return fresh arrays.

Ships with student releases: reference formulas and input builders only, no expected values
of any hidden test.
"""

from __future__ import annotations

import numpy as np


def random_array(seed: int, shape: tuple[int, ...] = (7,), scale: float = 3.0, near_zero: float = 0.5) -> np.ndarray:
    """Normal values from ``seed``; any within 1e-3 of the kink at 0 become ``near_zero``."""
    x = np.random.default_rng(seed).normal(scale=scale, size=shape)
    x[np.abs(x) < 1e-3] = near_zero
    return x


def step(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, 1, 0).astype(np.int64)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def relu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, 0.0)


def leaky_relu(x: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    return np.where(x > 0, x, x * alpha)


def softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return shifted / np.sum(shifted, axis=-1, keepdims=True)


def make_network(seed: int, sizes: tuple[int, int, int, int], scale: float = 1.0) -> dict[str, np.ndarray]:
    """Weights W1..W3 and biases b1..b3 for layer sizes (input, hidden1, hidden2, output)."""
    rng = np.random.default_rng(seed)
    net = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        net[f"W{i}"] = rng.normal(scale=scale, size=(n_in, n_out))
        net[f"b{i}"] = rng.normal(scale=scale, size=n_out)
    return net


def forward(net: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """sigmoid, sigmoid, identity (book section 3.4.3)."""
    z1 = sigmoid(x @ net["W1"] + net["b1"])
    z2 = sigmoid(z1 @ net["W2"] + net["b2"])
    return z2 @ net["W3"] + net["b3"]
