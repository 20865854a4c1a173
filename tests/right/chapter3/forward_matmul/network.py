"""Chapter 3 — forward pass of a 3-layer network (reference solution)."""

from __future__ import annotations

import numpy as np
from activations import identity_function, sigmoid


def forward(network: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Forward pass (inference) of a 3-layer network.

    Example:
        >>> net = {'W1': np.array([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]), 'b1': np.array([0.1, 0.2, 0.3]),
        ...        'W2': np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]), 'b2': np.array([0.1, 0.2]),
        ...        'W3': np.array([[0.1, 0.3], [0.2, 0.4]]), 'b3': np.array([0.1, 0.2])}
        >>> np.round(forward(net, np.array([1.0, 0.5])), 5)
        array([0.31683, 0.69628])
    """
    W1, W2, W3 = network["W1"], network["W2"], network["W3"]
    b1, b2, b3 = network["b1"], network["b2"], network["b3"]
    z = x
    for W, b in ((W1, b1), (W2, b2)):
        z = 1.0 / (1.0 + np.exp(-(z @ W + b)))
    a3 = z @ W3 + b3
    return identity_function(a3)  # regression-style output: no squashing
