"""Hidden checks for chapter 2: float inputs and the strict > 0 threshold."""

from __future__ import annotations

import pytest

from grader.checks import call_text, expect_int01, expect_value

# Float versions of the inputs: a gate must not depend on receiving ints.
FLOAT_INPUTS = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]


def _truth(gate: str, x1: float, x2: float) -> int:
    a, b = int(x1), int(x2)
    return {"AND": a & b, "NAND": 1 - (a & b), "OR": a | b, "XOR": a ^ b}[gate]


def _check_floats(student, gate: str) -> None:
    fn = getattr(student.load("perceptron"), gate)
    for x1, x2 in FLOAT_INPUTS:
        call = call_text(gate, x1, x2)
        expect_value(expect_int01(fn(x1, x2), call), _truth(gate, x1, x2), call, "output")


@pytest.mark.exercise("chapter2.AND")
def test_and_accepts_float_inputs(student):
    _check_floats(student, "AND")


@pytest.mark.exercise("chapter2.NAND")
def test_nand_accepts_float_inputs(student):
    _check_floats(student, "NAND")


@pytest.mark.exercise("chapter2.OR")
def test_or_accepts_float_inputs(student):
    _check_floats(student, "OR")


@pytest.mark.exercise("chapter2.XOR")
@pytest.mark.points(2)
def test_xor_accepts_float_inputs(student):
    _check_floats(student, "XOR")
