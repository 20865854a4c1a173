"""assert_equal_array: type, shape and dtype first; then the first wrong element, never the answer."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.checks import Feedback, assert_equal_array


def test_passes_on_equal_int_and_float_arrays():
    assert_equal_array(np.array([0, 1, 1]), np.array([0, 1, 1]), "f(x)")
    assert_equal_array(np.array([0.0, 1.0]), np.array([0, 1]), "f(x)")


def test_reports_the_first_wrong_element_with_its_input():
    x = np.array([-1.0, 0.0, 2.0])
    with pytest.raises(Feedback) as info:
        assert_equal_array(np.array([0, 1, 1]), np.array([0, 0, 1]), "step_function(<float64 (3,)>)", given=x)
    text = str(info.value)
    assert "1 of 3 value(s) are wrong" in text
    assert "element [1]" in text and "you returned 1 for the input 0.0" in text


@pytest.mark.parametrize(
    "value, fragment",
    [
        (None, "returned None"),
        ([0, 1], "expected a numpy array"),
        (np.array([True, False]), "dtype bool"),
        (np.array([[0, 1]]), "shape (1, 2)"),
    ],
)
def test_type_shape_and_dtype_come_before_values(value, fragment):
    with pytest.raises(Feedback, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        assert_equal_array(value, np.array([0, 1]), "f(x)")
