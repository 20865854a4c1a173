"""Chapter 3 — neural networks: activation functions and softmax.

Read: *Deep Learning from Scratch*, chapter 3 "Neural Networks" — §3.2 activation functions
(§3.2.2 step, §3.2.4 sigmoid, §3.2.7 ReLU) and §3.5 designing the output layer (§3.5.1 identity
and softmax, §3.5.2 the overflow fix). Also deeplizard "Deep Learning Fundamentals", lesson
"Activation Functions in a Neural Network explained" (sigmoid, ReLU), and Kaggle "Intro to Deep
Learning", lesson 2 "Deep Neural Networks" (the activation function: ReLU and its relatives).

Check your work:  grade check chapter3
Stuck?            grade hint softmax   (add --lang zh for Chinese)

Conventions the grader checks:
- every function takes a float numpy array of any shape and returns an array of the same shape;
- step_function returns an int array of 0s and 1s, and step_function(0) == 0 (fires only for x > 0);
- softmax works along the LAST axis: a 1-D vector, or a batch (N, C), or any (..., C).
"""

from __future__ import annotations

import numpy as np


def identity_function(x: np.ndarray) -> np.ndarray:
    """The identity: the output is the input.

    h(x) = x

    Why: regression networks use it at the output layer, where any real value is a valid answer.

    Shapes: x any shape; returns the same shape.

    Example:
        >>> identity_function(np.array([-1.0, 2.0]))
        array([-1.,  2.])
    """
    # TODO: return the input unchanged.
    raise NotImplementedError


def step_function(x: np.ndarray) -> np.ndarray:
    """Step function: 1 where x > 0, else 0.

    h(x) = 1 if x > 0 else 0        (so h(0) = 0)

    Why: it is the perceptron's activation; its jump at 0 has no useful slope, which is why
    networks that learn from gradients use smooth functions instead.

    Shapes: x any shape; returns an int array of the same shape.

    Example:
        >>> step_function(np.array([-1.0, 0.0, 2.0]))
        array([0, 0, 1])
    """
    # TODO: compare x with 0 element-wise and convert the booleans to int.
    raise NotImplementedError


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The sigmoid (logistic) function.

    h(x) = 1 / (1 + exp(-x))

    Why: a smooth version of the step function, squashing any input into (0, 1).

    Shapes: x any shape; returns the same shape.

    Example:
        >>> np.round(sigmoid(np.array([-1.0, 0.0, 1.0])), 4)
        array([0.2689, 0.5   , 0.7311])
    """
    # TODO: apply the formula element-wise with np.exp.
    raise NotImplementedError


def relu(x: np.ndarray) -> np.ndarray:
    """ReLU (rectified linear unit).

    h(x) = x if x > 0 else 0        (= max(0, x))

    Why: cheap, and its slope does not vanish for positive inputs, so deep nets train well.

    Shapes: x any shape; returns a float array of the same shape.

    Example:
        >>> relu(np.array([-2.0, 0.5, 3.0]))
        array([0. , 0.5, 3. ])
    """
    # TODO: keep positive values and replace the others by 0 (np.maximum).
    raise NotImplementedError


def leaky_relu(x: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    """Leaky ReLU: ReLU with a small slope alpha for negative inputs.

    h(x) = x if x > 0 else alpha * x

    Why: a negative input still passes a small signal, so a unit cannot "die" (stay at 0 forever).

    Shapes: x any shape; alpha a number (0 < alpha < 1); returns the same shape as x.

    Example:
        >>> leaky_relu(np.array([-2.0, 3.0]))
        array([-0.02,  3.  ])
        >>> leaky_relu(np.array([-2.0, 3.0]), alpha=0.5)
        array([-1.,  3.])
    """
    # TODO: choose between x and alpha * x element-wise (np.where).
    raise NotImplementedError


def tanh(x: np.ndarray) -> np.ndarray:
    """The hyperbolic tangent.

    tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x)) = 2 * sigmoid(2x) - 1

    Why: like sigmoid but centred on 0, with outputs in (-1, 1).

    Shapes: x any shape; returns the same shape.

    Example:
        >>> np.round(tanh(np.array([-1.0, 0.0, 1.0])), 4)
        array([-0.7616,  0.    ,  0.7616])
    """
    # TODO: compute tanh element-wise (the formula above, or NumPy's own function).
    raise NotImplementedError


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax along the last axis: turns scores into probabilities.

    y_k = exp(x_k - m) / sum_i exp(x_i - m),   m = max_i x_i   (per row, i.e. along the last axis)

    Why: subtracting the max does not change the result but keeps exp from overflowing
    (exp(1000) is inf); each row of the output is positive and sums to 1.

    Shapes: x is (C,) or a batch (N, C) or any (..., C); returns the same shape.

    Example:
        >>> np.round(softmax(np.array([0.3, 2.9, 4.0])), 4)
        array([0.0182, 0.2452, 0.7366])
        >>> softmax(np.array([[1000.0, 1000.0], [0.0, 0.0]]))
        array([[0.5, 0.5],
               [0.5, 0.5]])
    """
    # TODO: subtract the max of each row (np.max(..., axis=-1, keepdims=True)), exp, divide by the row sums.
    raise NotImplementedError


if __name__ == "__main__":
    # Scratch space: run `python activations.py` to try your functions.
    x = np.array([-1.0, 0.0, 1.0])
    print(step_function(x), sigmoid(x), relu(x), softmax(x))
