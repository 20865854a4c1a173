"""A chapter a submission holds no file of is *not submitted*: recorded by ``grade collect``
from the file names alone (no pytest, no worker, no TensorFlow), distinct from a stub's
graded 0, shown as "not submitted" by ``grade report``, 0 in the exports, and never graded
again by a later collect."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from instructor_helpers import make_folder_submission
from typer.testing import CliRunner

import grader.instructor.batch as batch_mod
from grader.cli import app
from grader.instructor.gradebook import Gradebook


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _class(root):
    subs = root / "subs"
    make_folder_submission(subs, "alice", "correct", chapters=("chapter2", "chapter3"))
    make_folder_submission(subs, "bob", "stub", chapters=("chapter2", "chapter3"))  # attempted nothing: graded 0
    make_folder_submission(subs, "carol", "correct", chapters=("chapter2",))  # no exercises/chapter3/
    return subs


def _statuses(db):
    with Gradebook(db) as gb:
        return {(r["student"], ch): (cell["status"], cell["score"], cell["max_score"])
                for r in gb.submissions("graded") for ch, cell in gb.chapter_scores().get(r["hash"], {}).items()}


def test_grade_collect_records_an_absent_chapter_as_not_submitted(tmp_path):
    subs = _class(tmp_path)
    db = tmp_path / "gb.sqlite"
    cmd = [sys.executable, "-m", "grader", "collect", str(subs), "--db", str(db), "--workers", "1",
           "--chapter", "chapter2", "--chapter", "chapter3", "--allow-weak-isolation"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    # the chapter carol lacks is recorded apart from the five graded ones
    assert "5 submission-chapters graded (3 submissions) · 1 not submitted (no files)" in " ".join(res.stdout.split())
    got = _statuses(db)
    assert got[("carol", "chapter3")] == ("not_submitted", 0.0, None)
    assert got[("bob", "chapter3")][:2] == ("graded", 0.0)  # a stub is graded: 0 earned, not "not submitted"
    assert got[("bob", "chapter3")][2] > 0
    assert got[("alice", "chapter3")][0] == "graded" and got[("alice", "chapter3")][1] == got[("alice", "chapter3")][2]
    assert got[("carol", "chapter2")][0] == "graded" and got[("carol", "chapter2")][1] > 0
    with Gradebook(db) as gb:
        carol = next(r["hash"] for r in gb.submissions("graded") if r["student"] == "carol")
        assert not [t for t in gb.tests(carol) if t["chapter"] == "chapter3"]  # nothing was run for it

    # the report says so, in the terminal and in the HTML page
    runner = CliRunner()
    rep = runner.invoke(app, ["report", "--db", str(db), "--html", str(tmp_path / "r.html")])
    assert rep.exit_code == 0, rep.output
    assert "not submitted" in rep.output
    lowest = rep.output[rep.output.index("Lowest totals"):]
    assert "chapter3" in next(line for line in lowest.splitlines() if "carol" in line)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "not submitted" in html

    # exports: an absent chapter earns 0 of the chapter's points (csv and Canvas numbers add up)
    exp = runner.invoke(app, ["export", "--db", str(db), "--format", "csv"])
    assert exp.exit_code == 0, exp.output
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(exp.output))}
    assert float(rows["carol"]["chapter3"]) == 0.0
    assert float(rows["carol"]["max_total"]) == float(rows["alice"]["max_total"])
    assert float(rows["bob"]["chapter3"]) == 0.0

    # Gradescope: every chapter-3 test of carol is 0, labelled not submitted
    res = runner.invoke(app, ["export", "--db", str(db), "--format", "gradescope", "-o", str(tmp_path / "gs")])
    assert res.exit_code == 0, res.output
    carol = json.loads(next((tmp_path / "gs").glob("carol-*/results.json")).read_text(encoding="utf-8"))
    ch3 = [t for t in carol["tests"] if t["name"].startswith("chapter3")]
    assert ch3 and all(t["score"] == 0 and t["output"].startswith("[not submitted]") for t in ch3)

    # a second collect grades nothing again: not submitted stays not submitted
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _statuses(db) == got


def test_absent_chapters_start_no_grading_run(tmp_path, monkeypatch):
    """Chapter 8 (TensorFlow) absent from every submission: no batch of it runs at all, and
    chapter 3 runs only for the submission that holds it."""
    subs = _class(tmp_path)
    calls: list[tuple[str, list[str]]] = []
    real = batch_mod.run_batch

    def spy(chapter, targets, **kw):
        calls.append((chapter.id, [key for key, _ in targets]))
        return real(chapter, targets, **kw)

    monkeypatch.setattr(batch_mod, "run_batch", spy)
    db = tmp_path / "gb.sqlite"
    res = CliRunner().invoke(app, ["collect", str(subs), "--db", str(db), "--workers", "1", "--chapter", "chapter2",
                                   "--chapter", "chapter3", "--chapter", "chapter8", "--allow-weak-isolation"])
    assert res.exit_code == 0, res.output
    ran = {ch: len(keys) for ch, keys in calls}
    assert "chapter8" not in ran
    assert ran == {"chapter2": 3, "chapter3": 2}
    got = _statuses(db)
    if ("alice", "chapter8") in got:  # TensorFlow installed here (else: "not graded", never run either)
        assert {got[(s, "chapter8")][0] for s in ("alice", "bob", "carol")} == {"not_submitted"}
    with Gradebook(db) as gb:
        data = json.dumps([dict(r) for r in gb.history()])
    assert "chapter8" not in data
