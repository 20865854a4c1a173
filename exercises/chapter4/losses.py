"""Chapter 4 — neural network learning: loss functions.

Read: *Deep Learning from Scratch*, chapter 4 "Neural Network Learning" — §4.2 loss
functions (§4.2.1 sum of squared errors, §4.2.2 cross-entropy error, §4.2.4 cross-entropy for a
batch). Also Kaggle "Intro to Deep Learning", lesson 3 "Stochastic Gradient Descent" (the loss
function) and lesson 6 "Binary Classification" (cross-entropy), and deeplizard "Deep Learning
Fundamentals", lesson "Loss in a Neural Network explained".

Check your work:  grade check chapter4
Stuck?            grade hint cross_entropy_error   (add --lang zh for Chinese)

Conventions the grader checks:
- both losses return a single number (a Python float or a NumPy scalar);
- cross_entropy_error takes one sample y (C,) or a batch y (N, C); the targets t are one-hot
  (same shape as y) or labels (class indices: (N,) for a batch); 1e-7 is added INSIDE the log;
  a batch gives the MEAN loss per sample.
"""

from __future__ import annotations

import numpy as np


def sum_squared_error(y: np.ndarray, t: np.ndarray) -> float:
    """Sum of squared errors (the book's "均方误差", with a factor 1/2).

    E = 0.5 * sum_k (y_k - t_k)^2        (summed over every element)

    Why: it measures how far the network's output is from the target, and the 1/2 makes its
    derivative simply (y - t).

    Shapes: y and t have the same shape, e.g. (C,); returns a number.

    Example:
        >>> t = np.array([0, 0, 1, 0.0])
        >>> round(float(sum_squared_error(np.array([0.1, 0.05, 0.6, 0.25]), t)), 4)
        0.1175
    """
    # TODO: square the differences, sum them all, multiply by 0.5.
    raise NotImplementedError


def cross_entropy_error(y: np.ndarray, t: np.ndarray) -> float:
    """Cross-entropy error, averaged over a batch.

    E = -(1/N) * sum_n sum_k t_nk * log(y_nk + 1e-7)
      = -(1/N) * sum_n log(y[n, label_n] + 1e-7)            (the same thing with label targets)

    Why: only the probability given to the correct class counts; the loss is large when that
    probability is small. The 1e-7 keeps log(0) = -inf out, and dividing by N makes the loss
    independent of the batch size.

    Shapes: y (C,) or (N, C) probabilities; t one-hot (same shape as y) or labels ((N,) ints for
    a batch); returns a number.

    Example:
        >>> y = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])
        >>> round(float(cross_entropy_error(y, np.array([1, 0]))), 4)
        0.5249
        >>> round(float(cross_entropy_error(y, np.array([[0, 1, 0], [1, 0, 0.0]]))), 4)
        0.5249
        >>> round(float(cross_entropy_error(np.array([0.1, 0.7, 0.2]), np.array([0, 1, 0.0]))), 4)
        0.3567
    """
    # TODO: make a 1-D y a batch of one, turn one-hot t into labels, then average -log(y + 1e-7) of the right class.
    raise NotImplementedError


if __name__ == "__main__":
    # Scratch space: run `python losses.py` to try your losses.
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0.0])
    print(sum_squared_error(y, t), cross_entropy_error(y, t))
