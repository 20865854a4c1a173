"""Hidden checks for chapter 2: float inputs and the strict > 0 threshold."""

from __future__ import annotations

import pytest

from grader.suites.chapter2._reference import check_gate

# Float versions of the inputs: a gate must not depend on receiving ints.
FLOAT_INPUTS = ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0))


@pytest.mark.exercise("chapter2.AND")
def test_and_accepts_float_inputs(student):
    check_gate(student, "AND", FLOAT_INPUTS)


@pytest.mark.exercise("chapter2.NAND")
def test_nand_accepts_float_inputs(student):
    check_gate(student, "NAND", FLOAT_INPUTS)


@pytest.mark.exercise("chapter2.OR")
def test_or_accepts_float_inputs(student):
    check_gate(student, "OR", FLOAT_INPUTS)


@pytest.mark.exercise("chapter2.XOR")
@pytest.mark.points(2)
def test_xor_accepts_float_inputs(student):
    check_gate(student, "XOR", FLOAT_INPUTS)
