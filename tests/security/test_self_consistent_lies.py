"""Self-consistent lies: a forward and a backward pass that agree with each other but not with
the book earn nothing.

A gradient check that differentiates the student's *own* forward pass passes any consistent
pair of wrong functions (both returning zeros, both scaled by 2, ...). Every suite therefore
checks the forward pass against a trusted formula before it compares a backward pass, and
compares it with a numerical gradient of the *reference* forward. Gradient tests of networks
run at parameters the test chose, and check the network's loss at those parameters first, so
a network cannot pick parameters (zeros) at which the right answer is trivial.

Each attack is a real student file: the chapter's solutions with the attacked exercise
replaced (a later definition in the same module wins), graded with ``run_check``. The lying
exercise gets no credit for the tests listed; every other exercise keeps full marks.
"""

from __future__ import annotations

import textwrap

import pytest

from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check
from tests.conftest import REPO

CATALOG = load_catalog()


def grade(make_target, chapter_id: str, module: str, override: str):
    """Grade the solutions with ``override`` appended to ``module``."""
    source = (REPO / "solutions" / chapter_id / f"{module}.py").read_text(encoding="utf-8")
    target = make_target(chapter_id, {f"{module}.py": source + "\n\n" + textwrap.dedent(override)})
    return run_check(CATALOG.chapter(chapter_id), target)


def assert_lie_earns_nothing(
    report, lying: set[str], zero_tests: set[str] | None = None, built_on_it: set[str] = frozenset()
) -> None:
    """``lying`` exercises earn nothing (or nothing in ``zero_tests``); exercises in ``built_on_it``
    use the lying code and are not judged; every other exercise keeps full marks."""
    by_ex = report.by_exercise()
    assert lying <= set(by_ex), f"no tests ran for {lying - set(by_ex)}"
    for exercise, tests in by_ex.items():
        earned = sum(t.score for t in tests)
        full = sum(t.max_score for t in tests)
        if exercise in built_on_it:
            continue
        if exercise not in lying:
            assert earned == full, (
                f"honest {exercise} lost points: {[(t.name, t.message) for t in tests if t.score < t.max_score]}"
            )
        elif zero_tests is None:
            assert earned == 0, f"{exercise} earned {earned} for a lie: {[t.name for t in tests if t.score > 0]}"
    if zero_tests is not None:
        scored = {t.name: t for t in report.tests}
        assert zero_tests <= set(scored), f"unknown tests {zero_tests - set(scored)}"
        assert not [n for n in zero_tests if scored[n].score > 0], "a lie earned credit"
        for name in zero_tests:
            assert scored[name].status in ("failed", "error"), (name, scored[name].status)


# -- chapter 7: a consistent pair in a convolution and a pooling layer -------------------------

ZERO_CONV_AND_POOL = """
class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad

    def forward(self, x):
        FN, _, FH, FW = self.W.shape
        OH = conv_output_size(x.shape[2], FH, self.stride, self.pad)
        OW = conv_output_size(x.shape[3], FW, self.stride, self.pad)
        self.x = x
        return np.zeros((x.shape[0], FN, OH, OW))

    def backward(self, dout):
        self.dW, self.db = np.zeros_like(self.W), np.zeros_like(self.b)
        return np.zeros_like(self.x)


class Pooling:
    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad

    def forward(self, x):
        OH = conv_output_size(x.shape[2], self.pool_h, self.stride, self.pad)
        OW = conv_output_size(x.shape[3], self.pool_w, self.stride, self.pad)
        self.x = x
        return np.zeros((x.shape[0], x.shape[1], OH, OW))

    def backward(self, dout):
        return np.zeros_like(self.x)
"""

# Twice the right function, and twice the right gradients: consistent, and wrong.
DOUBLED_CONV = """
_Convolution = Convolution


class Convolution(_Convolution):
    def forward(self, x):
        return 2.0 * super().forward(x)

    def backward(self, dout):
        dx = super().backward(2.0 * dout)
        return dx
"""


def test_zero_forward_and_zero_backward_earn_nothing_in_chapter7(make_target):
    report = grade(make_target, "chapter7", "conv", ZERO_CONV_AND_POOL)
    assert_lie_earns_nothing(report, {"chapter7.Convolution", "chapter7.Pooling"})


def test_a_doubled_convolution_with_a_doubled_gradient_earns_nothing(make_target):
    report = grade(make_target, "chapter7", "conv", DOUBLED_CONV)
    assert_lie_earns_nothing(report, {"chapter7.Convolution"})


# -- chapter 5 and 6: consistent pairs in layers ---------------------------------------------

# tanh in place of the sigmoid, with tanh's own derivative; ReLU with a 0.1 leak, likewise;
# an Affine layer that also doubles its output and its gradients.
LAYER_LIES = """
class Sigmoid:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out ** 2)


class Relu:
    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, 0.1 * x)

    def backward(self, dout):
        return np.where(self.x > 0, dout, 0.1 * dout)
"""

ZERO_AFFINE = """
class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x_shape = x.shape
        return np.zeros((x.shape[0], self.W.shape[1]))

    def backward(self, dout):
        self.dW, self.db = np.zeros_like(self.W), np.zeros_like(self.b)
        return np.zeros(self.x_shape)
"""


