"""Chapter 3 — neural networks: the forward pass of a 3-layer network.

Read: *Deep Learning from Scratch*, chapter 3 "Neural Networks" — §3.4 implementing a
3-layer network (§3.4.3 the code in one place) and §3.6.3 batch processing. Also deeplizard
"Deep Learning Fundamentals", lesson "Layers in a Neural Network explained" (the forward pass).

Check your work:  grade check chapter3
Stuck?            grade hint forward   (add --lang zh for Chinese)

You may reuse your own functions: `from activations import sigmoid, identity_function`
works because activations.py sits in the same folder.
"""

from __future__ import annotations

import numpy as np
from activations import identity_function, sigmoid  # noqa: F401 (for you to use)


def forward(network: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Forward pass (inference) of a 3-layer network.

    a1 = x·W1 + b1,  z1 = sigmoid(a1)
    a2 = z1·W2 + b2, z2 = sigmoid(a2)
    a3 = z2·W3 + b3, y  = identity_function(a3)

    Why: each layer is a weighted sum plus a bias followed by an activation; the output layer
    uses the identity (no squashing), as in the book's section 3.4.3.

    Shapes: network['W1'] (D, H1), 'b1' (H1,), 'W2' (H1, H2), 'b2' (H2,), 'W3' (H2, K),
    'b3' (K,); x is one sample (D,) or a batch (N, D); returns (K,) or (N, K).

    Example:
        >>> net = {'W1': np.array([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]), 'b1': np.array([0.1, 0.2, 0.3]),
        ...        'W2': np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]), 'b2': np.array([0.1, 0.2]),
        ...        'W3': np.array([[0.1, 0.3], [0.2, 0.4]]), 'b3': np.array([0.1, 0.2])}
        >>> np.round(forward(net, np.array([1.0, 0.5])), 5)
        array([0.31683, 0.69628])
    """
    # TODO: compute a1, z1, a2, z2, a3 with np.dot and the activations, and return y.
    raise NotImplementedError


if __name__ == "__main__":
    # Scratch space: run `python network.py` to try your forward pass.
    rng = np.random.default_rng(0)
    net = {"W1": rng.normal(size=(2, 3)), "b1": np.zeros(3), "W2": rng.normal(size=(3, 2)),
           "b2": np.zeros(2), "W3": rng.normal(size=(2, 2)), "b3": np.zeros(2)}
    print(forward(net, np.array([1.0, 0.5])))
