"""Quiz scores at collection come from the keyed bank, never from the attempt (issue 11):
a right answer listed 500 times scores one question's points; the same attempt filed
under six spellings of a chapter counts once, in one column; an attempt for a chapter
without a bank is a problem, not a column. Real bank, real collect, real exports."""

from __future__ import annotations

import csv
import io
import json

import pytest
from instructor_helpers import REPO, make_folder_submission
from typer.testing import CliRunner

from grader.cli import app
from grader.instructor.collect import collect
from grader.instructor.gradebook import Gradebook

quiz = pytest.importorskip("grader.quiz")


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.fixture(scope="module")
def bank():
    return quiz.load_bank("chapter2", root=REPO)


def attempt(chapter, answers, **extra):
    return {"chapter": chapter, "student": None, "mode": "graded", "seed": 1,
            "started": "2026-11-01T10:00:00+00:00", "finished": "2026-11-01T10:05:00+00:00",
            "answers": answers, "score": 999.0, "max_score": 999.0, **extra}


def right(q, who=None):
    """A right answer to ``q`` as student ``who`` sees it (template questions have numbers,
    and so option ids, of each student's own)."""
    q = quiz.load_bank("chapter2", root=REPO).for_student(who).question(q.id)
    return {"question": q.id, "selected": [o.id for o in q.options if o.correct], "time_s": 1.0}


def export_csv(db):
    res = CliRunner().invoke(app, ["export", "--db", str(db), "--format", "csv"])
    assert res.exit_code == 0, res.output
    return list(csv.DictReader(io.StringIO(res.stdout))), res.stdout


def export_canvas(db):
    res = CliRunner().invoke(app, ["export", "--db", str(db), "--format", "canvas"])
    assert res.exit_code == 0, res.output
    return list(csv.reader(io.StringIO(res.stdout)))


def test_repeated_and_aliased_attempts_score_what_the_bank_allows(tmp_path, bank):
    questions = list(bank.by_id().values())
    q1 = questions[0]
    total = sum(q.points for q in questions)
    subs = tmp_path / "subs"
    # gamer: one right answer listed 500 times, and the attempt's own question list says 500 x q1
    gamer = attempt("chapter2", [right(q1, "gamer")] * 500, questions=[q1.id] * 500)
    # aliaser: the same (all right) attempt under six spellings of the chapter, plus unknown ids
    full = [right(q, "aliaser") for q in questions] + [{"question": "made-up", "selected": ["a"], "time_s": 1}]
    aliases = [attempt(ch, full) for ch in ("chapter2", "2", "ch2", "Chapter2", "CHAPTER2", " chapter2 ")]
    # stray: an attempt for a chapter that has no bank
    stray = attempt("chapter42", full)
    honest = attempt("chapter2", [right(q, "honest") for q in questions[: len(questions) // 2]])
    for name, attempts in (("gamer", [gamer]), ("aliaser", aliases + [stray]), ("honest", [honest])):
        make_folder_submission(subs, name, "stub",
                               responses={"format_version": 1, "attempts": attempts})
    db = tmp_path / "gb.sqlite"
    s = collect([subs], db, workers=1, chapters=["chapter2"])
    assert s.graded == 3
    rows, text = export_csv(db)
    by = {r["student"]: r for r in rows}
    assert float(by["gamer"]["quiz chapter2"]) == pytest.approx(q1.points)
    assert float(by["aliaser"]["quiz chapter2"]) == pytest.approx(total)  # once, not six times
    assert float(by["honest"]["quiz chapter2"]) == pytest.approx(sum(q.points for q in questions[: len(questions) // 2]))
    quiz_columns = [c for c in rows[0] if c.startswith("quiz")]
    assert quiz_columns == ["quiz chapter2"]  # no "quiz 2", "quiz ch2", "quiz chapter42"
    assert "chapter42" not in text
    for r in rows:  # everyone's points possible is the bank's
        assert float(r["max_total"]) == pytest.approx(10 + total)
    canvas = export_canvas(db)
    assert canvas[1][0] == "Points Possible" and canvas[1][5:] == ["10", f"{total:g}"]
    with Gradebook(db) as gb:
        maxima = {r["max_score"] for per in gb.quiz_scores().values() for r in per.values()}
        assert maxima == {total}
        problems = {r["student"]: json.loads(r["problems"]) for r in gb.submissions()}
        assert any("'chapter42'" in p and "no such quiz bank" in p for p in problems["aliaser"])
        assert any("499 answers ignored" in p for p in problems["gamer"])
        items = {(r["question"]) for r in gb.quiz_items()}
        assert items <= set(bank.by_id())


def test_score_attempt_counts_each_question_once(bank):
    q1 = next(iter(bank.by_id().values()))
    score, max_score = quiz.score_attempt(bank, {"answers": [right(q1)] * 500, "questions": [q1.id] * 500})
    assert (score, max_score) == (q1.points, q1.points)
    # the first answer to a question counts; a later "correction" in the same attempt does not
    wrong = {"question": q1.id, "selected": [o.id for o in q1.options if not o.correct][:1]}
    assert quiz.score_attempt(bank, {"answers": [wrong, right(q1)], "questions": [q1.id]})[0] == 0
