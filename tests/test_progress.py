"""Progress state (.grade/state.json), quiz best scores, grade status and the welcome."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader.cli import app
from grader.grading import progress, results
from grader.grading.catalog import load_catalog
from grader.grading.results import CheckReport

ROOT = Path(__file__).resolve().parent.parent
WIDE = {"COLUMNS": "200", "GRADE_LANG": "en"}


@pytest.fixture()
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def report(workspace: Path, statuses: dict[str, list[str]], chapter: str = "chapter2") -> CheckReport:
    tests = [
        results.TestResult(ex, f"test_{ex}_{i}", st, 1.0 if st == "passed" else 0.0, 1.0, "public", "")  # type: ignore[arg-type]
        for ex, sts in statuses.items()
        for i, st in enumerate(sts)
    ]
    return CheckReport(chapter, str(workspace / "exercises"), tuple(tests), 0.5)


HALF = {
    "chapter2.AND": ["passed", "passed"],
    "chapter2.NAND": ["passed", "failed"],
    "chapter2.OR": ["not_attempted", "not_attempted"],
    "chapter2.XOR": ["not_attempted", "not_attempted"],
}
ALL = {ex: ["passed", "passed"] for ex in HALF}


def status(workspace: Path, lang: str = "en") -> str:
    result = CliRunner().invoke(app, ["status", "--lang", lang], env=WIDE)
    assert result.exit_code == 0, result.output
    return result.output


def test_record_check_writes_the_state_atomically(workspace: Path) -> None:
    path = progress.record_check(report(workspace, HALF))
    assert path == workspace / ".grade" / "state.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    ex = data["chapters"]["chapter2"]["exercises"]
    assert [ex[k]["state"] for k in HALF] == ["passed", "attempted", "not_started", "not_started"]
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # no temp file left behind


def test_concurrent_checks_of_different_chapters_keep_both(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    real_update = progress._update

    def slow_update(state: dict, rep: CheckReport) -> None:  # widen the read-modify-write window
        time.sleep(0.003)
        real_update(state, rep)

    monkeypatch.setattr(progress, "_update", slow_update)

    chapters = [f"chapter{90 + i}" for i in range(8)]
    start = threading.Barrier(len(chapters))

    def record(chapter: str) -> None:
        base = report(workspace, ALL)
        start.wait()
        progress.record_check(CheckReport(chapter, base.target, base.tests, 0.1))

    threads = [threading.Thread(target=record, args=(c,)) for c in chapters]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    data = json.loads((workspace / ".grade" / "state.json").read_text(encoding="utf-8"))
    assert sorted(data["chapters"]) == chapters


def test_checks_of_solutions_or_other_folders_are_not_recorded(workspace: Path) -> None:
    other = CheckReport("chapter2", str(ROOT / "solutions"), report(workspace, ALL).tests, 0.1)
    assert progress.record_check(other) is None
    assert not (workspace / ".grade").exists()


def test_status_counts_passed_attempted_not_started_and_next_step(workspace: Path) -> None:
    progress.record_check(report(workspace, HALF))
    out = status(workspace)
    row = next(line for line in out.splitlines() if line.startswith("chapter2"))
    cells = [c.strip() for c in row.split("│")]
    assert cells[1].endswith("1/4") and cells[2:5] == ["1", "1", "2"]
    assert "█" in cells[1] and "░" in cells[1]
    assert "chapter2.NAND is not passing yet" in out and "grade hint chapter2.NAND" in out
    assert "official scores come from" in out  # says it is advisory


def _row(out: str, chapter: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(chapter + " "))


def test_status_without_state_says_not_checked_and_suggests_a_command(workspace: Path) -> None:
    out = status(workspace)
    assert "not checked yet" in _row(out, "chapter2") and "Next: see where you stand in chapter2: grade check chapter2" in out
    progress.record_check(report(workspace, ALL))
    assert "not checked yet" not in _row(status(workspace), "chapter2")
    (workspace / ".grade" / "state.json").unlink()  # deleting it is harmless
    assert "not checked yet" in _row(status(workspace), "chapter2")


def test_corrupt_state_is_ignored_with_a_note_and_rebuilt(workspace: Path) -> None:
    (workspace / ".grade").mkdir()
    (workspace / ".grade" / "state.json").write_text("{not json", encoding="utf-8")
    out = status(workspace)
    assert "could not be read and is ignored" in out and "not checked yet" in out
    progress.record_check(report(workspace, ALL))
    data = json.loads((workspace / ".grade" / "state.json").read_text(encoding="utf-8"))
    assert data["chapters"]["chapter2"]["exercises"]["chapter2.XOR"]["state"] == "passed"
    assert "ignored" not in status(workspace)


def test_a_broken_state_folder_never_breaks_a_check(workspace: Path) -> None:
    (workspace / ".grade").write_text("a file where the folder should be", encoding="utf-8")
    assert progress.record_check_quietly(report(workspace, ALL)) is None
    result = CliRunner().invoke(app, ["check", "chapter2"], env=WIDE)
    assert result.exit_code == 1 and "score 0/10" in result.output  # the stubs, graded as usual


def test_grade_check_records_progress(workspace: Path) -> None:
    shutil.copy(ROOT / "solutions" / "chapter2" / "perceptron.py", workspace / "exercises" / "chapter2" / "perceptron.py")
    assert CliRunner().invoke(app, ["check", "2"], env=WIDE).exit_code == 0
    st = progress.compute_status(load_catalog(), workspace)
    ch2 = st.chapters[0]
    assert ch2.checked and ch2.count("passed") == 4 and st.next.chapter != "chapter2"


def write_quiz(workspace: Path, attempts: list[dict]) -> None:
    (workspace / ".grade").mkdir(exist_ok=True)
    data = {"format_version": 1, "attempts": attempts}
    (workspace / ".grade" / "quiz_responses.json").write_text(json.dumps(data), encoding="utf-8")


def attempt(mode: str, score: float | None, max_score: float | None, chapter: str = "chapter2") -> dict:
    return {
        "chapter": chapter, "student": "s1", "mode": mode, "seed": 1, "started": "2026-11-23T01:00:00",
        "finished": "2026-11-23T01:05:00", "answers": [], "score": score, "max_score": max_score,
    }


def test_quiz_best_score_and_graded_submissions(workspace: Path) -> None:
    write_quiz(workspace, [attempt("practice", 2, 5), attempt("practice", 4, 5), attempt("practice", 3, 5), attempt("graded", None, None)])
    q = progress.quiz_progress(progress.load_quiz_attempts(workspace)[0], "chapter2")
    assert q is not None and (q.best_score, q.best_max, q.submitted, q.attempts) == (4, 5, 1, 4)
    out = status(workspace)
    assert "best 4/5" in out and "submitted" in out
    zh = status(workspace, "zh")
    assert "最高 4/5" in zh and "已提交" in zh


def test_graded_only_quiz_shows_submitted_not_a_score(workspace: Path) -> None:
    write_quiz(workspace, [attempt("graded", None, None)])
    out = status(workspace)
    row = next(line for line in out.splitlines() if line.startswith("chapter2"))
    assert row.rstrip().endswith("submitted") and "best" not in row


def test_unreadable_quiz_file_is_noted(workspace: Path) -> None:
    (workspace / ".grade").mkdir()
    (workspace / ".grade" / "quiz_responses.json").write_text("[]", encoding="utf-8")
    assert "quiz scores are not shown" in status(workspace)


def test_next_step_goes_to_the_quiz_once_exercises_pass(workspace: Path) -> None:
    progress.record_check(report(workspace, ALL))
    (workspace / "quizzes").mkdir()
    (workspace / "quizzes" / "chapter2.toml").write_text("", encoding="utf-8")
    st = progress.compute_status(load_catalog(), workspace)
    if st.next.chapter == "chapter2":  # later chapters may come first in the course order only if unfinished
        assert st.next.kind == "quiz" and st.next.command == "grade quiz chapter2"
    write_quiz(workspace, [attempt("practice", 5, 5)])
    assert progress.compute_status(load_catalog(), workspace).next.chapter != "chapter2"


def test_welcome_shows_the_next_step(workspace: Path) -> None:
    result = CliRunner().invoke(app, [], env=WIDE)
    assert result.exit_code == 0
    assert "Next:" in result.output and "grade check chapter2" in result.output
    assert "grade status" in result.output and "grade watch chapter2" in result.output
    progress.record_check(report(workspace, {ex: ["not_attempted"] for ex in HALF}))
    fresh = CliRunner().invoke(app, [], env=WIDE).output
    assert "write chapter2.AND in exercises/chapter2/perceptron.py" in fresh and "grade hint chapter2.AND 1" in fresh
    progress.record_check(report(workspace, HALF))
    assert "grade hint chapter2.NAND" in CliRunner().invoke(app, [], env=WIDE).output
    (workspace / "quizzes").mkdir()
    shutil.copy(ROOT / "quizzes" / "chapter1.toml", workspace / "quizzes" / "chapter1.toml")
    quiz_first = CliRunner().invoke(app, [], env=WIDE).output
    assert "grade quiz chapter1" in quiz_first and "grade check chapter2" in quiz_first  # examples skip quiz-only chapters
    assert "chapter1 " not in quiz_first.split("grade quiz chapter1", 1)[1]
    shutil.rmtree(workspace / "quizzes")
    zh = CliRunner().invoke(app, ["--lang", "zh"], env=WIDE).output
    assert "下一步：" in zh and "chapter2.NAND 还没有通过" in zh


def test_a_quiz_only_chapter_is_done_when_its_quiz_is_taken(workspace: Path) -> None:
    import dataclasses
    import io

    from grader import reports
    from grader.grading.catalog import Catalog
    from grader.reports.status import render_status

    ch2 = load_catalog().chapter("chapter2")
    ch1 = dataclasses.replace(ch2, id="chapter1", number=1, title="Machine learning", title_zh="机器学习", exercises=())
    catalog = Catalog([ch1, ch2])
    (workspace / "quizzes").mkdir()
    (workspace / "quizzes" / "chapter1.toml").write_text("", encoding="utf-8")
    st = progress.compute_status(catalog, workspace)
    assert st.next.command == "grade quiz chapter1"
    write_quiz(workspace, [attempt("practice", 3, 4, chapter="chapter1")])
    st = progress.compute_status(catalog, workspace)
    assert st.next.command == "grade check chapter2"
    out = io.StringIO()
    render_status(st, catalog, reports.console(file=out, width=120), "en")
    row = next(line for line in out.getvalue().splitlines() if line.startswith("chapter1"))
    assert "quiz only" in row and "best 3/4" in row and "██████████" in row


def test_quiz_banks_without_exercises_appear_as_quiz_only_chapters(workspace: Path) -> None:
    (workspace / "quizzes").mkdir()
    shutil.copy(ROOT / "quizzes" / "chapter1.toml", workspace / "quizzes" / "chapter1.toml")
    (workspace / "quizzes" / "chapter2.toml").write_text("", encoding="utf-8")  # catalog chapter: not duplicated
    st = progress.compute_status(load_catalog(), workspace)
    assert [c.chapter.id for c in st.chapters][:2] == ["chapter1", "chapter2"]
    assert sum(c.chapter.id == "chapter2" for c in st.chapters) == 1
    assert st.next.command == "grade quiz chapter1"
    out = status(workspace)
    row = next(line for line in out.splitlines() if line.startswith("chapter1"))
    assert "quiz only" in row and "not taken" in row
