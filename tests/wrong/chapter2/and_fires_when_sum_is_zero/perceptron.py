"""Chapter 2 — perceptrons: logic gates from weights and a bias (reference solution)."""

from __future__ import annotations

import numpy as np


def _perceptron(x1: float, x2: float, w: np.ndarray, b: float) -> int:
    # fire only when the weighted sum is strictly positive (the book's convention)
    tmp = np.sum(np.array([x1, x2]) * w) + b
    return 1 if tmp >= 0 else 0


def AND(x1: float, x2: float) -> int:
    return _perceptron(x1, x2, np.array([0.5, 0.5]), -0.5)


def NAND(x1: float, x2: float) -> int:
    return _perceptron(x1, x2, np.array([-0.5, -0.5]), 0.7)


def OR(x1: float, x2: float) -> int:
    return _perceptron(x1, x2, np.array([0.5, 0.5]), -0.2)


def XOR(x1: float, x2: float) -> int:
    # one line cannot separate XOR; two layers of gates can
    s1 = NAND(x1, x2)
    s2 = OR(x1, x2)
    return AND(s1, s2)
