"""Every per-submission failure is per submission (issue 11): a hostile file is one
rejected row with a reason and the run goes on; JSON nesting and sizes are bounded; the
reader is fuzzed with Hypothesis over zips and JSON."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from instructor_helpers import make_folder_submission, responses, zip_folder

import grader.instructor.collect as collect_mod
import grader.instructor.tasks as tasks_mod
from grader.instructor.collect import collect
from grader.instructor.gradebook import Gradebook
from grader.instructor.submission import BadSubmission, load_json_bounded, read_submission

CHAPTERS = ["chapter2"]
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def test_bounded_json_refuses_deep_nesting_without_recursion():
    with pytest.raises(ValueError, match="nested more than"):
        load_json_bounded(DEEP, "manifest.json")
    with pytest.raises(ValueError, match="nested more than"):
        load_json_bounded(b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "x")
    # brackets inside strings are not nesting
    assert load_json_bounded(json.dumps({"s": "[" * 10_000}).encode(), "x") == {"s": "[" * 10_000}
    with pytest.raises(ValueError, match="larger than"):
        load_json_bounded(b" " * 2_000_000, "x")


def test_hostile_manifest_and_responses_do_not_stop_the_class(tmp_path):
    subs = tmp_path / "subs"
    make_folder_submission(subs, "alice", "correct", responses=responses({"q1": "a"}))
    staged = make_folder_submission(tmp_path / "staging", "mallory", "correct")
    zip_folder(staged, subs / "mallory.zip", {"manifest.json": DEEP})
    trudy = make_folder_submission(subs, "trudy", "correct")
    (trudy / ".grade").mkdir()
    (trudy / ".grade" / "quiz_responses.json").write_bytes(b'{"attempts": ' + DEEP + b"}")
    db = tmp_path / "gb.sqlite"
    s = collect([subs], db, workers=1, chapters=CHAPTERS)
    assert s.graded == 2 and not s.failed
    assert [(Path(src).name, "nested more than" in why) for src, why in s.rejected] == [("mallory.zip", True)]
    with Gradebook(db) as gb:
        rows = {r["student"]: r for r in gb.submissions()}
        assert rows["mallory"]["status"] == "rejected" and "manifest.json" in rows["mallory"]["reason"]
        assert rows["trudy"]["status"] == "graded"
        assert any("quizzes not scored" in p for p in json.loads(rows["trudy"]["problems"]))
        scores = {r["student"]: gb.chapter_scores()[r["hash"]]["chapter2"]["score"] for r in gb.latest()}
        assert scores == {"alice": 10, "trudy": 10}


@pytest.mark.parametrize("error", [RecursionError("maximum recursion depth exceeded"), MemoryError(),
                                   OSError(5, "Input/output error"), UnicodeDecodeError("utf-8", b"\xff", 0, 1, "x")])
def test_any_exception_while_reading_one_submission_is_recorded_for_it(tmp_path, monkeypatch, error):
    subs = tmp_path / "subs"
    make_folder_submission(subs, "alice", "correct")
    make_folder_submission(subs, "bob", "correct")
    real = collect_mod.read_submission

    def flaky(path, origin=None):
        if Path(path).name == "bob":
            raise error
        return real(path, origin)

    monkeypatch.setattr(collect_mod, "read_submission", flaky)
    db = tmp_path / "gb.sqlite"
    s = collect([subs], db, workers=1, chapters=CHAPTERS)
    assert s.graded == 1
    ((src, why),) = s.rejected
    assert Path(src).name == "bob" and type(error).__name__ in why
    with Gradebook(db) as gb:
        assert {r["student"]: r["status"] for r in gb.submissions()} == {"alice": "graded", "bob": "rejected"}


def test_a_quiz_scorer_crash_is_a_problem_of_that_submission(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    make_folder_submission(subs, "alice", "correct", responses=responses({"q1": "a"}))

    class Boom:
        notes: list[str] = []

        def score(self, responses, only=None, student=None):  # the scorer now learns the filed-under id
            raise RecursionError("deep")

    monkeypatch.setattr(collect_mod, "_scorer", lambda root, module: Boom())
    db = tmp_path / "gb.sqlite"
    s = collect([subs], db, workers=1, chapters=CHAPTERS)
    assert s.graded == 1
    with Gradebook(db) as gb:
        (row,) = gb.submissions()
        assert any("RecursionError" in p for p in json.loads(row["problems"]))


# -- fuzzing ------------------------------------------------------------------------------

NAMES = st.sampled_from([
    "exercises/chapter2/perceptron.py", "exercises/chapter3/activations.py", "manifest.json",
    ".grade/quiz_responses.json", "exercises/", "exercises/chapter2/", "alice/exercises/chapter2/perceptron.py",
    "alice/manifest.json", "exercises/chapter2/../x.py", "/abs.py", "exercises\\chapter2\\a.py", "x\x00.py",
    "exercises/chapter2/__init__.py", "exercises/chapter99/z.py", "exercises/chapter2/not python.txt",
])
JSONS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
CONTENT = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    JSONS.map(lambda j: json.dumps(j).encode()),
    st.integers(min_value=1, max_value=3000).map(lambda n: b"[" * n + b"]" * n),
    st.just(b"def AND(x1, x2):\n    return 1\n"),
)


def _zip(members: list[tuple[str, bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            zf.writestr(info, data)
    return buf.getvalue()


@pytest.mark.filterwarnings("ignore:Duplicate name")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.lists(st.tuples(NAMES, CONTENT, st.sampled_from([0, 0o100644, 0o120777, 0o040755])), max_size=6),
       mangle=st.integers(min_value=0, max_value=400), junk=st.binary(max_size=8))
def test_fuzzed_zips_either_read_or_give_a_reason(tmp_path, members, mangle, junk):
    data = _zip(members)
    if mangle and mangle < len(data):  # a byte or two of corruption
        data = data[:mangle] + junk + data[mangle + len(junk):]
    path = tmp_path / "fuzz.zip"
    path.write_bytes(data)
    try:
        sub = read_submission(path)
    except BadSubmission as exc:
        assert str(exc) and "\x1b" not in str(exc)
        return
    assert sub.student == "fuzz"
    assert all(name.split("/")[0].startswith("chapter") for name in sub.files)
    assert all("\x00" not in p and "\x1b" not in p for p in sub.problems)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest=JSONS, answers=JSONS, raw=st.binary(max_size=100))
def test_fuzzed_manifest_and_responses_json(tmp_path_factory, manifest, answers, raw):
    root = tmp_path_factory.mktemp("f") / "student"
    (root / "exercises" / "chapter2").mkdir(parents=True)
    (root / "exercises" / "chapter2" / "perceptron.py").write_text("x = 1\n")
    (root / ".grade").mkdir()
    (root / "manifest.json").write_text(json.dumps(manifest))
    (root / ".grade" / "quiz_responses.json").write_bytes(json.dumps({"attempts": [answers]}).encode() + raw[:1])
    try:
        sub = read_submission(root)
    except BadSubmission as exc:
        assert "manifest.json" in str(exc)
        return
    assert sub.student == "student"
    from grader.instructor.quizzes import QuizScorer

    # whatever the attempt holds, scoring it is a result or a note, never an exception
    scores, notes = QuizScorer().score(sub.responses)
    assert isinstance(scores, list) and isinstance(notes, list)


def test_a_grading_failure_is_recorded_for_that_submission_and_retried(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    make_folder_submission(subs, "alice", "correct")
    make_folder_submission(subs, "bob", "correct")
    make_folder_submission(subs, "carol", "stub")
    real_task = tasks_mod.grade_task
    bob_hash = read_submission(subs / "bob").hash

    def crashes_on_bob(payloads, chapters, sandbox="auto"):
        if any(p["hash"] == bob_hash for p in payloads):
            raise RuntimeError("the pytest session died")
        return real_task(payloads, chapters, sandbox)

    monkeypatch.setattr(tasks_mod, "grade_task", crashes_on_bob)
    db = tmp_path / "gb.sqlite"
    s = collect([subs], db, workers=1, chapters=CHAPTERS, batch_size=3)  # one batch: bob breaks it
    assert s.graded == 2 and [(Path(src).name, "the pytest session died" in why) for src, why in s.failed] == [
        ("bob", True)]
    with Gradebook(db) as gb:
        status = {r["student"]: (r["status"], r["reason"]) for r in gb.submissions()}
    assert status["alice"][0] == status["carol"][0] == "graded"
    assert status["bob"][0] == "error" and "grading failed: RuntimeError" in status["bob"][1]
    monkeypatch.setattr(tasks_mod, "grade_task", real_task)
    s = collect([subs], db, workers=1, chapters=CHAPTERS)
    assert (s.graded, s.skipped) == (1, 2)
    with Gradebook(db) as gb:
        rows = gb.submissions()
        assert len(rows) == 3 and {r["status"] for r in rows} == {"graded"}
        scores = {r["student"]: gb.chapter_scores()[r["hash"]]["chapter2"]["score"] for r in gb.latest()}
    assert scores == {"alice": 10, "bob": 10, "carol": 0}
