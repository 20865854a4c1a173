"""Public checks for chapter 4 losses: one sample, a batch, one-hot and label targets."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import assert_close, call_text, fresh, frozen
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


# --- the kinds of check the hidden tests make, on other inputs: a batch for the squared
# error, probabilities of 0 and below 1e-7, a batch of one, a large batch ---------------


@pytest.mark.exercise("chapter4.sum_squared_error")
def test_sum_squared_error_of_a_batch_sums_every_row(student):
    rng = np.random.default_rng(49)
    y, t = rng.random((3, 4)), rng.random((3, 4))
    call = call_text("sum_squared_error", y, t, seed=49)
    got = student.load("losses").sum_squared_error(fresh(y), fresh(t))
    assert_close(got, sum_squared_error(y, t), call, rtol=1e-9)


@pytest.mark.exercise("chapter4.cross_entropy_error")
def test_cross_entropy_stays_finite_for_a_zero_probability(student):
    y = np.array([[0.3, 0.7, 0.0], [0.0, 0.4, 0.6]])
    t = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    call = call_text("cross_entropy_error", y, t)
    got = student.load("losses").cross_entropy_error(fresh(y), fresh(t))
    assert_close(got, cross_entropy_error(y, t), call, rtol=1e-9)


@pytest.mark.exercise("chapter4.cross_entropy_error")
def test_cross_entropy_of_tiny_probabilities_adds_the_books_1e7(student):
    y = np.array([[0.5, 2e-6, 0.499998], [0.9999995, 5e-7, 0.0]])
    t = np.array([1, 1])
    call = call_text("cross_entropy_error", y, t)
    got = student.load("losses").cross_entropy_error(fresh(y), fresh(t))
    assert_close(got, cross_entropy_error(y, t), call, rtol=1e-9)


@pytest.mark.exercise("chapter4.cross_entropy_error")
def test_cross_entropy_of_one_sample_in_a_batch_with_a_label(student):
    y = probabilities(50, 1, 4)
    t = np.array([1])
    call = call_text("cross_entropy_error", y, t, seed=50)
    got = student.load("losses").cross_entropy_error(fresh(y), fresh(t))
    assert_close(got, cross_entropy_error(y, t), call, rtol=1e-9)


@pytest.mark.exercise("chapter4.cross_entropy_error")
def test_cross_entropy_of_a_large_batch_is_a_mean_not_a_sum(student):
    y = probabilities(59, 30, 6)
    t = np.eye(6)[np.random.default_rng(60).integers(0, 6, size=30)]
    call = call_text("cross_entropy_error", y, t, seed=59)
    got = student.load("losses").cross_entropy_error(fresh(y), fresh(t))
    assert_close(got, cross_entropy_error(y, t), call, rtol=1e-9)
