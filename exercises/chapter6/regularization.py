"""Chapter 6 — initial weight scales, weight decay, Dropout and Batch Normalization.

Read: *Deep Learning from Scratch*, chapter 6 "Techniques for Learning" — §6.2 initial
weight values (Xavier, He), §6.3 Batch Normalization, §6.4.2 weight decay and §6.4.3 Dropout.
Also Kaggle "Intro to Deep Learning", lesson 5 "Dropout and Batch Normalization".

Check your work:  grade check chapter6
Stuck?            grade hint chapter6.BatchNormalization   (add --lang zh for Chinese)

Conventions the grader checks (the book's):
- ``xavier_std(n)`` and ``he_std(n)`` return the standard deviation (a float) for a layer whose
  previous layer has n nodes: use them as ``np.random.randn(n, m) * he_std(n)``;
- ``weight_decay_loss`` penalises only the weights (keys starting with "W"), not the biases;
- ``Dropout`` is the non-inverted form: kept units pass unchanged in training and every
  output is scaled by (1 - dropout_ratio) at test time;
- ``BatchNormalization`` takes 2-D input (N, D), uses eps = 1e-6 (the book's ``10e-7``),
  running averages that start at zeros and move only in training, batch statistics only when
  training, and keeps ``dgamma`` / ``dbeta`` after ``backward``.
Dropout is random: the grader seeds np.random and checks the mask's properties, not its values.
"""

from __future__ import annotations

import numpy as np


def xavier_std(n: int) -> float:
    """Xavier's initial weight scale for sigmoid and tanh layers.

    std = 1 / sqrt(n)        (n = number of nodes in the previous layer)

    Why: it keeps each layer's activations spread out instead of collapsing to 0/1 or one value.

    Shapes: n is a positive int; returns a float.

    Example:
        >>> xavier_std(100)
        0.1
    """
    # TODO: return the Xavier scale as a float.
    raise NotImplementedError


def he_std(n: int) -> float:
    """He's initial weight scale for ReLU layers.

    std = sqrt(2 / n)        (n = number of nodes in the previous layer)

    Why: ReLU zeroes half of its inputs, so it needs twice the variance Xavier uses.

    Shapes: n is a positive int; returns a float.

    Example:
        >>> he_std(50)
        0.2
    """
    # TODO: return the He scale as a float.
    raise NotImplementedError


def weight_decay_loss(params: dict, lambda_: float) -> float:
    """The weight-decay (L2) term added to the loss.

    penalty = sum over every weight matrix W of 0.5 * lambda_ * sum(W ** 2)
    (params keys starting with "W"; biases are not penalised)

    Why: large weights are a sign of overfitting; penalising them keeps the model simpler,
    and the 0.5 makes the penalty's gradient exactly lambda_ * W.

    Shapes: params is a dict of arrays such as {"W1": (D, H), "b1": (H,), ...}; returns a float.

    Example:
        >>> weight_decay_loss({"W1": np.array([[1.0, 2.0]]), "b1": np.array([5.0])}, 0.1)
        0.25
    """
    # TODO: add up 0.5 * lambda_ * np.sum(W ** 2) over the weights only.
    raise NotImplementedError


class Dropout:
    """Dropout: randomly delete units while training (the book's non-inverted form).

    training (train_flg=True):  mask = rand(x.shape) > dropout_ratio;  out = x * mask
    test     (train_flg=False): out = x * (1 - dropout_ratio)
    backward:                   dx = dout * mask      (the mask of the latest forward)

    Why: a network that cannot rely on any single unit generalises better; at test time all
    units are on, so outputs are scaled to match what training saw on average.

    Shapes: x and dout of any one shape; out and dx have that shape.

    Example:
        >>> layer = Dropout(dropout_ratio=0.25)
        >>> layer.forward(np.array([[4.0, 8.0]]), train_flg=False).tolist()
        [[3.0, 6.0]]
        >>> np.random.seed(0)
        >>> out = layer.forward(np.ones((100, 100)))
        >>> bool(set(np.unique(out)) <= {0.0, 1.0}), bool(0.2 < (out == 0).mean() < 0.3)
        (True, True)
    """

    def __init__(self, dropout_ratio: float = 0.5) -> None:
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        # TODO: training: draw a new self.mask and apply it; test: scale by (1 - dropout_ratio).
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # TODO: let the gradient through the kept units only.
        raise NotImplementedError


class BatchNormalization:
    """Batch Normalization for 2-D input (N, D).

    training: mu = mean(x, axis 0);  xc = x - mu;  var = mean(xc**2, axis 0)
              std = sqrt(var + 1e-6);  xn = xc / std;  out = gamma * xn + beta
              running_mean <- momentum * running_mean + (1 - momentum) * mu
              running_var  <- momentum * running_var  + (1 - momentum) * var
    test:     out = gamma * (x - running_mean) / sqrt(running_var + 1e-6) + beta
    backward: dbeta = sum(dout, axis 0);  dgamma = sum(xn * dout, axis 0);
              dx by the chain rule through xn, std, var, xc and mu (all depend on x)

    Why: normalising every unit over the batch keeps activations well spread, so training is
    faster and less sensitive to the initial weights; at test time the statistics of one
    batch are not available (or not reliable), so the running averages stand in.

    Shapes: gamma, beta, running_mean, running_var (D,); x, out, dout, dx (N, D);
            dgamma, dbeta (D,). The running averages start as np.zeros(D) at the first forward.

    Example:
        >>> layer = BatchNormalization(gamma=np.ones(1), beta=np.zeros(1))
        >>> layer.forward(np.array([[1.0], [3.0]]), train_flg=True).round(4).tolist()
        [[-1.0], [1.0]]
        >>> dx = layer.backward(np.array([[1.0], [0.0]]))
        >>> bool(np.abs(dx).max() < 1e-3)  # two samples always normalise to -1 and 1
        True
        >>> layer.dgamma.round(4).tolist(), layer.dbeta.tolist()
        ([-1.0], [1.0])
        >>> layer.forward(np.array([[0.2]]), train_flg=False).round(4).tolist()
        [[0.0]]
    """

    def __init__(
        self,
        gamma: np.ndarray,
        beta: np.ndarray,
        momentum: float = 0.9,
        running_mean: np.ndarray | None = None,
        running_var: np.ndarray | None = None,
    ) -> None:
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.running_mean = running_mean
        self.running_var = running_var
        self.dgamma = None  # set by backward
        self.dbeta = None  # set by backward

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        # TODO: create the running averages if None; training: batch statistics, keep what
        #       backward needs, update the averages; test: use the running averages.
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # TODO: set self.dgamma and self.dbeta, return dx.
        raise NotImplementedError


if __name__ == "__main__":
    # Scratch space: run `python regularization.py` to watch BatchNormalization normalise a batch.
    np.random.seed(0)
    x = np.random.randn(8, 3) * 5 + 2
    bn = BatchNormalization(np.ones(3), np.zeros(3))
    out = bn.forward(x)
    print("mean", out.mean(axis=0).round(6), "std", out.std(axis=0).round(6))
