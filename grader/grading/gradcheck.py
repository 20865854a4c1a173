"""Numerical gradients computed on the trusted side, for checking a student's backward pass.

A suite first checks the student's ``forward`` against a reference, then differentiates the
reference forward here (central differences) and hands both gradients to
``grader.grading.checks.assert_gradient``. Differentiating the student's own forward would cost one
call across the trust boundary per element and per side, which blows the time budget.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from grader.grading.checks import central_difference_gradient


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """d f / d x by central differences, element by element; ``x`` is not modified."""
    return central_difference_gradient(f, x, h)


def backward_target(forward: Callable[[np.ndarray], np.ndarray], dout: np.ndarray) -> Callable[[np.ndarray], float]:
    """The scalar sum(forward(x) * dout), whose gradient is what ``backward(dout)`` returns."""

    def f(x: np.ndarray) -> float:
        return float(np.sum(forward(x) * dout))

    return f
