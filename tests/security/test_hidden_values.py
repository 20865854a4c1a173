"""A hidden test's expected values never reach the student, not even by arithmetic.

A values-off message that gives both the student's value and its relative error gives the
expected value away (expected = got / (1 ± rel)); students who see hidden results (a
Gradescope autograder, a collect report shared with them) could read the hidden answers off
it, one resubmission at a time. Hiding the value is not enough: a student who returns a value
they chose (a constant) knows it. Public tests keep the student's value and the error; hidden
ones say only where the worst value is and whether it is near (< 1e-3) or far off."""

from __future__ import annotations

import re

import corpus
from clirun import student_view


def _values_off(tests: dict, visibility: str) -> list[str]:
    return [
        t.message
        for t in tests.values()
        if t.visibility == visibility and t.status == "failed" and "value(s) are off" in t.message
    ]


def test_a_hidden_values_off_message_cannot_be_solved_for_the_expected_value(tmp_path):
    wrong = corpus.case("wrong", "chapter3/sigmoid_sign_slip")
    tests = student_view("chapter3", wrong.target(tmp_path / "t"))
    public, hidden = _values_off(tests, "public"), _values_off(tests, "hidden")
    assert public and hidden
    assert all("you returned" in m for m in public)  # public: the student's value helps debugging
    for message in hidden:
        assert "you returned" not in message
        rel = re.search(r"relative error (\S+) \(allowed", message)
        assert rel, message
        # the error only as a band (a value the student chose would solve an exact one too)
        assert rel.group(1) in ("<1e-03", ">1e-03"), message
        # the only numbers left: counts, the element's index, the band's edge and the tolerance
        numbers = re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", message.split(":", 1)[1])
        assert all(re.fullmatch(r"\d+", n) or n in ("1e-03", "1e-06") for n in numbers), numbers


def test_the_same_holds_in_chinese(tmp_path):
    wrong = corpus.case("wrong", "chapter6/adam_wrong_default_lr")
    tests = student_view("chapter6", wrong.target(tmp_path / "t"), lang="zh")
    hidden = [t.message for t in tests.values() if t.visibility == "hidden" and t.status == "failed"]
    assert hidden and all("相对误差" in m and "你返回了" not in m for m in hidden), hidden
