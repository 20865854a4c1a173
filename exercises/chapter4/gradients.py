"""Chapter 4 — neural network learning: numerical differentiation and gradient descent.

Read: *Deep Learning from Scratch*, chapter 4 "Neural Network Learning" — §4.3 numerical
differentiation (§4.3.1 the central difference), §4.4 gradients and §4.4.1 the gradient method.
Also Kaggle "Intro to Deep Learning", lesson 3 "Stochastic Gradient Descent".

Check your work:  grade check chapter4
Stuck?            grade hint numerical_gradient   (add --lang zh for Chinese)

Conventions the grader checks:
- h = 1e-4 and CENTRAL differences (f(x+h) - f(x-h)) / (2h), not forward differences;
- numerical_gradient(f, x): f takes the whole array x and returns a number; x may have any
  shape; x must be exactly as it was when the function returns;
- gradient_descent returns the final x (one array, the same shape as init_x).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_diff(f: Callable[[float], float], x: float) -> float:
    """The derivative of f at x by a central difference.

    df/dx ≈ (f(x + h) - f(x - h)) / (2h),   h = 1e-4

    Why: the central difference's error shrinks like h^2 (the forward difference's only like h),
    and h = 1e-4 is small without drowning the result in rounding error.

    Shapes: x is a number; f maps a number to a number; returns a number.

    Example:
        >>> round(numerical_diff(lambda x: 0.01 * x**2 + 0.1 * x, 5.0), 6)
        0.2
    """
    # TODO: evaluate f on both sides of x and divide by 2h.
    raise NotImplementedError


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """The gradient of f at x, one partial derivative per element of x.

    grad[i] = (f(x with x[i] + h) - f(x with x[i] - h)) / (2h),   h = 1e-4, for every index i

    Why: the gradient points uphill; it is what gradient descent and the network's learning need.
    Nudge one element of x itself (in place, not a copy), call f on the whole array, and put the
    element back: TwoLayerNet.numerical_gradient relies on the nudge being made to x itself.

    Shapes: x any shape (1-D, 2-D weight matrix, ...); f(x) returns a number; returns an array of
    x's shape. x is unchanged afterwards.

    Example:
        >>> numerical_gradient(lambda x: x[0]**2 + x[1]**2, np.array([3.0, 4.0])).round(6)
        array([6., 8.])
    """
    # TODO: loop over every index of x (np.ndindex(x.shape) or np.nditer), nudge, evaluate, restore.
    raise NotImplementedError


def gradient_descent(
    f: Callable[[np.ndarray], float], init_x: np.ndarray, lr: float = 0.01, step_num: int = 100
) -> np.ndarray:
    """Minimise f by gradient descent, starting from init_x.

    repeat step_num times:  x = x - lr * numerical_gradient(f, x)

    Why: the negative gradient is the direction in which f decreases fastest; small steps of
    size lr along it walk towards a minimum.

    Shapes: init_x any shape; returns the final x (same shape), not the history of steps.

    Example:
        >>> x = gradient_descent(lambda x: x[0]**2 + x[1]**2, np.array([-3.0, 4.0]), lr=0.1)
        >>> bool(np.abs(x).max() < 1e-6)
        True
    """
    # TODO: start from init_x, take step_num steps of size lr downhill, return x.
    raise NotImplementedError


if __name__ == "__main__":
    # Scratch space: run `python gradients.py` to try your functions.
    print(numerical_diff(lambda x: 0.01 * x**2 + 0.1 * x, 5.0))
    print(numerical_gradient(lambda x: np.sum(x**2), np.array([3.0, 4.0])))
    print(gradient_descent(lambda x: np.sum(x**2), np.array([-3.0, 4.0]), lr=0.1))
