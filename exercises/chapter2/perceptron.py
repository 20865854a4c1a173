"""Chapter 2 — perceptrons: logic gates from weights and a bias.

Read: *Deep Learning from Scratch*, chapter 2 "Perceptrons" — §2.3 implementing the gates
(AND, NAND, OR with weights and a bias), §2.4 the limits of a perceptron and §2.5 the multilayer
perceptron (XOR from NAND, OR and AND). Also the course lecture "深度学习与神经网络", section 感知机.

Check your work:  grade check chapter2
Stuck?            grade hint chapter2.AND   (add --lang zh for Chinese)

Conventions the grader checks:
- every gate returns the Python int 0 or 1 (not a bool, not a numpy number);
- a perceptron fires only when the weighted sum w1*x1 + w2*x2 + b is strictly > 0.
"""

from __future__ import annotations

import numpy as np


def AND(x1: float, x2: float) -> int:
    """AND gate as a single perceptron.

    y = 1 if w1*x1 + w2*x2 + b > 0 else 0

    Why: a perceptron is a weighted vote plus a threshold; choosing w and b picks the gate.

    Shapes: x1, x2 are scalars (0 or 1); returns the int 0 or 1.

    Example:
        >>> [AND(0, 0), AND(1, 0), AND(0, 1), AND(1, 1)]
        [0, 0, 0, 1]
    """
    # TODO: pick weights w = np.array([w1, w2]) and a bias b, then apply the rule above.
    raise NotImplementedError


def NAND(x1: float, x2: float) -> int:
    """NAND gate ("not AND") as a single perceptron.

    y = 1 if w1*x1 + w2*x2 + b > 0 else 0, with the signs of AND's parameters flipped.

    Why: the same model computes a different gate when only the parameters change.

    Shapes: x1, x2 are scalars (0 or 1); returns the int 0 or 1.

    Example:
        >>> [NAND(0, 0), NAND(1, 0), NAND(0, 1), NAND(1, 1)]
        [1, 1, 1, 0]
    """
    # TODO: choose w and b so that only (1, 1) gives 0.
    raise NotImplementedError


def OR(x1: float, x2: float) -> int:
    """OR gate as a single perceptron.

    y = 1 if w1*x1 + w2*x2 + b > 0 else 0

    Why: OR differs from AND only in where the threshold (the bias) sits.

    Shapes: x1, x2 are scalars (0 or 1); returns the int 0 or 1.

    Example:
        >>> [OR(0, 0), OR(1, 0), OR(0, 1), OR(1, 1)]
        [0, 1, 1, 1]
    """
    # TODO: choose w and b so that only (0, 0) gives 0.
    raise NotImplementedError


def XOR(x1: float, x2: float) -> int:
    """XOR gate as a two-layer perceptron built from the gates above.

    s1 = NAND(x1, x2); s2 = OR(x1, x2); y = AND(s1, s2)

    Why: no single straight line separates XOR's outputs, so one perceptron cannot
    compute it; stacking layers can (a "multi-layer perceptron").

    Shapes: x1, x2 are scalars (0 or 1); returns the int 0 or 1.

    Example:
        >>> [XOR(0, 0), XOR(1, 0), XOR(0, 1), XOR(1, 1)]
        [0, 1, 1, 0]
    """
    # TODO: combine NAND, OR and AND; do not write a new set of weights.
    raise NotImplementedError


if __name__ == "__main__":
    # Scratch space: run `python perceptron.py` to try your gates.
    for x in [(0, 0), (1, 0), (0, 1), (1, 1)]:
        print(x, AND(*x), NAND(*x), OR(*x), XOR(*x))
