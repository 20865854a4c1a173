"""Public checks for chapter 2: the four gates on their truth tables."""

from __future__ import annotations

import itertools

import pytest

from grader.suites.chapter2._reference import check_gate

INPUTS = tuple(itertools.product((0, 1), repeat=2))


@pytest.mark.exercise("chapter2.AND")
def test_and_truth_table(student):
    check_gate(student, "AND", INPUTS)


@pytest.mark.exercise("chapter2.NAND")
def test_nand_truth_table(student):
    check_gate(student, "NAND", INPUTS)


@pytest.mark.exercise("chapter2.OR")
def test_or_truth_table(student):
    check_gate(student, "OR", INPUTS)


@pytest.mark.exercise("chapter2.XOR")
@pytest.mark.points(2)
def test_xor_truth_table(student):
    check_gate(student, "XOR", INPUTS)
