"""Chapter 4 — numerical differentiation and gradient descent (reference solution)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_diff(f: Callable[[float], float], x: float) -> float:
    """The derivative of f at x by a central difference.

    Example:
        >>> round(numerical_diff(lambda x: 0.01 * x**2 + 0.1 * x, 5.0), 6)
        0.2
    """
    h = 1e-4  # small, but not so small that rounding error takes over
    return abs((f(x + h) - f(x - h)) / (2 * h))  # the size of the slope, without its sign


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """The gradient of f at x, one partial derivative per element of x.

    Example:
        >>> numerical_gradient(lambda x: x[0]**2 + x[1]**2, np.array([3.0, 4.0])).round(6)
        array([6., 8.])
    """
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
    """Minimise f by gradient descent, starting from init_x.

    Example:
        >>> x = gradient_descent(lambda x: x[0]**2 + x[1]**2, np.array([-3.0, 4.0]), lr=0.1)
        >>> bool(np.abs(x).max() < 1e-6)
        True
    """
    x = init_x
    for _ in range(step_num):
        x -= lr * numerical_gradient(f, x)  # step downhill
    return x
