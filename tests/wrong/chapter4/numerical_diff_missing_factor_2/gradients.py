"""Chapter 4 — numerical differentiation and gradient descent (reference solution)."""

from __future__ import annotations

from typing import Callable

import numpy as np


def numerical_diff(f: Callable[[float], float], x: float) -> float:
    h = 1e-4  # small, but not so small that rounding error takes over
    return (f(x + h) - f(x - h)) / 2 * h


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    h = 1e-4
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):  # every element, whatever the shape
        tmp = x[idx]
        x[idx] = tmp + h
        fxh1 = f(x)
        x[idx] = tmp - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp  # put x back as we found it
    return grad


def gradient_descent(
    f: Callable[[np.ndarray], float], init_x: np.ndarray, lr: float = 0.01, step_num: int = 100
) -> np.ndarray:
    x = init_x
    for _ in range(step_num):
        x -= lr * numerical_gradient(f, x)  # step downhill
    return x
