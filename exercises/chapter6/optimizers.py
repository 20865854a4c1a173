"""Chapter 6 — parameter update rules: SGD, Momentum, AdaGrad, RMSprop, Adam.

Read: *Deep Learning from Scratch*, chapter 6 "Techniques for Learning" — §6.1 updating
parameters (SGD, Momentum, AdaGrad, Adam; RMSprop is AdaGrad with a decaying sum). Also Kaggle
"Intro to Deep Learning", lesson 3 "Stochastic Gradient Descent" (learning rate, batch size, Adam).

Check your work:  grade check chapter6
Stuck?            grade hint chapter6.Adam   (add --lang zh for Chinese)

Every optimizer has ``update(params, grads)``: ``params`` and ``grads`` are dicts with the same
keys ("W1", "b1", ...) holding numpy arrays. ``update`` returns nothing: it changes the arrays in
``params`` in place (``params[key] -= ...``) so the network that owns them sees the new values.
State (velocities, sums of squares, the step count) lives on ``self`` between calls.

Conventions the grader checks (the book's):
- Momentum: v = momentum * v - lr * grad;  param += v;
- AdaGrad and RMSprop add 1e-7 to the square root, outside it;
- Adam uses the bias-corrected step size below and 1e-7 (the textbook form with m_hat and
  v_hat agrees to about 1e-7 and is accepted too).
"""

from __future__ import annotations

import numpy as np


class SGD:
    """Stochastic gradient descent.

    param <- param - lr * grad

    Why: step every parameter a little way downhill, against its gradient.

    Shapes: params and grads are dicts of arrays; params[key] and grads[key] have one shape.

    Example:
        >>> params = {"W": np.array([1.0, 2.0])}
        >>> SGD(lr=0.1).update(params, {"W": np.array([10.0, -10.0])})
        >>> params["W"].tolist()
        [0.0, 3.0]
    """

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = lr

    def update(self, params: dict, grads: dict) -> None:
        # TODO: for every key, change params[key] in place.
        raise NotImplementedError


class Momentum:
    """SGD with momentum: a velocity that remembers past steps.

    v <- momentum * v - lr * grad      (v starts at 0, one array per parameter)
    param <- param + v

    Why: like a ball rolling downhill, it speeds up along consistent directions and damps zigzags.

    Shapes: as SGD; self.v holds one array per key of params, like params.

    Example:
        >>> params, opt = {"W": np.array([1.0])}, Momentum(lr=0.1, momentum=0.9)
        >>> opt.update(params, {"W": np.array([1.0])})
        >>> opt.update(params, {"W": np.array([1.0])})
        >>> params["W"].round(6).tolist()
        [0.71]
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params: dict, grads: dict) -> None:
        # TODO: create self.v (zeros like each param) on the first call, then apply the rule.
        raise NotImplementedError


class AdaGrad:
    """AdaGrad: a learning rate per parameter that shrinks as its gradients add up.

    h <- h + grad * grad                 (h starts at 0 and only grows)
    param <- param - lr * grad / (sqrt(h) + 1e-7)

    Why: parameters that already moved a lot take smaller steps ("learning-rate decay" per element).

    Shapes: as SGD; self.h holds one array per key of params.

    Example:
        >>> params, opt = {"W": np.array([1.0, 1.0])}, AdaGrad(lr=0.5)
        >>> opt.update(params, {"W": np.array([2.0, 0.0])})
        >>> params["W"].round(6).tolist()
        [0.5, 1.0]
    """

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = lr
        self.h = None

    def update(self, params: dict, grads: dict) -> None:
        # TODO: accumulate grad**2 in self.h, then scale the step by 1 / (sqrt(h) + 1e-7).
        raise NotImplementedError


class RMSprop:
    """RMSprop: AdaGrad with a moving average, so old gradients are forgotten.

    h <- decay_rate * h + (1 - decay_rate) * grad * grad
    param <- param - lr * grad / (sqrt(h) + 1e-7)

    Why: AdaGrad's sum grows forever and the steps die out; a decaying average keeps them alive.

    Shapes: as SGD; self.h holds one array per key of params.

    Example:
        >>> params, opt = {"W": np.array([1.0])}, RMSprop(lr=0.1, decay_rate=0.75)
        >>> opt.update(params, {"W": np.array([2.0])})
        >>> params["W"].round(6).tolist()
        [0.8]
    """

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99) -> None:
        self.lr = lr
        self.decay_rate = decay_rate
        self.h = None

    def update(self, params: dict, grads: dict) -> None:
        # TODO: decay self.h, add (1 - decay_rate) * grad**2, then step like AdaGrad.
        raise NotImplementedError


class Adam:
    """Adam: Momentum's moving average of the gradient plus RMSprop's of its square.

    iter <- iter + 1
    lr_t = lr * sqrt(1 - beta2**iter) / (1 - beta1**iter)     (bias correction)
    m <- m + (1 - beta1) * (grad - m)        i.e. beta1 * m + (1 - beta1) * grad
    v <- v + (1 - beta2) * (grad**2 - v)     i.e. beta2 * v + (1 - beta2) * grad**2
    param <- param - lr_t * m / (sqrt(v) + 1e-7)

    Why: m and v start at 0, so early averages are too small; lr_t corrects for that.

    Shapes: as SGD; self.m and self.v hold one array per key of params; self.iter is an int.

    Example:
        >>> params = {"W": np.array([1.0, 1.0])}
        >>> Adam(lr=0.1).update(params, {"W": np.array([3.0, -0.5])})
        >>> params["W"].round(4).tolist()  # the first step is about lr * sign(grad)
        [0.9, 1.1]
    """

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999) -> None:
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params: dict, grads: dict) -> None:
        # TODO: create m and v on the first call, count the step, apply the rule above.
        raise NotImplementedError


if __name__ == "__main__":
    # Scratch space: run `python optimizers.py` to minimise f(x, y) = x**2 / 20 + y**2 (book 6.1).
    for opt in (SGD(lr=0.95), Momentum(lr=0.1), AdaGrad(lr=1.5), RMSprop(lr=0.1), Adam(lr=0.3)):
        params = {"x": np.array(-7.0), "y": np.array(2.0)}
        for _ in range(30):
            opt.update(params, {"x": params["x"] / 10.0, "y": 2.0 * params["y"]})
        print(type(opt).__name__, float(params["x"]), float(params["y"]))
