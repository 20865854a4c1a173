"""Chapter 3 — activation functions and softmax (reference solution)."""

from __future__ import annotations

import numpy as np


def identity_function(x: np.ndarray) -> np.ndarray:
    return x


def step_function(x: np.ndarray) -> np.ndarray:
    # fires only for x > 0, so step_function(0) == 0 (the book's convention)
    return np.array(x > 0, dtype=int)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(x))


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(0, x)


def leaky_relu(x: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    return np.where(x > 0, x, alpha * x)


def tanh(x: np.ndarray) -> np.ndarray:
    # tanh(x) = 2*sigmoid(2x) - 1; np.tanh avoids the cancellation near 0
    return np.tanh(x)


def softmax(x: np.ndarray) -> np.ndarray:
    # subtracting the row max leaves the result unchanged and keeps exp from overflowing
    x = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)
