"""Chapter 5 — a two-layer network whose gradient comes from backpropagation.

Read: *Deep Learning from Scratch*, chapter 5 "Backpropagation" — §5.7 implementing
backpropagation (§5.7.2 the two-layer network, §5.7.3 the gradient check).

Check your work:  grade check chapter5
Stuck?            grade hint chapter5.TwoLayerNet   (add --lang zh for Chinese)

The network is Affine -> Relu -> Affine -> SoftmaxWithLoss, built from your layers in
layers.py (finish those first). The grader compares ``gradient`` with a numerical gradient of
the loss, computed from your ``params``.

Conventions the grader checks:
- ``params`` is a dict with W1 (input, hidden), b1 (hidden,), W2 (hidden, output), b2 (output,);
- ``predict`` returns the scores before softmax; ``loss`` is the mean cross-entropy;
- ``accuracy(x, t)`` accepts labels (N,) or one-hot t (N, C) and returns a fraction in [0, 1];
- ``gradient(x, t)`` returns a dict with the same keys as ``params``.
"""

from __future__ import annotations

from collections import OrderedDict  # noqa: F401 - you will need it

import numpy as np
from layers import Affine, Relu, SoftmaxWithLoss  # noqa: F401 - you will need them


def numerical_gradient(f, x: np.ndarray) -> np.ndarray:
    """Central-difference gradient of f at x, restoring x (provided, from chapter 4)."""
    h = 1e-4
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        idx = it.multi_index
        tmp = x[idx]
        x[idx] = tmp + h
        fxh1 = f(x)
        x[idx] = tmp - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp
        it.iternext()
    return grad


class TwoLayerNet:
    """Two-layer network: Affine -> Relu -> Affine, with SoftmaxWithLoss as the last layer.

    scores = Affine2(Relu(Affine1(x)));  loss = SoftmaxWithLoss(scores, t)
    gradient: run forward, then backward from lastLayer.backward(1) through the layers in reverse

    Why: backpropagation gives every gradient in one backward pass, where the numerical
    gradient needs two forward passes per parameter.

    Shapes: x (N, input_size); t labels (N,) or one-hot (N, output_size);
            predict -> (N, output_size); loss and accuracy -> numbers;
            gradient -> {"W1": (input_size, hidden_size), "b1": (hidden_size,),
                         "W2": (hidden_size, output_size), "b2": (output_size,)}.

    Example:
        >>> np.random.seed(0)
        >>> net = TwoLayerNet(input_size=3, hidden_size=4, output_size=2)
        >>> x, t = np.random.randn(5, 3), np.array([0, 1, 1, 0, 1])
        >>> net.predict(x).shape
        (5, 2)
        >>> grads, numeric = net.gradient(x, t), net.numerical_gradient(x, t)
        >>> all(np.allclose(grads[k], numeric[k], atol=1e-7) for k in ("W1", "b1", "W2", "b2"))
        True
        >>> 0.0 <= net.accuracy(x, t) <= 1.0
        True
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, weight_init_std: float = 0.01) -> None:
        self.params = {
            "W1": weight_init_std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }
        # TODO: self.layers = OrderedDict of Affine1, Relu1, Affine2 (built from self.params);
        #       self.lastLayer = SoftmaxWithLoss(). Then delete the raise below.
        raise NotImplementedError

    def predict(self, x: np.ndarray) -> np.ndarray:
        # TODO: pass x through every layer in self.layers and return the scores.
        raise NotImplementedError

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        # TODO: lastLayer.forward on the scores.
        raise NotImplementedError

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        # TODO: fraction of rows whose argmax score equals the label (t may be one-hot).
        raise NotImplementedError

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict:
        """Gradient by central differences (provided): slow, but a check for ``gradient``."""

        def loss_W(W: np.ndarray) -> float:
            return self.loss(x, t)  # numerical_gradient changes W in place, so the loss sees it

        return {key: numerical_gradient(loss_W, self.params[key]) for key in ("W1", "b1", "W2", "b2")}

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict:
        # TODO: forward (self.loss), backward from self.lastLayer.backward(1) through the
        #       reversed layers, then return the dW/db of the two Affine layers.
        raise NotImplementedError


if __name__ == "__main__":
    # Scratch space: run `python two_layer_net.py` for the book's gradient check (5.7.3).
    np.random.seed(0)
    net = TwoLayerNet(input_size=4, hidden_size=5, output_size=3)
    x, t = np.random.randn(3, 4), np.array([0, 2, 1])
    grad_backprop, grad_numerical = net.gradient(x, t), net.numerical_gradient(x, t)
    for key in grad_numerical:
        print(key, np.average(np.abs(grad_backprop[key] - grad_numerical[key])))
