"""Issue 21: messages about one returned number read as sentences in both languages."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import Feedback, assert_close
from grader.util import i18n


def _message(actual, expected) -> str:
    with pytest.raises(Feedback) as caught:
        assert_close(actual, expected, "loss(y, t)")
    return str(caught.value)


def test_a_wrong_number_is_not_called_the_worst_of_one(monkeypatch) -> None:
    monkeypatch.setattr(i18n, "_chosen", "en")
    text = _message(0.5, 0.7)
    assert text.startswith("loss(y, t): the value is off: you returned 0.5, relative error 2.86e-01")
    assert "Worst the value" not in text and "1 of 1" not in text
    monkeypatch.setattr(i18n, "_chosen", "zh")
    assert _message(0.5, 0.7).startswith("loss(y, t)：返回值不对：你返回了 0.5")


def test_arrays_still_name_their_worst_element(monkeypatch) -> None:
    monkeypatch.setattr(i18n, "_chosen", "en")
    text = _message(np.array([1.0, 2.5]), np.array([1.0, 2.0]))
    assert "1 of 2 value(s) are off. Worst element [1]: you returned 2.5" in text
