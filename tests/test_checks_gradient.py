"""checks.central_difference_gradient: the trusted numerical gradient suites compare backward passes with."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import Feedback, assert_gradient, central_difference_gradient


def test_matches_the_analytic_gradient_one_by_one_and_batched():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3))
    a = rng.standard_normal((2, 3))
    before = x.copy()
    # f(x) = sum(a * x**3): df/dx = 3 a x**2
    loop = central_difference_gradient(lambda v: np.sum(a * v**3), x)
    batched = central_difference_gradient(lambda vs: np.sum(a * vs**3, axis=(1, 2)), x, batched=True)
    np.testing.assert_allclose(loop, 3 * a * x**2, rtol=1e-7)
    np.testing.assert_allclose(batched, loop, rtol=1e-9)
    np.testing.assert_array_equal(x, before)  # x is left as it was


def test_batched_form_receives_every_perturbation_at_once():
    seen = []

    def f(batch):
        seen.append(batch.shape)
        return batch.reshape(batch.shape[0], -1).sum(axis=1)

    grad = central_difference_gradient(f, np.zeros((2, 2)), h=1e-3, batched=True)
    assert seen == [(8, 2, 2)]
    np.testing.assert_allclose(grad, np.ones((2, 2)))


def test_a_wrong_backward_fails_assert_gradient_with_the_worst_element():
    x = np.array([1.0, 2.0, 3.0])
    numeric = central_difference_gradient(lambda v: np.sum(v**2), x)
    assert_gradient(2 * x, numeric, "f(x)")
    with pytest.raises(Feedback, match=r"element \[2\]"):
        assert_gradient(np.array([2.0, 4.0, 3.0]), numeric, "f(x)")
