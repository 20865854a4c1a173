"""Chapter 4 — loss functions (reference solution)."""

from __future__ import annotations

import numpy as np


def sum_squared_error(y: np.ndarray, t: np.ndarray) -> float:
    """Sum of squared errors (the book's "均方误差", with a factor 1/2).

    Example:
        >>> t = np.array([0, 0, 1, 0.0])
        >>> round(float(sum_squared_error(np.array([0.1, 0.05, 0.6, 0.25]), t)), 4)
        0.1175
    """
    return np.sum(np.square(y - t)) / 2


def cross_entropy_error(y: np.ndarray, t: np.ndarray) -> float:
    """Cross-entropy error, averaged over a batch.

    Example:
        >>> y = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])
        >>> round(float(cross_entropy_error(y, np.array([1, 0]))), 4)
        0.5249
        >>> round(float(cross_entropy_error(y, np.array([[0, 1, 0], [1, 0, 0.0]]))), 4)
        0.5249
        >>> round(float(cross_entropy_error(np.array([0.1, 0.7, 0.2]), np.array([0, 1, 0.0]))), 4)
        0.3567
    """
    if y.ndim == 1:  # one sample: make it a batch of one
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size != y.size:  # labels: make them one-hot
        t = np.eye(y.shape[1])[t]
    batch_size = y.shape[0]
    return -np.sum(t * np.log(y + 1e-7)) / batch_size
