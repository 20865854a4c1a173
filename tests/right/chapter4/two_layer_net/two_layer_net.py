"""Chapter 4 — a two-layer network trained with numerical gradients (reference solution)."""

from __future__ import annotations

import numpy as np
from gradients import numerical_gradient
from losses import cross_entropy_error


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def softmax(x: np.ndarray) -> np.ndarray:
    x = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)


class TwoLayerNet:
    """A fully connected network with one hidden layer (the book's section 4.5.1).

    Example:
        >>> np.random.seed(0)
        >>> net = TwoLayerNet(input_size=4, hidden_size=5, output_size=3)
        >>> [net.params[k].shape for k in ("W1", "b1", "W2", "b2")]
        [(4, 5), (5,), (5, 3), (3,)]
        >>> x = np.random.rand(6, 4)
        >>> bool(np.allclose(net.predict(x).sum(axis=1), 1.0))
        True
        >>> 0.0 <= float(net.accuracy(x, np.array([0, 1, 2, 0, 1, 2]))) <= 1.0
        True
        >>> sorted(net.numerical_gradient(x, np.array([0, 1, 2, 0, 1, 2])))
        ['W1', 'W2', 'b1', 'b2']
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, weight_init_std: float = 0.01) -> None:
        # small random weights break the symmetry between hidden units; biases start at 0
        self.params = {
            "W1": np.random.normal(0.0, weight_init_std, (input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": np.random.normal(0.0, weight_init_std, (hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }

    def predict(self, x: np.ndarray) -> np.ndarray:
        W1, W2 = self.params["W1"], self.params["W2"]
        b1, b2 = self.params["b1"], self.params["b2"]
        z1 = sigmoid(np.dot(x, W1) + b1)
        return softmax(np.dot(z1, W2) + b2)

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        return cross_entropy_error(self.predict(x), t)

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        labels = t if t.ndim == 1 else t.argmax(axis=-1)
        return float(np.mean(self.predict(x).argmax(axis=-1) == labels))

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        # the loss as a function of one parameter array; numerical_gradient nudges it in place
        loss_W = lambda W: self.loss(x, t)
        grads = {}
        for key, value in self.params.items():
            grads[key] = numerical_gradient(loss_W, value)
        return grads
