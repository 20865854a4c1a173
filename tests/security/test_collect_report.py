"""A report an instructor can act on (issue 11): a per-student table (sortable by total,
each student linking to a section with every failing message), failing messages counted
by students, item statistics flagged only from 20 answers, pass rates hardest first, and
the page rendered in headless Chromium from a real collected gradebook."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from instructor_helpers import make_folder_submission
from typer.testing import CliRunner

import grader.instructor.collect as collect_mod
from grader.cli import app
from grader.instructor.gradebook import Gradebook, Graded
from grader.instructor.quizzes import QuizScore
from grader.instructor.report import MIN_ITEM_RESPONSES, build_report, item_analysis
from grader.reports.html import render_html


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _test(name, ok, message=""):
    return {"exercise": f"chapter2.{name.split('_')[1].upper()}", "name": name, "status": "passed" if ok else "failed",
            "score": 1.0 if ok else 0.0, "max_score": 1.0, "visibility": "public", "message": message}


def test_failing_messages_are_counted_by_students_not_tests(tmp_path):
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = gb.start_run(1, "local")
        # one student's typo fails eight tests with the same message
        typo = [_test(f"test_and_{i}", False, "NameError: name 'np' is not defined") for i in range(8)]
        gb.record(Graded("a" * 64, "typo", "x", "folder", "graded", chapters=[
            {"chapter": "chapter2", "score": 0.0, "max_score": 8.0, "tests": typo}]), run, "0")
        # three students share one real misconception, once each
        for i in range(3):
            tests = [_test("test_xor_table", False, f"XOR(1, 1) returned 1 (student {i})")] + \
                    [_test(f"test_and_{k}", True) for k in range(7)]
            gb.record(Graded(f"{i:064x}", f"s{i}", "x", "folder", "graded", chapters=[
                {"chapter": "chapter2", "score": 7.0, "max_score": 8.0, "tests": tests}]), run, "0")
        rep = build_report(gb)
    first, second = rep.failing[0], rep.failing[1]
    assert (first.exercise, first.count, first.tests) == ("chapter2.XOR", 3, 3)
    assert (second.count, second.tests) == (1, 8) and "NameError" in second.message
    # pass rates from hardest
    rates = [t.pass_rate for t in rep.tests]
    assert rates == sorted(rates) and rates[0] == 0.0 and rates[-1] == 0.75
    assert {t.name for t in rep.tests if t.pass_rate == 0} == {"test_and_7", "test_xor_table"}


def test_item_statistics_are_flagged_only_from_twenty_answers():
    def cohort(n):  # q_bad goes against the rest of the quiz: a real flag, if the sample allows it
        return {f"s{i}": {"q_bad": float(i % 2 == 0), "q1": float(i % 2), "q2": float(i % 2)} for i in range(n)}

    few = {s.question: s for s in item_analysis(cohort(3))}
    assert few["q_bad"].discrimination < 0 and few["q_bad"].too_few and not few["q_bad"].flagged
    many = {s.question: s for s in item_analysis(cohort(MIN_ITEM_RESPONSES))}
    assert not many["q_bad"].too_few and many["q_bad"].flagged
    assert MIN_ITEM_RESPONSES == 20


def test_html_per_student_table_and_pages(tmp_path):
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = gb.start_run(1, "local")
        for i, (sid, passed) in enumerate([("zoe", 8), ("adam", 2), ("mia", 5)]):
            tests = [_test(f"test_and_{k}", k < passed, "" if k < passed else f"AND case {k} <b>wrong</b>")
                     for k in range(8)]
            gb.record(Graded(f"{i:064x}", sid, "x", "folder", "graded", chapters=[
                {"chapter": "chapter2", "score": float(passed), "max_score": 8.0, "tests": tests},
                {"chapter": "chapter8", "not_graded": True, "score": None, "max_score": None, "tests": []}],
                quizzes=[QuizScore("chapter2", "graded", 1.0 / 3, 3.0, {"q1": 1 / 3})]), run, "0")
        rep = build_report(gb)
    page = render_html(rep)
    by_total = page[page.index('id="by-total"'):page.index('id="by-name"')]
    assert [m for m in re.findall(r'#student-\d+">(\w+)<', by_total)] == ["adam", "mia", "zoe"]
    by_name = page[page.index('id="by-name"'):page.index('class="student"')]
    assert re.findall(r'#student-\d+">(\w+)<', by_name) == ["adam", "mia", "zoe"]
    assert 'href="#by-name"' in page and 'href="#by-total"' in page and "<script" not in page
    assert '<span class="ng">not graded</span>' in by_name and "0.33" in by_name  # rounded
    adam = rep.students_table[0]
    section = page[page.index(f'id="student-{rep.students_table.index(adam)}"'):]
    section = section[:section.index("</section>")]
    assert section.count("AND case") == 6 and "&lt;b&gt;wrong&lt;/b&gt;" in section
    assert (rep.failing[0].count, rep.failing[0].tests) == (2, 9)  # adam and mia: 2 students, 9 failing tests


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(not CHROMIUM, reason="no chromium")
def test_report_of_a_real_collection_renders_in_headless_chromium(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    for name, kind in (("alice", "correct"), ("bob", "wrong"), ("carol", "stub"), ("dave", "correct")):
        make_folder_submission(subs, name, kind)
    real = collect_mod.missing_needs
    monkeypatch.setattr(collect_mod, "missing_needs", lambda c: ["tensorflow"] if c.id == "chapter8" else real(c))
    db = tmp_path / "gb.sqlite"
    res = CliRunner().invoke(app, ["collect", str(subs), "--db", str(db), "--workers", "2",
                                   "--chapter", "chapter2", "--chapter", "chapter8"])
    assert res.exit_code == 0, res.output
    html = tmp_path / "report.html"
    res = CliRunner().invoke(app, ["report", "--db", str(db), "--html", str(html)])
    assert res.exit_code == 0, res.output
    page = html.read_text()
    assert page.count('class="student"') == 4 and "not graded" in page
    shots = Path(os.environ.get("GRADE_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    for fragment, png in (("#by-total", shots / "report-by-total.png"), ("#student-1", shots / "report-bob.png")):
        with tempfile.TemporaryDirectory() as profile:
            proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                   "--disable-background-networking", "--disable-component-update",
                                   f"--user-data-dir={profile}", "--window-size=1200,900",
                                   f"--screenshot={png}", html.as_uri() + fragment],
                                  capture_output=True, timeout=120)
        assert png.exists(), proc.stderr.decode()[-2000:]
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
