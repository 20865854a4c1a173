"""Batch mode of the plugin (--grader-targets): many targets, one session, same verdicts.

One pytest session grades several targets of a chapter; each target's worker is forked
from a per-session fork server. A crash, a runaway loop or a memory blow-up in one
target's worker must not change any other target's results, and every target must get
exactly the verdicts a fresh single-target run (run_check) gives it.
"""

from __future__ import annotations

import json

import pytest

from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check
from grader.instructor.batch import run_batch
from tests.conftest import write_batch_targets

WRONG_AND = "def AND(x1, x2):\n    return 0\n"
CRASH = "import os\n\ndef AND(x1, x2):\n    os._exit(7)\n"
RAISES = "def AND(x1, x2):\n    raise ValueError('nope')\n"
HOG = "def AND(x1, x2):\n    x = bytearray(4 * 1024 ** 3)\n    return 1\n"


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _verdicts(report):
    return sorted((t.exercise, t.name, t.visibility, t.status, t.score) for t in report.tests)


@pytest.mark.parametrize("sandbox", ["none", "auto"])
def test_batch_matches_single_runs_and_faults_stay_local(make_target, sandbox):
    chapter = load_catalog().chapter("chapter2")
    solution = (make_target("chapter2") / "chapter2" / "perceptron.py").read_text()

    def variant(and_src: str):
        # the solution with AND replaced: the other gates must keep their points
        body = solution.split("def AND", 1)
        rest = body[1].split("\ndef ", 1)[1]
        return make_target("chapter2", {"perceptron.py": body[0] + and_src + "\n\ndef " + rest})

    targets = {
        "good1": make_target("chapter2"),
        "crash": variant(CRASH),
        "good2": make_target("chapter2"),
        "stub": make_target("chapter2", base="exercises"),
        "wrong": variant(WRONG_AND),
        "raises": variant(RAISES),
        "hog": variant(HOG),
        "good3": make_target("chapter2"),
    }
    batch = run_batch(chapter, list(targets.items()), sandbox=sandbox)
    assert set(batch) == set(targets)
    for key in ("good1", "good2", "good3"):
        assert batch[key].score == batch[key].max_score == 10
    assert batch["stub"].score == 0
    statuses = {k: {t.status for t in r.tests if t.exercise == "chapter2.AND"} for k, r in batch.items()}
    assert statuses["crash"] == {"error"} and statuses["wrong"] == {"failed"}
    assert statuses["raises"] == {"error"} and statuses["hog"] == {"resource"}
    # the other gates of a broken submission keep their points (XOR is built from AND)
    for key in ("crash", "wrong", "raises", "hog"):
        others = [t for t in batch[key].tests if t.exercise not in ("chapter2.AND", "chapter2.XOR")]
        assert others and all(t.status == "passed" for t in others), key
    # identical verdicts to one fresh run per target
    for key in ("crash", "hog"):
        single = run_check(chapter, targets[key], sandbox=sandbox)
        assert _verdicts(single) == _verdicts(batch[key]), key
    assert any("fork server" in i for i in batch["good1"].isolation)
    if sandbox == "auto":
        from grader.boundary.sandbox import bwrap_works

        if bwrap_works():
            assert any("bubblewrap" in i for i in batch["good1"].isolation)


SUITE = """
import pytest
from grader.grading.checks import expect_value

@pytest.mark.exercise("chapter2.AND")
@pytest.mark.timeout_s(1)
@pytest.mark.parametrize("x", [0, 1])
def test_and_value(student, x):
    expect_value(student.load("perceptron").AND(x, 1), x, f"AND({x}, 1)", "output")

@pytest.mark.exercise("chapter2.OR")
def test_tmp_is_private(student):
    mod = student.load("perceptron")
    expect_value(mod.OR(0, 0), 0, "OR(0, 0)", "output")
"""

TMP_WRITER = """
import os
def AND(x1, x2):
    return int(x1 and x2)
def OR(x1, x2):
    seen = os.path.exists('/tmp/planted')
    open('/tmp/planted', 'w').write('x')
    return 1 if seen else 0
"""


def test_batch_timeout_and_names_per_target(pytester):
    students = {
        "loops": "def AND(x1, x2):\n    while True:\n        pass\n",
        "good": TMP_WRITER,
        "exits": "import sys\ndef AND(x1, x2):\n    sys.exit(3)\n",
        "good_again": TMP_WRITER,
    }
    write_batch_targets(pytester.path, students)
    pytester.makepyfile(test_suite=SUITE)
    results = pytester.path / "results.json"
    pytester.runpytest_subprocess(
        "-p", "grader.grading.plugin", "-p", "no:cacheprovider", "--grader-targets=targets.json",
        "--grader-chapter=chapter2", f"--grader-results={results}", "--grader-sandbox=auto",
    )
    data = json.loads(results.read_text())["targets"]
    by = {k: {t["name"]: t["status"] for t in v["tests"]} for k, v in data.items()}
    assert by["loops"]["test_and_value[0]"] == "timeout" and by["loops"]["test_and_value[1]"] == "timeout"
    assert by["good"] == {"test_and_value[0]": "passed", "test_and_value[1]": "passed", "test_tmp_is_private": "passed"}
    assert set(by["exits"].values()) >= {"error"}
    # /tmp of one submission's worker is not seen by the next one (bubblewrap: private
    # /tmp, emptied between children; without it: the worker's file system is read-only)
    assert by["good_again"]["test_tmp_is_private"] == "passed"


def test_a_batch_whose_pytest_cannot_start_says_why(make_target, monkeypatch):
    """pytest's own output goes to a file (not a pipe read while it runs); when pytest ends
    without results, the error still ends with what it said."""
    from grader.util.errors import InternalError

    monkeypatch.setenv("PYTEST_ADDOPTS", "--no-such-grader-option")
    with pytest.raises(InternalError) as caught:
        run_batch(load_catalog().chapter("chapter2"), [("a", make_target("chapter2"))], sandbox="none")
    assert "failed to run the chapter2 suites" in str(caught.value)
    assert "--no-such-grader-option" in str(caught.value)
