"""Chapter 4 — neural network learning: a two-layer network with numerical gradients.

Read: *Deep Learning from Scratch*, chapter 4 "Neural Network Learning" — §4.4.2 the
gradient of a neural network, §4.5 implementing the learning algorithm and §4.5.1 a two-layer
network class.

Check your work:  grade check chapter4
Stuck?            grade hint chapter4.TwoLayerNet   (add --lang zh for Chinese)

This file uses your losses.py and gradients.py from the same folder. `sigmoid` and `softmax`
are given below (they are your chapter 3 functions) so that this chapter stands on its own.

Conventions the grader checks:
- params is a dict with exactly the keys 'W1', 'b1', 'W2', 'b2' (NumPy float arrays);
- predict: Affine -> sigmoid -> Affine -> softmax; each row of the output sums to 1;
- accuracy accepts label targets (N,) or one-hot targets (N, C) and returns a number in [0, 1];
- numerical_gradient returns a dict with the same keys and shapes as params, and leaves the
  parameters as it found them.
"""

from __future__ import annotations

import numpy as np
from gradients import numerical_gradient  # noqa: F401 (for you to use)
from losses import cross_entropy_error  # noqa: F401 (for you to use)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Given: 1 / (1 + exp(-x)), element-wise."""
    return 1 / (1 + np.exp(-x))


def softmax(x: np.ndarray) -> np.ndarray:
    """Given: softmax along the last axis, shifted by the row max."""
    x = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)


class TwoLayerNet:
    """A fully connected network with one hidden layer (the book's section 4.5.1).

    x (N, input_size) -> Affine(W1, b1) -> sigmoid -> Affine(W2, b2) -> softmax -> y (N, output_size)

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
        """Create the parameters.

        W1 = weight_init_std * randn(input_size, hidden_size),  b1 = zeros(hidden_size)
        W2 = weight_init_std * randn(hidden_size, output_size), b2 = zeros(output_size)

        Why: small random weights break the symmetry between hidden units (equal weights would
        make them all learn the same thing); biases can start at 0.

        Shapes: self.params = {'W1': (input_size, hidden_size), 'b1': (hidden_size,),
        'W2': (hidden_size, output_size), 'b2': (output_size,)}.
        """
        # TODO: build self.params with np.random.randn (scaled by weight_init_std) and np.zeros.
        raise NotImplementedError

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities for a batch.

        y = softmax(sigmoid(x·W1 + b1)·W2 + b2)

        Why: the hidden layer's sigmoid makes the network non-linear; softmax turns the output
        scores into probabilities.

        Shapes: x (N, input_size); returns (N, output_size), each row sums to 1.
        """
        # TODO: read W1, b1, W2, b2 from self.params and run the two layers.
        raise NotImplementedError

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Cross-entropy loss of the predictions.

        L = cross_entropy_error(predict(x), t)

        Why: this is the number that learning makes smaller.

        Shapes: x (N, input_size); t labels (N,) or one-hot (N, output_size); returns a number.
        """
        # TODO: predict, then use your cross_entropy_error.
        raise NotImplementedError

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        """Fraction of samples whose most probable class is the target class.

        accuracy = mean_n [argmax_k y_nk == label_n]

        Why: the loss guides learning, but accuracy is what we report; unlike the loss it does
        not change for small parameter changes, which is why we cannot learn from it directly.

        Shapes: x (N, input_size); t labels (N,) or one-hot (N, output_size); returns a number in [0, 1].
        """
        # TODO: argmax of the predictions per row; if t is one-hot (2-D) take its argmax too; compare and average.
        raise NotImplementedError

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of the loss with respect to every parameter, by numerical differentiation.

        grads[key] = numerical_gradient(lambda W: self.loss(x, t), self.params[key])

        Why: numerical_gradient nudges the parameter array IN PLACE, so a function that ignores its
        argument and just recomputes the loss sees each nudge.

        Shapes: returns {'W1': ..., 'b1': ..., 'W2': ..., 'b2': ...}, each the shape of its parameter.
        """
        # TODO: one call to your numerical_gradient per key of self.params.
        raise NotImplementedError


if __name__ == "__main__":
    # Scratch space: run `python two_layer_net.py` to try your network.
    net = TwoLayerNet(input_size=4, hidden_size=5, output_size=3)
    x = np.random.rand(6, 4)
    t = np.array([0, 1, 2, 0, 1, 2])
    print(net.predict(x), net.loss(x, t), net.accuracy(x, t))
