"""A target is a unit: ``target_state`` belongs to the target being graded.

A suite that computes something once per student and judges it in two tests (chapter 8's
training run) keeps it in the plugin's ``target_state`` fixture. In a batch session that
dict is made fresh when a target starts and dropped when it finishes, so the second student
is judged on their own work — also when the first student's run raised.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import write_batch_targets

SUITE = """
import pytest
from grader.grading.checks import expect_value

def shared(student, target_state):
    if "error" in target_state:
        raise target_state["error"]
    if "value" not in target_state:
        try:
            target_state["value"] = student.load("perceptron").AND(1, 1)
        except BaseException as exc:
            target_state["error"] = exc
            raise
    return target_state["value"]

@pytest.mark.exercise("chapter2.AND")
def test_first_use(student, target_state):
    expect_value(shared(student, target_state), 1, "AND(1, 1)")

@pytest.mark.exercise("chapter2.AND")
def test_second_use(student, target_state):
    expect_value(shared(student, target_state), 1, "AND(1, 1)")
"""

STUDENTS = {
    "a-raises": "def AND(x1, x2):\n    raise ValueError('no')\n",
    "b-wrong": "def AND(x1, x2):\n    return 0\n",
    "c-right": "def AND(x1, x2):\n    return int(x1 and x2)\n",
}


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def test_each_target_gets_its_own_state_in_a_batch(pytester):
    write_batch_targets(pytester.path, STUDENTS)
    pytester.makepyfile(test_suite=SUITE)
    results = pytester.path / "results.json"
    pytester.runpytest_subprocess(
        "-p", "grader.grading.plugin", "-p", "no:cacheprovider", "--grader-targets=targets.json",
        "--grader-chapter=chapter2", f"--grader-results={results}", "--grader-sandbox=auto",
    )
    data = json.loads(results.read_text())["targets"]
    by = {k: {t["name"]: t["status"] for t in v["tests"]} for k, v in data.items()}
    assert by["a-raises"] == {"test_first_use": "error", "test_second_use": "error"}
    assert by["b-wrong"] == {"test_first_use": "failed", "test_second_use": "failed"}
    assert by["c-right"] == {"test_first_use": "passed", "test_second_use": "passed"}


def test_target_state_is_dropped_when_the_target_finishes():
    from types import SimpleNamespace

    from grader.grading.recorder import Recorder
    from grader.grading.targets import Target

    recorder = Recorder.__new__(Recorder)  # only the bookkeeping of _finish_current
    target = Target(0, "k", __import__("pathlib").Path("."), SimpleNamespace(id="chapter2"))
    target.client = SimpleNamespace(isolation=["x"], close=lambda: None)
    target.state, target.reported_blocks, target.names_cache = {"run": 1}, {"shown"}, {"names": 1}
    recorder.current, recorder.client = target, target.client
    recorder.state, recorder.reported_blocks, recorder.names_cache = target.state, target.reported_blocks, target.names_cache
    recorder._finish_current()
    assert target.state is None and recorder.state is None
    assert not target.reported_blocks and not recorder.reported_blocks and not recorder.names_cache
    assert recorder.client is None and recorder.current is None
