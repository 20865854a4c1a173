"""Public checks for chapter 4 losses: one sample, a batch, one-hot and label targets."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import assert_close, call_text

BOOK_Y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
BOOK_T = np.eye(10)[2]


def reference_cee(y: np.ndarray, t: np.ndarray) -> float:
    y2 = y.reshape(-1, y.shape[-1])
    labels = t.reshape(y2.shape).argmax(axis=1) if t.size == y.size else t.reshape(-1)
    return float(-np.mean(np.log(y2[np.arange(len(y2)), labels] + 1e-7)))


def probabilities(seed: int, n: int, c: int) -> np.ndarray:
    s = np.random.default_rng(seed).normal(size=(n, c))
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.exercise("chapter4.sum_squared_error")
def test_sum_squared_error_of_one_sample(student):
    call = call_text("sum_squared_error", BOOK_Y, BOOK_T)
    got = student.load("losses").sum_squared_error(BOOK_Y.copy(), BOOK_T.copy())
    assert_close(got, 0.5 * np.sum((BOOK_Y - BOOK_T) ** 2), call, rtol=1e-9)


@pytest.mark.exercise("chapter4.cross_entropy_error")
def test_cross_entropy_of_one_sample_with_a_one_hot_target(student):
    call = call_text("cross_entropy_error", BOOK_Y, BOOK_T)
    got = student.load("losses").cross_entropy_error(BOOK_Y.copy(), BOOK_T.copy())
    assert_close(got, reference_cee(BOOK_Y, BOOK_T), call, rtol=1e-9)


@pytest.mark.exercise("chapter4.cross_entropy_error")
def test_cross_entropy_of_a_batch_is_the_mean_per_sample(student):
    y = probabilities(41, 5, 4)
    t = np.eye(4)[np.random.default_rng(42).integers(0, 4, size=5)]
    call = call_text("cross_entropy_error", y, t, seed=41)
    got = student.load("losses").cross_entropy_error(y.copy(), t.copy())
    assert_close(got, reference_cee(y, t), call, rtol=1e-9)


@pytest.mark.exercise("chapter4.cross_entropy_error")
def test_cross_entropy_of_a_batch_with_label_targets(student):
    y = probabilities(43, 6, 3)
    t = np.random.default_rng(44).integers(0, 3, size=6)
    call = call_text("cross_entropy_error", y, t, seed=43)
    got = student.load("losses").cross_entropy_error(y.copy(), t.copy())
    assert_close(got, reference_cee(y, t), call, rtol=1e-9)
