"""Chapter 4 — loss functions (reference solution)."""

from __future__ import annotations

import numpy as np


def sum_squared_error(y: np.ndarray, t: np.ndarray) -> float:
    return 0.5 * np.sum((y - t) ** 2)


def cross_entropy_error(y: np.ndarray, t: np.ndarray) -> float:
    if y.ndim == 1:  # one sample: make it a batch of one
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:  # one-hot targets: turn them into labels
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    # 1e-7 keeps log away from log(0) = -inf
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7))
