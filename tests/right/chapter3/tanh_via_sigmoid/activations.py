"""Chapter 3 — activation functions and softmax (reference solution)."""

from __future__ import annotations

import numpy as np


def identity_function(x: np.ndarray) -> np.ndarray:
    """The identity: the output is the input.

    Example:
        >>> identity_function(np.array([-1.0, 2.0]))
        array([-1.,  2.])
    """
    return x


def step_function(x: np.ndarray) -> np.ndarray:
    """Step function: 1 where x > 0, else 0.

    Example:
        >>> step_function(np.array([-1.0, 0.0, 2.0]))
        array([0, 0, 1])
    """
    # fires only for x > 0, so step_function(0) == 0 (the book's convention)
    return np.array(x > 0, dtype=int)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The sigmoid (logistic) function.

    Example:
        >>> np.round(sigmoid(np.array([-1.0, 0.0, 1.0])), 4)
        array([0.2689, 0.5   , 0.7311])
    """
    return 1 / (1 + np.exp(-x))


def relu(x: np.ndarray) -> np.ndarray:
    """ReLU (rectified linear unit).

    Example:
        >>> relu(np.array([-2.0, 0.5, 3.0]))
        array([0. , 0.5, 3. ])
    """
    return np.maximum(0, x)


def leaky_relu(x: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    """Leaky ReLU: ReLU with a small slope alpha for negative inputs.

    Example:
        >>> leaky_relu(np.array([-2.0, 3.0]))
        array([-0.02,  3.  ])
        >>> leaky_relu(np.array([-2.0, 3.0]), alpha=0.5)
        array([-1.,  3.])
    """
    return np.where(x > 0, x, alpha * x)


def tanh(x: np.ndarray) -> np.ndarray:
    """The hyperbolic tangent.

    Example:
        >>> np.round(tanh(np.array([-1.0, 0.0, 1.0])), 4)
        array([-0.7616,  0.    ,  0.7616])
    """
    # tanh(x) = 2*sigmoid(2x) - 1; np.tanh avoids the cancellation near 0
    return 2 * sigmoid(2 * x) - 1


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax along the last axis: turns scores into probabilities.

    Example:
        >>> np.round(softmax(np.array([0.3, 2.9, 4.0])), 4)
        array([0.0182, 0.2452, 0.7366])
        >>> softmax(np.array([[1000.0, 1000.0], [0.0, 0.0]]))
        array([[0.5, 0.5],
               [0.5, 0.5]])
    """
    # subtracting the row max leaves the result unchanged and keeps exp from overflowing
    x = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)
