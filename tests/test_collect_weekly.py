"""Results complete per (submission, chapter): the weekly cycle of ``grade collect --chapter``.

Students hand in one growing folder; the instructor collects chapter 2 one week and chapter 3
the next, from the same files. "Already graded" is decided per (submission hash, chapter, suite
version), never per submission: the second week grades chapter 3 for everyone, a third
identical run grades nothing, and a chapter whose suites changed is graded again (the old
result kept in the history). Gradebooks from before suite versions are migrated and stay
readable.
"""

from __future__ import annotations

import copy
import csv
import io
import sqlite3

import pytest
from instructor_helpers import fake_quiz_module, make_folder_submission, responses
from typer.testing import CliRunner

import grader.instructor.tasks as tasks_mod
from grader.cli import app
from grader.instructor.collect import collect
from grader.instructor.gradebook import SCHEMA_VERSION, Gradebook

CHAPTERS = ("chapter2", "chapter3")


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _responses(q2: dict[str, str], q3: dict[str, str]) -> dict:
    data = responses(q2)
    week3 = copy.deepcopy(data["attempts"][0])
    week3["chapter"] = "chapter3"
    week3["answers"] = [{"question": q, "selected": [o], "time_s": 3.0} for q, o in q3.items()]
    data["attempts"].append(week3)
    return data


def _class(root):
    subs = root / "subs"
    make_folder_submission(subs, "alice", "correct", chapters=CHAPTERS,
                           responses=_responses({"q1": "a", "q2": "b", "q3": "c"}, {"q1": "a", "q2": "b", "q3": "x"}))
    make_folder_submission(subs, "bob", "wrong", chapters=CHAPTERS,
                           responses=_responses({"q1": "a"}, {"q1": "a", "q2": "b", "q3": "c"}))
    make_folder_submission(subs, "carol", "stub", chapters=CHAPTERS)
    return subs


def _collect(subs, db, chapter):
    return collect([subs], db, workers=1, chapters=[chapter], quiz_chapters=[chapter],
                   quiz_module=fake_quiz_module(banks=CHAPTERS))


def _scores(db) -> dict[str, dict[str, float | None]]:
    with Gradebook(db) as gb:
        scores = gb.chapter_scores()
        return {r["student"]: {c: row["score"] for c, row in scores.get(r["hash"], {}).items()} for r in gb.latest()}


def test_a_new_week_grades_the_new_chapter_for_everyone(tmp_path):
    subs, db = _class(tmp_path), tmp_path / "gb.sqlite"

    week2 = _collect(subs, db, "chapter2")
    assert (week2.graded, week2.submission_chapters, week2.chapters_present) == (3, 3, 0)
    assert _scores(db) == {"alice": {"chapter2": 10}, "bob": {"chapter2": 0}, "carol": {"chapter2": 0}}

    week3 = _collect(subs, db, "chapter3")  # the same files: only the chapter is new
    assert (week3.graded, week3.submission_chapters, week3.chapters_present, week3.skipped) == (3, 3, 0, 0)
    scores = _scores(db)
    assert set(scores) == {"alice", "bob", "carol"}
    assert all(set(per) == {"chapter2", "chapter3"} for per in scores.values()), scores
    assert scores["alice"]["chapter3"] == _full_marks("chapter3")
    assert scores["carol"]["chapter3"] == 0
    with Gradebook(db) as gb:  # chapter 3's quiz was added to the known submissions too
        quizzes = {(r["student"], c): q["score"] for r in gb.latest() for c, q in gb.quiz_scores().get(r["hash"], {}).items()}
    assert quizzes == {("alice", "chapter2"): 3, ("alice", "chapter3"): 2, ("bob", "chapter2"): 1,
                       ("bob", "chapter3"): 3}

    again = _collect(subs, db, "chapter3")  # a third identical run grades nothing
    assert (again.graded, again.submission_chapters, again.chapters_present, again.skipped) == (0, 0, 3, 3)
    assert _scores(db) == scores

    # the instructor sees both chapters: the export and the class report
    runner = CliRunner()
    res = runner.invoke(app, ["export", "--db", str(db), "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(res.stdout))}
    assert rows["alice"]["chapter2"] == "10" and rows["alice"]["chapter3"] == f"{_full_marks('chapter3'):g}"
    assert rows["carol"]["chapter3"] == "0"
    res = runner.invoke(app, ["report", "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "chapter2" in res.stdout and "chapter3" in res.stdout


def test_the_summary_counts_submission_chapters(tmp_path):
    subs, db = _class(tmp_path), tmp_path / "gb.sqlite"
    runner = CliRunner()
    args = ["collect", str(subs), "--db", str(db), "--workers", "1", "--allow-weak-isolation"]
    res = runner.invoke(app, [*args, "--chapter", "chapter2"])
    assert res.exit_code == 0, res.output
    assert "3 submission-chapters graded (3 submissions) · 0 already in the gradebook" in res.stdout
    res = runner.invoke(app, [*args, "--chapter", "chapter2", "--chapter", "chapter3"])
    assert res.exit_code == 0, res.output
    assert "3 submission-chapters graded (3 submissions) · 3 already in the gradebook" in res.stdout


def test_a_changed_suite_is_graded_again_and_the_old_result_kept(tmp_path, monkeypatch):
    subs, db = _class(tmp_path), tmp_path / "gb.sqlite"
    _collect(subs, db, "chapter2")
    real = tasks_mod.suite_version
    monkeypatch.setattr(tasks_mod, "suite_version", lambda c: real(c) + ("-changed" if c.id == "chapter2" else ""))
    s = _collect(subs, db, "chapter2")
    assert (s.graded, s.submission_chapters, s.chapters_present) == (3, 3, 0)
    with Gradebook(db) as gb:
        versions = {v for (_, c), (_, v) in gb.chapter_results().items() if c == "chapter2"}
        assert versions == {real(_chapter("chapter2")) + "-changed"}
        moved = [r for r in gb.history() if r["kind"] == "chapter"]
        assert sorted(r["chapter"] for r in moved) == ["chapter2"] * 3
    assert _collect(subs, db, "chapter2").submission_chapters == 0


def test_a_gradebook_from_before_suite_versions_is_migrated_and_regraded(tmp_path):
    subs, db = _class(tmp_path), tmp_path / "gb.sqlite"
    _collect(subs, db, "chapter2")
    before = _scores(db)
    # make it a version-2 file: no suite_version column
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE chapter_scores DROP COLUMN suite_version")
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with Gradebook(db) as gb:  # opened: migrated, every result still there
        assert gb.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
        assert {v for _, v in gb.chapter_results().values()} == {""}
    assert _scores(db) == before
    # results of unknown suites are graded again, once
    assert _collect(subs, db, "chapter2").submission_chapters == 3
    assert _scores(db) == before
    assert _collect(subs, db, "chapter2").submission_chapters == 0


def _chapter(cid):
    from grader.grading.catalog import load_catalog

    return load_catalog().chapter(cid)


def _full_marks(cid) -> float:
    return float(sum(e.points for e in _chapter(cid).exercises))
