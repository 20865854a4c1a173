"""Chapter 5 — a correct two-layer network written differently: the weights are drawn with
np.random.normal (W2 before W1), and every pass reads self.params, so assigning a new params
dict takes effect."""

from __future__ import annotations

import numpy as np
from layers import Relu, SoftmaxWithLoss


def numerical_gradient(f, x: np.ndarray) -> np.ndarray:
    h = 1e-4
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        tmp = x[idx]
        x[idx] = tmp + h
        fxh1 = f(x)
        x[idx] = tmp - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp
    return grad


class TwoLayerNet:
    def __init__(self, input_size: int, hidden_size: int, output_size: int, weight_init_std: float = 0.01) -> None:
        W2 = np.random.normal(0.0, weight_init_std, size=(hidden_size, output_size))
        W1 = np.random.normal(0.0, weight_init_std, size=(input_size, hidden_size))
        self.params = {"W1": W1, "b1": np.zeros(hidden_size), "W2": W2, "b2": np.zeros(output_size)}
        self.relu = Relu()
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        self.hidden = self.relu.forward(x @ self.params["W1"] + self.params["b1"])
        return self.hidden @ self.params["W2"] + self.params["b2"]

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        return self.lastLayer.forward(self.predict(x), t)

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        return float(np.mean(self.predict(x).argmax(axis=1) == labels))

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict:
        return {key: numerical_gradient(lambda _: self.loss(x, t), self.params[key]) for key in self.params}

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict:
        self.loss(x, t)
        dscores = self.lastLayer.backward(1)
        dhidden = self.relu.backward(dscores @ self.params["W2"].T)
        return {
            "W1": self.x.T @ dhidden,
            "b1": dhidden.sum(axis=0),
            "W2": self.hidden.T @ dscores,
            "b2": dscores.sum(axis=0),
        }
