"""Public checks for chapter 2: the four gates on their truth tables."""

from __future__ import annotations

import itertools

import pytest

from grader.checks import call_text, expect_int01, expect_value

INPUTS = list(itertools.product((0, 1), repeat=2))


def _truth(gate: str, x1: int, x2: int) -> int:
    return {"AND": x1 & x2, "NAND": 1 - (x1 & x2), "OR": x1 | x2, "XOR": x1 ^ x2}[gate]


def _check_table(student, gate: str) -> None:
    fn = getattr(student.load("perceptron"), gate)
    for x1, x2 in INPUTS:
        call = call_text(gate, x1, x2)
        expect_value(expect_int01(fn(x1, x2), call), _truth(gate, x1, x2), call, "output")


@pytest.mark.exercise("chapter2.AND")
def test_and_truth_table(student):
    _check_table(student, "AND")


@pytest.mark.exercise("chapter2.NAND")
def test_nand_truth_table(student):
    _check_table(student, "NAND")


@pytest.mark.exercise("chapter2.OR")
def test_or_truth_table(student):
    _check_table(student, "OR")


@pytest.mark.exercise("chapter2.XOR")
@pytest.mark.points(2)
def test_xor_truth_table(student):
    _check_table(student, "XOR")
