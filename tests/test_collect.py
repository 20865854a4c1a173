"""grade collect: a mixed class into the gradebook, idempotent, resumable after kill -9,
quizzes re-scored from the key, the same gradebook on Dask; then export and report."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from instructor_helpers import REPO, bomb_zip, fake_quiz_module, make_folder_submission, responses, zip_folder
from typer.testing import CliRunner

from grader.cli import app
from grader.instructor.collect import collect
from grader.instructor.gradebook import Gradebook

CHAPTERS = ["chapter2"]  # the other chapters are graded the same way; one keeps these tests quick


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """A small class: correct, wrong, stub, a zip with a manifest, and bad submissions."""
    root = tmp_path_factory.mktemp("class")
    subs = root / "subs"
    subs.mkdir()
    make_folder_submission(subs, "alice", "correct", responses=responses({"q1": "a", "q2": "b", "q3": "c"}))
    make_folder_submission(subs, "bob", "wrong", responses=responses({"q1": "a", "q2": "x", "q3": "x"}, claimed=3))
    make_folder_submission(subs, "carol", "stub", responses=responses({"q1": "a", "q2": "b", "q3": "x"}))
    staged = make_folder_submission(root / "staging", "dave", "correct", responses=responses({"q1": "x"}))
    zip_folder(staged, subs / "submission-dave.zip", {"manifest.json": b'{"student": "dave"}'})
    (subs / "eve.zip").write_bytes(b"this is not a zip")
    bomb_zip(subs / "mallory.zip")
    (subs / "nobody").mkdir()
    (subs / "nobody" / "readme.txt").write_text("forgot the exercises")
    db = root / "gb.sqlite"
    summary = collect([subs], db, workers=2, quiz_module=fake_quiz_module(), chapters=CHAPTERS)
    return {"root": root, "subs": subs, "db": db, "summary": summary}


def test_class_is_graded_with_reasons_for_bad_submissions(klass):
    s = klass["summary"]
    assert (s.found, s.graded, s.skipped, s.failed) == (7, 4, 0, [])
    reasons = {Path(src).name: why for src, why in s.rejected}
    assert set(reasons) == {"eve.zip", "mallory.zip", "nobody"}
    assert "not a zip" in reasons["eve.zip"] and "zip bomb" in reasons["mallory.zip"]
    assert "missing folder" in reasons["nobody"]
    with Gradebook(klass["db"]) as gb:
        scores = {r["student"]: gb.chapter_scores()[r["hash"]]["chapter2"]["score"] for r in gb.latest()}
        assert scores == {"alice": 10, "bob": 0, "carol": 0, "dave": 10}
        statuses = {r["status"] for r in gb.tests() if r["hash"] == gb.latest()[2]["hash"]}
        assert statuses == {"not_attempted"}  # carol
        rows = gb.submissions()
        assert {r["student"]: r["status"] for r in rows}["mallory"] == "rejected"
        graded = gb.submissions("graded")
        assert all(json.loads(r["isolation"]) for r in graded)
    assert s.isolation and any("seccomp" in i for i in s.isolation)


def test_quizzes_are_rescored_from_the_key_not_the_claimed_score(klass):
    with Gradebook(klass["db"]) as gb:
        by_student = {r["student"]: gb.quiz_scores()[r["hash"]]["chapter2"] for r in gb.latest()}
        assert {k: (v["score"], v["max_score"]) for k, v in by_student.items()} == {
            "alice": (3, 3), "bob": (1, 3), "carol": (2, 3), "dave": (0, 3)}
        items = {(r["question"]) for r in gb.quiz_items()}
        assert items == {"q1", "q2", "q3"}


def test_collect_again_is_idempotent(klass):
    with Gradebook(klass["db"]) as gb:
        before = gb.snapshot()
    s = collect([klass["subs"]], klass["db"], workers=2, quiz_module=fake_quiz_module(), chapters=CHAPTERS)
    assert (s.graded, s.skipped) == (0, 4)
    with Gradebook(klass["db"]) as gb:
        assert gb.snapshot() == before


def test_missing_quiz_package_is_a_note(tmp_path, monkeypatch):
    import grader.instructor.quizzes as q

    monkeypatch.setattr(q, "quiz_module", lambda: None)
    make_folder_submission(tmp_path / "subs", "zed", responses=responses({"q1": "a"}))
    s = collect([tmp_path / "subs"], tmp_path / "gb.sqlite", workers=1, chapters=CHAPTERS)
    assert s.graded == 1 and any("not scored" in n for n in s.notes)


def test_export_formats(klass, tmp_path):
    runner = CliRunner()
    db = str(klass["db"])
    res = runner.invoke(app, ["export", "--db", db, "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["student"] for r in rows] == ["alice", "bob", "carol", "dave"]
    assert rows[0]["chapter2"] == "10" and rows[0]["quiz chapter2"] == "3" and rows[0]["total"] == "13"
    assert rows[0]["max_total"] == "13"
    res = runner.invoke(app, ["export", "--db", db, "--format", "canvas"])
    lines = list(csv.reader(io.StringIO(res.stdout)))
    assert lines[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert lines[1][0] == "Points Possible" and lines[1][5:] == ["10", "3"]
    assert lines[2][2] == "alice" and lines[2][5:] == ["10", "3"]
    out = tmp_path / "gs"
    res = runner.invoke(app, ["export", "--db", db, "--format", "gradescope", "-o", str(out)])
    assert res.exit_code == 0, res.output
    files = sorted(out.glob("*/results.json"))
    assert len(files) == 4
    alice = json.loads(next(f for f in files if f.parent.name.startswith("alice")).read_text())
    assert alice["score"] == 13
    vis = {t["visibility"] for t in alice["tests"]}
    assert vis == {"visible", "after_published"}
    res = runner.invoke(app, ["export", "--db", db, "--format", "json", "-o", str(tmp_path / "all.json")])
    data = json.loads((tmp_path / "all.json").read_text())
    assert len(data["students"]) == 4 and sum(s["status"] == "rejected" for s in data["submissions"]) == 3


def test_report_terminal_and_html(klass, tmp_path):
    html = tmp_path / "report.html"
    res = CliRunner().invoke(app, ["report", "--db", str(klass["db"]), "--html", str(html)])
    assert res.exit_code == 0, res.output
    assert "4 students" in res.stdout and "Lowest pass rates" in res.stdout and "zip bomb" in res.stdout
    page = html.read_text()
    assert page.count("<svg") >= 3 and "Content-Security-Policy" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_report_needs_an_existing_gradebook(tmp_path):
    res = CliRunner().invoke(app, ["report", "--db", str(tmp_path / "none.sqlite")])
    assert res.exit_code == 2 and not (tmp_path / "none.sqlite").exists()


def _session_processes(sid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                pids.append(int(entry))
    return pids


def test_kill_9_then_resume_grades_each_submission_exactly_once(tmp_path):
    subs = tmp_path / "subs"
    n = 10
    for i in range(n):
        make_folder_submission(subs, f"s{i:02d}", ["correct", "wrong", "stub"][i % 3])
    db = tmp_path / "gb.sqlite"
    cmd = [sys.executable, "-m", "grader", "collect", str(subs), "--db", str(db), "--workers", "1",
           "--batch-size", "1", "--chapter", "chapter2"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        done = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                try:
                    with sqlite3.connect(db, timeout=1) as con:
                        done = con.execute("SELECT count(*) FROM submissions").fetchone()[0]
                except sqlite3.Error:
                    done = 0
            if done >= 3:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "collect finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)  # kill -9 the collect process only
        proc.wait()
        # its pytest sessions and workers die with it (PDEATHSIG / --die-with-parent)
        left = _session_processes(proc.pid)
        give_up = time.monotonic() + 15  # a busy machine can take a moment to tear them down
        while left and time.monotonic() < give_up:
            time.sleep(0.2)
            left = _session_processes(proc.pid)
        cmdlines = [Path(f"/proc/{p}/cmdline").read_bytes()[:120] for p in left if Path(f"/proc/{p}").exists()]
        assert left == [], cmdlines
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    with sqlite3.connect(db) as con:
        first = {h for (h,) in con.execute("SELECT hash FROM submissions")}
    assert 3 <= len(first) < n
    res = subprocess.run(cmd, capture_output=True, env=env, timeout=300)
    assert res.returncode == 0, res.stdout.decode()[-2000:]
    with Gradebook(db) as gb:
        rows = gb.submissions()
        assert len(rows) == n and len({r["hash"] for r in rows}) == n
        run_of = {r["hash"]: r["run_id"] for r in rows}
        assert {run_of[h] for h in first} == {1}  # graded in the killed run, not again
        assert sorted(set(run_of.values())) == [1, 2]
        scores = gb.chapter_scores()
        assert all(len(per) == 1 for per in scores.values()) and len(scores) == n
        by_student = {r["student"]: scores[r["hash"]]["chapter2"]["score"] for r in rows}
        assert by_student == {f"s{i:02d}": (10.0 if i % 3 == 0 else 0.0) for i in range(n)}
        assert len(gb.tests()) == n * 8


def test_dask_local_cluster_gives_the_same_gradebook(klass, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster:
        s = collect([klass["subs"]], tmp_path / "dask.sqlite", scheduler=cluster.scheduler_address,
                    quiz_module=fake_quiz_module(), chapters=CHAPTERS)
    assert s.executor == "dask" and s.graded == 4 and not s.failed
    with Gradebook(klass["db"]) as a, Gradebook(tmp_path / "dask.sqlite") as b:
        assert a.snapshot() == b.snapshot()


def test_real_quiz_bank_rescoring_ignores_the_claimed_score(tmp_path):
    quiz = pytest.importorskip("grader.quiz")
    try:
        bank = quiz.load_bank("chapter2", root=REPO).for_student("quinn")  # template questions: quinn's numbers
    except Exception:  # noqa: BLE001
        pytest.skip("no chapter2 bank")
    questions = list(bank.by_id().values())
    answers, expected = [], 0.0
    for i, q in enumerate(questions):
        right = [o.id for o in q.options if o.correct]
        wrong = [o.id for o in q.options if not o.correct]
        if i == 0 and wrong:
            answers.append({"question": q.id, "selected": wrong[:1], "time_s": 1.0})
        else:
            answers.append({"question": q.id, "selected": right, "time_s": 1.0})
            expected += q.points
    data = {"format_version": 1, "attempts": [{
        "chapter": "chapter2", "student": "x", "mode": "graded", "seed": 3, "started": "2026-11-01T00:00:00+00:00",
        "finished": "2026-11-01T00:10:00+00:00", "answers": answers, "score": 999.0, "max_score": 999.0}]}
    make_folder_submission(tmp_path / "subs", "quinn", responses=data)
    s = collect([tmp_path / "subs"], tmp_path / "gb.sqlite", workers=1, chapters=CHAPTERS)
    assert s.graded == 1
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        (row,) = [r for per in gb.quiz_scores().values() for r in per.values()]
        assert row["score"] == pytest.approx(expected)
        assert row["max_score"] == pytest.approx(sum(q.points for q in questions))
        items = {r["question"]: r["score"] for r in gb.quiz_items()}
        assert items[questions[0].id] == 0.0 and all(v == 1.0 for k, v in items.items() if k != questions[0].id)


def test_chapters_whose_needs_are_missing_are_skipped_with_a_note(monkeypatch):
    import importlib.util

    from grader.grading.catalog import load_catalog
    from grader.instructor.collect import default_chapters

    heavy = [c for c in load_catalog().chapters.values() if c.needs]
    if not heavy:
        pytest.skip("no chapter needs a heavy package")
    real = importlib.util.find_spec
    missing = set(heavy[0].needs)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in missing else real(name, *a))
    notes: list[str] = []
    chosen = default_chapters(notes)
    assert "chapter2" in chosen and heavy[0].id not in chosen
    assert any(n.startswith(f"{heavy[0].id} not graded") for n in notes)
