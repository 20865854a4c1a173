"""Class statistics and the HTML page (item analysis numbers, escaping, a real browser)."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from grader.instructor.gradebook import Gradebook, Graded
from grader.instructor.quizzes import QuizScore
from grader.instructor.report import DISCRIMINATION_FLAG, build_report, item_analysis, pearson
from grader.reports.html import render_html


def test_pearson_and_item_rest_correlation():
    assert pearson([0, 1, 2], [0, 2, 4]) == pytest.approx(1.0)
    assert pearson([1, 1, 1], [0, 1, 2]) is None
    # q_good follows the rest of the quiz, q_bad goes against it, q_const says nothing
    students = {}
    for i in range(20):
        strong = i >= 10
        students[f"s{i}"] = {"q_good": float(strong), "q_a": float(strong or i % 3 == 0), "q_b": float(strong),
                             "q_bad": float(not strong), "q_const": 1.0}
    stats = {s.question: s for s in item_analysis(students)}
    assert stats["q_good"].discrimination > 0.5 and not stats["q_good"].flagged
    assert stats["q_bad"].discrimination < 0 and stats["q_bad"].flagged
    assert stats["q_const"].discrimination is None and not stats["q_const"].flagged
    assert stats["q_const"].difficulty == 1.0 and stats["q_good"].difficulty == 0.5
    assert DISCRIMINATION_FLAG == 0.15


def synthetic_gradebook(path: Path, n: int = 60) -> Path:
    rng = random.Random(3)
    with Gradebook(path) as gb:
        run = gb.start_run(1, "local")
        for i in range(n):
            ability = rng.random()
            chapters = []
            for ch, tests in (("chapter2", 8), ("chapter3", 12)):
                rows = []
                for t in range(tests):
                    ok = rng.random() < ability + 0.2 - 0.05 * t
                    msg = "" if ok else rng.choice([
                        "softmax(x) with x of shape (3,): the values are not right: worst element at index 2",
                        "Your code raised ZeroDivisionError: division by zero <script>alert(1)</script>",
                        "Not attempted yet: relu still raises NotImplementedError.",
                    ])
                    status = "passed" if ok else ("not_attempted" if "Not attempted" in msg else
                                                 "error" if "raised" in msg else "failed")
                    rows.append({"exercise": f"{ch}.ex{t % 4}", "name": f"test_requirement_{t}", "status": status,
                                 "score": 1.0 if ok else 0.0, "max_score": 1.0,
                                 "visibility": "hidden" if t % 3 == 0 else "public", "message": msg})
                chapters.append({"chapter": ch, "score": sum(r["score"] for r in rows), "max_score": float(tests),
                                 "execution_time": 0.1, "isolation": ["seccomp"], "tests": rows})
            items = {f"q{k}": float(rng.random() < ability + 0.1 * k - 0.2) for k in range(5)}
            items["q_noise"] = float(rng.random() < 0.5)
            quiz = QuizScore("chapter2", "graded", sum(items.values()), float(len(items)), items)
            gb.record(Graded(f"{i:064x}", f"student{i:02d}", "x", "folder", "graded", chapters=chapters,
                             quizzes=[quiz]), run, "0.1.0")
        gb.record(Graded("f" * 64, "eve<b>", "eve.zip", "zip", "rejected", reason="not a zip file"), run, "0.1.0")
    return path


def test_build_report_numbers(tmp_path):
    with Gradebook(synthetic_gradebook(tmp_path / "gb.sqlite")) as gb:
        rep = build_report(gb)
    assert rep.students == 60 and rep.submissions == 61 and len(rep.rejected) == 1
    assert [c.chapter for c in rep.chapters] == ["chapter2", "chapter3"]
    assert sum(rep.chapters[0].histogram()) == 60
    assert len(rep.tests) == 20 and all(0 <= t.pass_rate <= 1 for t in rep.tests)
    assert {i.question for i in rep.items} == {"q0", "q1", "q2", "q3", "q4", "q_noise"}
    noise = next(i for i in rep.items if i.question == "q_noise")
    assert noise.flagged  # a coin flip does not discriminate
    assert rep.failing and rep.failing[0].count >= rep.failing[-1].count


def test_html_is_self_contained_and_escaped(tmp_path):
    with Gradebook(synthetic_gradebook(tmp_path / "gb.sqlite")) as gb:
        page = render_html(build_report(gb))
    assert "<script>" not in page and "&lt;script&gt;" in page and "eve&lt;b&gt;" in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert page.count("<svg") == 5  # 2 chapters + 1 quiz histogram, pass rates, items


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1200,1600"]


def screenshot(html: Path, png: Path) -> subprocess.CompletedProcess[bytes]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
                               html.as_uri()], capture_output=True, timeout=120)


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")), reason="no chromium")
def test_page_renders_in_headless_chromium(tmp_path):
    with Gradebook(synthetic_gradebook(tmp_path / "gb.sqlite")) as gb:
        html = tmp_path / "report.html"
        html.write_text(render_html(build_report(gb)), encoding="utf-8")
    png = Path(os.environ.get("GRADE_SCREENSHOT", tmp_path / "shot.png"))
    res = screenshot(html, png)
    assert png.exists(), res.stderr.decode()[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a page with plots, not a blank one
