"""Hidden checks for chapter 4 losses: batches, log(0), tiny probabilities, batch of one."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import assert_close, call_text, fresh
from grader.suites.chapter4._reference import cross_entropy_error, probabilities, sum_squared_error


@pytest.mark.exercise("chapter4.sum_squared_error")
def test_sum_squared_error_sums_over_a_whole_batch(student):
    rng = np.random.default_rng(45)
    y, t = rng.random((4, 3)), rng.random((4, 3))
    call = call_text("sum_squared_error", y, t, seed=45)
    got = student.load("losses").sum_squared_error(fresh(y), fresh(t))
    assert_close(got, sum_squared_error(y, t), call, rtol=1e-9)


@pytest.mark.exercise("chapter4.cross_entropy_error")
def test_cross_entropy_is_finite_when_the_target_probability_is_zero(student):
    y = np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]])
    t = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    call = call_text("cross_entropy_error", y, t)
    got = student.load("losses").cross_entropy_error(fresh(y), fresh(t))
    assert_close(got, cross_entropy_error(y, t), call, rtol=1e-9)


@pytest.mark.exercise("chapter4.cross_entropy_error")
def test_cross_entropy_adds_1e7_inside_the_log(student):
    y = np.array([[1e-5, 0.5, 0.49999], [3e-7, 0.9999997, 0.0]])
    t = np.array([0, 0])
    call = call_text("cross_entropy_error", y, t)
    got = student.load("losses").cross_entropy_error(fresh(y), fresh(t))
    assert_close(got, cross_entropy_error(y, t), call, rtol=1e-9)


@pytest.mark.exercise("chapter4.cross_entropy_error")
def test_cross_entropy_of_a_batch_of_one_with_a_label(student):
    y = probabilities(46, 1, 5)
    t = np.array([3])
    call = call_text("cross_entropy_error", y, t, seed=46)
    got = student.load("losses").cross_entropy_error(fresh(y), fresh(t))
    assert_close(got, cross_entropy_error(y, t), call, rtol=1e-9)


@pytest.mark.exercise("chapter4.cross_entropy_error")
def test_cross_entropy_of_a_large_batch_does_not_grow_with_its_size(student):
    y = probabilities(47, 40, 10)
    t = np.eye(10)[np.random.default_rng(48).integers(0, 10, size=40)]
    call = call_text("cross_entropy_error", y, t, seed=47)
    got = student.load("losses").cross_entropy_error(fresh(y), fresh(t))
    assert_close(got, cross_entropy_error(y, t), call, rtol=1e-9)
