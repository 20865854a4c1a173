"""Chapter 5 — backpropagation: layers with a forward and a backward pass.

Read: *Deep Learning from Scratch*, chapter 5 "Backpropagation" — §5.4 simple layers
(multiplication and addition), §5.5 activation layers (ReLU, Sigmoid) and §5.6 the Affine and
Softmax-with-Loss layers. Also the course lecture "深度学习与神经网络", section 3.4 神经网络参数求解
(forward and backward propagation).

Check your work:  grade check chapter5
Stuck?            grade hint chapter5.Affine   (add --lang zh for Chinese)

Every layer is a class with
- ``forward(...)``: computes the output and keeps what backward will need (on ``self``);
- ``backward(dout)``: takes dL/d(output) and returns dL/d(input) by the chain rule.

Conventions the grader checks:
- ``Affine`` accepts N-D input (it flattens everything after the batch axis), keeps ``dW``
  and ``db`` after ``backward`` and returns ``dx`` in the input's original shape;
- ``SoftmaxWithLoss.forward(x, t)`` returns the mean loss over the batch; ``t`` is one-hot or
  labels; ``backward(dout=1)`` divides by the batch size;
- backward passes are checked against numerical gradients of your forward passes.

``softmax`` and ``cross_entropy_error`` are provided (you wrote them in chapters 3 and 4).
"""

from __future__ import annotations

import numpy as np

# --- provided helpers (chapters 3 and 4) ---------------------------------------------


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax along the last axis, shifted by the max for stability (provided)."""
    x = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)


def cross_entropy_error(y: np.ndarray, t: np.ndarray) -> float:
    """Mean cross-entropy of a batch y (N, C); t one-hot (N, C) or labels (N,); 1e-7 inside the log (provided)."""
    if t.size == y.size:  # one-hot -> labels
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return float(-np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size)


# --- your layers ---------------------------------------------------------------------


class MulLayer:
    """Multiplication node of a computational graph.

    forward:  out = x * y
    backward: dx = dout * y,  dy = dout * x     (each input gets the *other* one)

    Why: a multiplication node scales the upstream gradient by the "flipped" input.

    Shapes: x, y and dout are numbers or arrays of one shape; backward returns (dx, dy).

    Example (the book's apples: 2 apples at 100 each):
        >>> layer = MulLayer()
        >>> layer.forward(100, 2)
        200
        >>> layer.backward(1)
        (2, 100)
    """

    def __init__(self) -> None:
        self.x = None
        self.y = None

    def forward(self, x, y):
        # TODO: remember x and y on self, return their product.
        raise NotImplementedError

    def backward(self, dout):
        # TODO: return (dx, dy) using the values remembered by forward.
        raise NotImplementedError


class AddLayer:
    """Addition node of a computational graph.

    forward:  out = x + y
    backward: dx = dout * 1,  dy = dout * 1

    Why: both local derivatives of a sum are 1, so the gradient passes through unchanged.

    Shapes: x, y and dout are numbers or arrays of one shape; backward returns (dx, dy).

    Example:
        >>> layer = AddLayer()
        >>> layer.forward(3, 4)
        7
        >>> layer.backward(1.5)
        (1.5, 1.5)
    """

    def __init__(self) -> None:
        pass

    def forward(self, x, y):
        # TODO: return the sum.
        raise NotImplementedError

    def backward(self, dout):
        # TODO: return (dx, dy).
        raise NotImplementedError


class Relu:
    """ReLU layer.

    forward:  out = x where x > 0, else 0
    backward: dx = dout where x > 0, else 0      (x is forward's input)

    Why: ReLU passes a signal (and its gradient) only where the unit was active.

    Shapes: x and dout of any one shape; out and dx have that shape.

    Example:
        >>> layer = Relu()
        >>> layer.forward(np.array([[1.0, -0.5], [-2.0, 3.0]])).tolist()
        [[1.0, 0.0], [0.0, 3.0]]
        >>> layer.backward(np.array([[5.0, 5.0], [5.0, 5.0]])).tolist()
        [[5.0, 0.0], [0.0, 5.0]]
    """

    def __init__(self) -> None:
        self.mask = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        # TODO: keep self.mask = (x <= 0); return a copy of x with those entries set to 0.
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # TODO: zero dout where the mask is True and return it.
        raise NotImplementedError


class Sigmoid:
    """Sigmoid layer.

    forward:  out = 1 / (1 + exp(-x))
    backward: dx = dout * out * (1 - out)

    Why: the sigmoid's derivative is cheapest written with its own output, so forward keeps it.

    Shapes: x and dout of any one shape; out and dx have that shape.

    Example:
        >>> layer = Sigmoid()
        >>> layer.forward(np.array([0.0])).tolist()
        [0.5]
        >>> layer.backward(np.array([1.0])).tolist()
        [0.25]
    """

    def __init__(self) -> None:
        self.out = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        # TODO: compute out, keep it as self.out, return it.
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # TODO: use self.out (not x) to return dx.
        raise NotImplementedError


class Affine:
    """Fully connected (Affine) layer.

    forward:  x2 = x reshaped to (N, D);  out = x2 · W + b
    backward: dx = dout · W^T (reshaped back to x's shape),  dW = x2^T · dout,
              db = sum of dout over the batch axis

    Why: it is the matrix product of a dense layer; b is broadcast over the batch, so its
    gradient sums over the batch.

    Shapes: W (D, M), b (M,), x (N, D) or (N, d1, d2, ...) with d1*d2*... == D,
            out and dout (N, M), dx like x, dW like W, db like b.

    Example:
        >>> layer = Affine(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -0.5]))
        >>> layer.forward(np.array([[1.0, 1.0]])).tolist()
        [[4.5, 5.5]]
        >>> layer.backward(np.array([[1.0, 0.0]])).tolist()
        [[1.0, 3.0]]
        >>> layer.dW.tolist(), layer.db.tolist()
        ([[1.0, 0.0], [1.0, 0.0]], [1.0, 0.0])
    """

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None  # set by backward
        self.db = None  # set by backward

    def forward(self, x: np.ndarray) -> np.ndarray:
        # TODO: remember x.shape, flatten x to (N, -1), keep it, return x · W + b.
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # TODO: set self.dW and self.db, return dx in the original shape of x.
        raise NotImplementedError


class SoftmaxWithLoss:
    """Softmax followed by the cross-entropy loss, as one output layer.

    forward:  y = softmax(x);  loss = cross_entropy_error(y, t)   (mean over the batch)
    backward: dx = (y - t) / N * dout        (t as one-hot; N = batch size)

    Why: together the two have a tidy gradient, y - t, with no exp or log in it.

    Shapes: x (N, C); t one-hot (N, C) or labels (N,); loss a number; dx (N, C).

    Example:
        >>> layer = SoftmaxWithLoss()
        >>> round(layer.forward(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]])), 4)
        0.6931
        >>> layer.backward().tolist()
        [[-0.5, 0.5]]
    """

    def __init__(self) -> None:
        self.loss = None
        self.y = None  # softmax output
        self.t = None  # targets

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        # TODO: keep t and y = softmax(x) on self; return the cross-entropy loss.
        raise NotImplementedError

    def backward(self, dout: float = 1) -> np.ndarray:
        # TODO: return (y - t) / batch_size (handle label t too).
        raise NotImplementedError


if __name__ == "__main__":
    # Scratch space: run `python layers.py` to try a layer.
    apple, tax = MulLayer(), MulLayer()
    price = tax.forward(apple.forward(100, 2), 1.1)
    print("price", price)
    print("backward", apple.backward(tax.backward(1)[0]))
