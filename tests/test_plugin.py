"""The pytest plugin records the right status and message for each kind of outcome.

Each case writes a tiny suite and a tiny student module, runs pytest in a subprocess
with the plugin, and reads the results file the plugin wrote."""

from __future__ import annotations

import json
import textwrap

import pytest


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # third-party plugins only slow these runs


SUITE_HEADER = """
import pytest
from grader.grading.checks import call_text, expect_int01, expect_value
"""


def run_suite(pytester, suite: str, student: dict[str, str], *extra: str) -> dict:
    target = pytester.path / "target" / "chapter2"
    target.mkdir(parents=True)
    for name, text in student.items():
        (target / name).write_text(textwrap.dedent(text), encoding="utf-8")
    pytester.makepyfile(test_suite=SUITE_HEADER + textwrap.dedent(suite))
    results = pytester.path / "results.json"
    pytester.runpytest_subprocess(
        "-p",
        "grader.grading.plugin",
        "-p",
        "no:cacheprovider",
        f"--grader-target={target.parent}",
        "--grader-chapter=chapter2",
        f"--grader-results={results}",
        "--grader-sandbox=none",
        *extra,
    )
    data = json.loads(results.read_text())
    data["by_name"] = {t["name"]: t for t in data["tests"]}
    return data


CALL_AND = """
@pytest.mark.exercise("chapter2.AND")
@pytest.mark.points(3)
def test_and(student):
    mod = student.load("perceptron")
    value = mod.AND(1, 1)
    expect_value(expect_int01(value, "AND(1, 1)"), 1, "AND(1, 1)")
"""


def test_pass_records_points_and_visibility(pytester):
    data = run_suite(pytester, CALL_AND, {"perceptron.py": "def AND(a, b):\n    return 1\n"})
    t = data["by_name"]["test_and"]
    assert (t["status"], t["score"], t["max_score"], t["visibility"]) == ("passed", 3.0, 3.0, "public")
    assert t["exercise"] == "chapter2.AND"


def test_wrong_answer_fails_without_revealing_expected(pytester):
    data = run_suite(pytester, CALL_AND, {"perceptron.py": "def AND(a, b):\n    return 0\n"})
    t = data["by_name"]["test_and"]
    assert t["status"] == "failed" and t["score"] == 0
    assert "AND(1, 1) returned 0" in t["message"]
    assert "expected" not in t["message"].lower()


def test_not_implemented_is_not_attempted(pytester):
    data = run_suite(pytester, CALL_AND, {"perceptron.py": "def AND(a, b):\n    raise NotImplementedError\n"})
    assert data["by_name"]["test_and"]["status"] == "not_attempted"


def test_error_in_setup_is_an_error(pytester):
    suite = """
@pytest.fixture
def broken():
    raise RuntimeError("setup broke")

@pytest.mark.exercise("chapter2.AND")
def test_and(student, broken):
    pass
"""
    data = run_suite(pytester, suite, {"perceptron.py": "def AND(a, b):\n    return 1\n"})
    t = data["by_name"]["test_and"]
    assert t["status"] == "error" and t["score"] == 0
    assert "setup broke" not in t["message"]  # grader internals stay internal


def test_syntax_error_in_student_file(pytester):
    data = run_suite(pytester, CALL_AND, {"perceptron.py": "def AND(a, b)\n    return 1\n"})
    t = data["by_name"]["test_and"]
    assert t["status"] == "error"
    assert "SyntaxError" in t["message"] and "perceptron.py" in t["message"]


def test_missing_function(pytester):
    data = run_suite(pytester, CALL_AND, {"perceptron.py": "def OR(a, b):\n    return 1\n"})
    t = data["by_name"]["test_and"]
    assert t["status"] == "error"
    assert "AttributeError" in t["message"] and "AND" in t["message"]


def test_missing_file(pytester):
    data = run_suite(pytester, CALL_AND, {"other.py": "x = 1\n"})
    t = data["by_name"]["test_and"]
    assert t["status"] == "error" and "perceptron.py was not found" in t["message"]


def test_wrong_return_type(pytester):
    data = run_suite(pytester, CALL_AND, {"perceptron.py": "def AND(a, b):\n    return True\n"})
    t = data["by_name"]["test_and"]
    assert t["status"] == "failed"
    assert "returned a bool" in t["message"] and "Python int" in t["message"]


def test_returning_none_says_forgot_return(pytester):
    data = run_suite(pytester, CALL_AND, {"perceptron.py": "def AND(a, b):\n    a + b\n"})
    assert "forget a `return`" in data["by_name"]["test_and"]["message"]


def test_timeout_keeps_points_of_other_tests(pytester):
    suite = CALL_AND + """
@pytest.mark.exercise("chapter2.OR")
@pytest.mark.timeout_s(1)
def test_or(student):
    student.load("perceptron").OR(1, 1)

@pytest.mark.exercise("chapter2.NAND")
def test_nand_after(student):
    mod = student.load("perceptron")
    expect_value(expect_int01(mod.NAND(1, 1), "NAND(1, 1)"), 0, "NAND(1, 1)")
"""
    student = {"perceptron.py": "def AND(a, b):\n    return 1\ndef OR(a, b):\n    while True:\n        pass\ndef NAND(a, b):\n    return 0\n"}
    data = run_suite(pytester, suite, student)
    assert data["by_name"]["test_or"]["status"] == "timeout"
    assert data["by_name"]["test_and"]["status"] == "passed"
    assert data["by_name"]["test_nand_after"]["status"] == "passed"  # a fresh worker took over


def test_bare_assert_does_not_leak_test_source(pytester):
    suite = """
@pytest.mark.exercise("chapter2.AND")
def test_and(student):
    secret_expected = 12345
    assert student.load("perceptron").AND(1, 1) == secret_expected
"""
    data = run_suite(pytester, suite, {"perceptron.py": "def AND(a, b):\n    return 1\n"})
    t = data["by_name"]["test_and"]
    assert t["status"] == "failed"
    assert "12345" not in t["message"] and "secret_expected" not in t["message"]


def test_hidden_visibility_from_file_name(pytester):
    target = pytester.path / "target" / "chapter2"
    target.mkdir(parents=True)
    (target / "perceptron.py").write_text("def AND(a, b):\n    return 1\n")
    pytester.makepyfile(test_suite_hidden=SUITE_HEADER + textwrap.dedent(CALL_AND))
    results = pytester.path / "r.json"
    pytester.runpytest_subprocess(
        "-p", "grader.grading.plugin", f"--grader-target={target.parent}", "--grader-chapter=chapter2",
        f"--grader-results={results}", "--grader-sandbox=none",
    )
    (t,) = json.loads(results.read_text())["tests"]
    assert t["visibility"] == "hidden"


@pytest.mark.parametrize("exc", ["ValueError('bad shape')", "KeyError('W1')"])
def test_student_exception_is_error_with_student_traceback(pytester, exc):
    student = {"perceptron.py": f"def helper():\n    raise {exc}\ndef AND(a, b):\n    return helper()\n"}
    data = run_suite(pytester, CALL_AND, student)
    t = data["by_name"]["test_and"]
    assert t["status"] == "error"
    assert exc.split("(")[0] in t["message"]
    assert "perceptron.py" in t["message"] and "grader" not in t["message"]
