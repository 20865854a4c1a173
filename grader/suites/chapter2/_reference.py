"""What the chapter 2 suites (public and hidden) share: the gates' truth tables.

Ships with student releases: only the book's definitions (the stubs state them), no expected
values of any hidden test.
"""

from __future__ import annotations

from grader.grading.checks import call_text, expect_int01, expect_value

GATES = ("AND", "NAND", "OR", "XOR")


def truth(gate: str, x1: float, x2: float) -> int:
    """The gate's output for inputs that are 0 or 1 (ints or floats)."""
    a, b = int(x1), int(x2)
    both = a & b
    return {"AND": both, "NAND": 1 - both, "OR": a | b, "XOR": a ^ b}[gate]


def check_gate(student, gate: str, inputs) -> None:
    """Call the student's gate on every (x1, x2) and compare with the truth table."""
    fn = getattr(student.load("perceptron"), gate)
    for x1, x2 in inputs:
        call = call_text(gate, x1, x2)
        expect_value(expect_int01(fn(x1, x2), call), truth(gate, x1, x2), call, "output")