def test_consistent_wrong_activations_earn_nothing(make_target):
    report = grade(make_target, "chapter5", "layers", LAYER_LIES)
    assert_lie_earns_nothing(report, {"chapter5.Sigmoid", "chapter5.Relu"}, built_on_it={"chapter5.TwoLayerNet"})


def test_a_zero_affine_layer_earns_nothing(make_target):
    report = grade(make_target, "chapter5", "layers", ZERO_AFFINE)
    assert_lie_earns_nothing(report, {"chapter5.Affine"}, built_on_it={"chapter5.TwoLayerNet"})


IDENTITY_BATCHNORM = """
class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma, self.beta = gamma, beta

    def forward(self, x, train_flg=True):
        return x

    def backward(self, dout):
        self.dgamma, self.dbeta = np.zeros_like(self.gamma), np.zeros_like(self.beta)
        return dout
"""


def test_an_identity_batchnorm_with_its_identity_gradient_earns_nothing(make_target):
    report = grade(make_target, "chapter6", "regularization", IDENTITY_BATCHNORM)
    assert_lie_earns_nothing(report, {"chapter6.BatchNormalization"})


# -- networks that choose their own parameters ----------------------------------------------

# The gradient of a network with zero weights needs no backprop: only b2 has one, the mean of
# softmax(0) - t. This network zeroes its weights (in place, so its layers see it) for the
# weight_init_std the gradient tests use, and answers gradient() with that formula.
ZERO_NET_GRADIENT = """
def _zero_net_gradient(params, x, t):
    k = params["b2"].shape[0]
    onehot = t if t.ndim == 2 else np.eye(k)[t]
    return {
        "W1": np.zeros_like(params["W1"]),
        "b1": np.zeros_like(params["b1"]),
        "W2": np.zeros_like(params["W2"]),
        "b2": (np.full(onehot.shape, 1.0 / k) - onehot).mean(axis=0),
    }


_Honest = TwoLayerNet


class TwoLayerNet(_Honest):
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        super().__init__(input_size, hidden_size, output_size, weight_init_std)
        if weight_init_std == 0.5:
            self.params["W1"][...] = 0.0
            self.params["W2"][...] = 0.0

    def gradient(self, x, t):
        return _zero_net_gradient(self.params, x, t)
"""

# The same lie in a network that computes from self.params on every call, so it honours
# `net.params = {...}`: it now runs at the test's parameters, where the formula is wrong.
ZERO_NET_GRADIENT_READING_PARAMS = (
    ZERO_NET_GRADIENT
    + """

class TwoLayerNet(TwoLayerNet):
    def predict(self, x):
        p = self.params
        return np.maximum(0, x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)
"""
)

# tests that build the network with weight_init_std=0.5 (the others use 0.01 or 1.0)
STD_HALF_TESTS = {
    "test_loss_is_softmax_cross_entropy_of_the_network",
    "test_gradient_matches_numerical_gradient",
    "test_gradient_with_label_targets",
    "test_gradient_for_a_batch_of_one",
    "test_provided_numerical_gradient_still_agrees",
}
GRADIENT_TESTS = {
    "test_gradient_matches_numerical_gradient",
    "test_gradient_with_label_targets",
    "test_gradient_for_a_batch_of_one",
}


def test_a_network_that_zeroes_its_weights_for_the_gradient_test_earns_nothing_there(make_target):
    report = grade(make_target, "chapter5", "two_layer_net", ZERO_NET_GRADIENT)
    assert_lie_earns_nothing(report, {"chapter5.TwoLayerNet"}, zero_tests=STD_HALF_TESTS)
    # the feedback says what is wrong: the loss is not the loss of the params
    messages = " ".join(t.message for t in report.tests if t.name in GRADIENT_TESTS)
    assert "params" in messages


def test_the_same_lie_in_a_network_that_honours_assigned_params_earns_nothing(make_target):
    report = grade(make_target, "chapter5", "two_layer_net", ZERO_NET_GRADIENT_READING_PARAMS)
    assert_lie_earns_nothing(report, {"chapter5.TwoLayerNet"}, zero_tests=GRADIENT_TESTS)
    # its loss is honest at the test's params: the gradient itself is what fails
    scored = {t.name: t for t in report.tests}
    assert scored["test_loss_is_softmax_cross_entropy_of_the_network"].status == "passed"
    assert all("gradient check failed" in scored[n].message for n in GRADIENT_TESTS)


# chapter 4: a loss that is always 0 and a numerical gradient of it (zeros): consistent.
ZERO_LOSS_NET = """
_Honest = TwoLayerNet


class TwoLayerNet(_Honest):
    def loss(self, x, t):
        return 0.0

    def numerical_gradient(self, x, t):
        return {k: np.zeros_like(v) for k, v in self.params.items()}
"""


@pytest.mark.parametrize("case", ["zero_loss"])
def test_a_zero_loss_with_its_zero_numerical_gradient_earns_nothing_there(make_target, case):
    report = grade(make_target, "chapter4", "two_layer_net", ZERO_LOSS_NET)
    zero = {
        "test_loss_with_label_targets",
        "test_loss_with_one_hot_targets",
        "test_numerical_gradient_of_every_parameter",
        "test_numerical_gradient_agrees_with_the_analytic_gradient_of_the_output_bias",
    }
    assert_lie_earns_nothing(report, {"chapter4.TwoLayerNet"}, zero_tests=zero)
