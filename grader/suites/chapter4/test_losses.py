"""Public checks for chapter 4 losses: one sample, a batch, one-hot and label targets."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import assert_close, call_text, fresh, frozen
from grader.suites.chapter4._reference import cross_entropy_error, probabilities, sum_squared_error

BOOK_Y = frozen(np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]))
BOOK_T = frozen(np.eye(10)[2])


@pytest.mark.exercise("chapter4.sum_squared_error")
def test_sum_squared_error_of_one_sample(student):
    call = call_text("sum_squared_error", BOOK_Y, BOOK_T)
    got = student.load("losses").sum_squared_error(fresh(BOOK_Y), fresh(BOOK_T))
    assert_close(got, sum_squared_error(BOOK_Y, BOOK_T), call, rtol=1e-9)


@pytest.mark.exercise("chapter4.cross_entropy_error")
def test_cross_entropy_of_one_sample_with_a_one_hot_target(student):
    call = call_text("cross_entropy_error", BOOK_Y, BOOK_T)
    got = student.load("losses").cross_entropy_error(fresh(BOOK_Y), fresh(BOOK_T))
    assert_close(got, cross_entropy_error(BOOK_Y, BOOK_T), call, rtol=1e-9)


@pytest.mark.exercise("chapter4.cross_entropy_error")
def test_cross_entropy_of_a_batch_is_the_mean_per_sample(student):
    y = probabilities(41, 5, 4)
    t = np.eye(4)[np.random.default_rng(42).integers(0, 4, size=5)]
    call = call_text("cross_entropy_error", y, t, seed=41)
    got = student.load("losses").cross_entropy_error(fresh(y), fresh(t))
    assert_close(got, cross_entropy_error(y, t), call, rtol=1e-9)


@pytest.mark.exercise("chapter4.cross_entropy_error")
def test_cross_entropy_of_a_batch_with_label_targets(student):
    y = probabilities(43, 6, 3)
    t = np.random.default_rng(44).integers(0, 3, size=6)
    call = call_text("cross_entropy_error", y, t, seed=43)
    got = student.load("losses").cross_entropy_error(fresh(y), fresh(t))
    assert_close(got, cross_entropy_error(y, t), call, rtol=1e-9)
