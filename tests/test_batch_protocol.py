"""Issue 22: a batch runs each test's setup, call and teardown itself (``BatchMode``'s lean
protocol), not through pytest's per-phase hooks. It must grade exactly as pytest's own
protocol does (``GRADER_BATCH_LOG=1``): passes, failures, errors in a fixture's setup or in
the test, a fixture's teardown failing after a pass, a skip, a timeout, a module that does
not load, per target."""

from __future__ import annotations

import json

import pytest

from tests.conftest import write_batch_targets

SUITE = """
import pytest
from grader.grading.checks import expect_value

@pytest.fixture
def broken_setup():
    raise RuntimeError("fixture setup failed")

@pytest.fixture
def broken_teardown():
    yield 1
    raise RuntimeError("fixture teardown failed")

@pytest.mark.exercise("chapter2.AND")
@pytest.mark.parametrize("x", [0, 1])
def test_and(student, x):
    expect_value(student.load("perceptron").AND(x, 1), x, f"AND({x}, 1)", "output")

@pytest.mark.exercise("chapter2.AND")
@pytest.mark.points(2)
def test_and_state(student, target_state):
    target_state["n"] = target_state.get("n", 0) + 1
    assert target_state["n"] == 1
    expect_value(student.load("perceptron").AND(1, 1), 1, "AND(1, 1)", "output")

@pytest.mark.exercise("chapter2.OR")
def test_setup_error(student, broken_setup):
    student.load("perceptron").OR(0, 0)

@pytest.mark.exercise("chapter2.OR")
def test_teardown_error_after_a_pass(student, broken_teardown):
    expect_value(student.load("perceptron").OR(0, 1), 1, "OR(0, 1)", "output")

@pytest.mark.exercise("chapter2.OR")
def test_skipped(student):
    pytest.skip("not this one")

@pytest.mark.exercise("chapter2.NAND")
@pytest.mark.timeout_s(1)
def test_nand(student):
    expect_value(student.load("perceptron").NAND(1, 1), 0, "NAND(1, 1)", "output")
"""

STUDENTS = {
    "good": "def AND(a, b):\n    return int(a and b)\ndef OR(a, b):\n    return int(a or b)\n"
            "def NAND(a, b):\n    return 1 - int(a and b)\n",
    "wrong": "def AND(a, b):\n    return 0\ndef OR(a, b):\n    raise ValueError('no')\n"
             "def NAND(a, b):\n    while True:\n        pass\n",
    "syntax": "def AND(a, b)\n    return 1\n",
    "prints": "def AND(a, b):\n    print('and', a, b)\n    return int(a and b)\ndef OR(a, b):\n    return 1\n"
              "def NAND(a, b):\n    return 0\n",
}

# A conftest hook on a phase pytest's protocol dispatches: the lean protocol does not call it
# (nothing of ours is there), so its log shows which protocol ran.
CONFTEST = """
import os

def pytest_runtest_call(item):
    with open(os.environ["PHASE_LOG"], "a") as f:
        f.write(item.name + "\\n")
"""


def _comparable(test: dict) -> dict:
    """A test's record without what depends on the machine's timing: its duration, and for a
    timeout where the code was when it was stopped (named only if its stack was written before
    the kill, which a loaded machine may delay)."""
    entry = {k: v for k, v in test.items() if k != "duration"}
    if entry["status"] == "timeout":
        entry["message"] = entry["message"].split(" When it was stopped")[0]
    return entry


def _grade(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, pytest_protocol: bool, tag: str):
    phase_log = pytester.path / f"phases-{tag}.txt"
    phase_log.write_text("")
    monkeypatch.setenv("PHASE_LOG", str(phase_log))
    if pytest_protocol:
        monkeypatch.setenv("GRADER_BATCH_LOG", "1")
    else:
        monkeypatch.delenv("GRADER_BATCH_LOG", raising=False)
    results = pytester.path / f"results-{tag}.json"
    pytester.runpytest_subprocess(
        "-p", "grader.grading.plugin", "-p", "no:cacheprovider", "-s", "--grader-targets=targets.json",
        "--grader-chapter=chapter2", f"--grader-results={results}", "--grader-sandbox=none",
    )
    data = json.loads(results.read_text())
    graded = {key: [_comparable(t) for t in entry["tests"]] for key, entry in data["targets"].items()}
    artifacts = {key: entry["artifacts"] for key, entry in data["targets"].items()}
    return graded, artifacts, data["internal"], phase_log.read_text().split()


def test_the_lean_batch_protocol_grades_as_pytests_own(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    write_batch_targets(pytester.path, STUDENTS)
    pytester.makepyfile(test_suite=SUITE)
    pytester.makeconftest(CONFTEST)

    lean, lean_artifacts, lean_internal, lean_phases = _grade(pytester, monkeypatch, False, "lean")
    own, own_artifacts, own_internal, own_phases = _grade(pytester, monkeypatch, True, "pytest")

    assert lean_phases == [], "the lean protocol dispatches no per-phase hook"
    # pytest's protocol calls each test whose setup passed: 7 per target, all but test_setup_error
    assert len(own_phases) == (7 - 1) * len(STUDENTS), "pytest's protocol calls each test that set up"
    differ = [(key, a, b) for key in own for a, b in zip(lean.get(key, []), own[key], strict=False) if a != b]
    assert lean == own, differ  # (the records that differ, when the lists line up)
    assert lean_artifacts == own_artifacts
    assert [line.split(":")[0] for line in lean_internal] == [line.split(":")[0] for line in own_internal]

    status = {key: {t["name"]: t["status"] for t in tests} for key, tests in lean.items()}
    assert status["good"] == {
        "test_and[0]": "passed", "test_and[1]": "passed", "test_and_state": "passed",
        "test_setup_error": "error", "test_teardown_error_after_a_pass": "passed",
        "test_skipped": status["good"]["test_skipped"], "test_nand": "passed",
    }  # (a skip: whatever pytest's protocol makes of it, compared above)
    assert status["wrong"]["test_and[1]"] == "failed" and status["wrong"]["test_and_state"] == "failed"
    assert status["wrong"]["test_nand"] == "timeout"
    assert status["wrong"]["test_teardown_error_after_a_pass"] == "error"
    assert set(status["syntax"].values()) == {"error"}
    # each target's own state: the second target's target_state starts empty again
    assert status["prints"]["test_and_state"] == "passed"
    assert any(a.get("kind") == "test_output" for a in lean_artifacts["prints"])
    # a fixture's teardown that fails after a pass is the grader's problem, recorded as such
    assert any("test_teardown_error_after_a_pass" in line for line in lean_internal)
