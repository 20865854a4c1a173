"""Issue 13, item 4: hints one at a time, the next step, forgiving ids, quiz-only chapters."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader.cli import app
from grader.grading import progress
from grader.grading.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent
EN = {"GRADE_LANG": "en", "COLUMNS": "80"}


@pytest.fixture()
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    shutil.copytree(ROOT / "quizzes", tmp_path / "quizzes")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _hint(*args: str, env: dict[str, str] = EN):
    return CliRunner().invoke(app, ["hint", *args], env=env)


def test_hints_come_one_at_a_time_then_no_more(workspace: Path) -> None:
    hints = load_catalog().exercise("chapter3.softmax").hints
    assert len(hints) == 4
    first = _hint("chapter3.softmax").output
    assert "1/4" in first and "2/4" not in first and "3 more hint(s): grade hint chapter3.softmax" in first
    second = _hint("chapter3.softmax").output
    assert "2/4" in second and "1/4" not in second and "2 more hint(s)" in second
    _hint("chapter3.softmax")
    last = _hint("chapter3.softmax").output
    assert "4/4" in last and "That was the last of 4 hint(s)." in last
    again = _hint("chapter3.softmax")
    assert again.exit_code == 0 and "No more hints for chapter3.softmax" in again.output and "--all" in again.output
    everything = _hint("chapter3.softmax", "--all").output
    assert all(f"{n}/4" in everything for n in range(1, 5))
    zh = _hint("chapter3.softmax", "--lang", "zh").output
    assert "没有更多提示了" in zh


def test_seen_hints_are_per_exercise_and_a_number_still_works(workspace: Path) -> None:
    _hint("chapter3.softmax")
    out = _hint("chapter3.sigmoid").output
    assert "1/" in out
    assert "3/4" in _hint("chapter3.softmax", "3").output
    assert "4/4" in _hint("chapter3.softmax").output  # the next unseen after 3


def test_ids_are_case_insensitive(workspace: Path) -> None:
    for typed in ("CHAPTER3.SOFTMAX", "Chapter3.Softmax", "3.softmax", "ch3.softmax"):
        result = _hint(typed)
        assert result.exit_code == 0 and "chapter3.softmax" in result.output, typed


def test_suggestions_rank_the_same_chapter_first(workspace: Path) -> None:
    three = _hint("chapter3.sigmod")
    assert three.exit_code == 2 and "Did you mean 'chapter3.sigmoid' or 'chapter5.Sigmoid'?" in three.output
    five = _hint("chapter5.sigmod")
    assert "Did you mean 'chapter5.Sigmoid' or 'chapter3.sigmoid'?" in five.output
    zh = _hint("chapter5.sigmod", "--lang", "zh")
    assert "你是不是想输入 'chapter5.Sigmoid' / 'chapter3.sigmoid'" in zh.output


def test_wrapped_hint_lines_keep_their_indent_at_80_columns(workspace: Path) -> None:
    out = _hint("chapter3.softmax", "--all").output
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    start = next(i for i, line in enumerate(lines) if line.startswith("  1/4  "))
    body = [line for line in lines[start:] if line.strip() and not line.startswith("That")]
    wrapped = [line for line in body if not line.lstrip().startswith(("1/4", "2/4", "3/4", "4/4"))]
    assert wrapped and all(line.startswith(" " * 7) and line[7] != " " for line in wrapped)


def test_check_of_a_quiz_only_chapter_points_to_its_quiz(workspace: Path) -> None:
    result = CliRunner().invoke(app, ["check", "chapter1"], env=EN)
    assert result.exit_code == 0
    assert "quiz-only chapter" in result.output and "grade quiz chapter1" in result.output
    zh = CliRunner().invoke(app, ["--lang", "zh", "check", "1"])
    assert "这一章只有测验" in zh.output


def test_next_step_is_the_first_unfinished_exercise_of_the_lowest_unfinished_chapter(workspace: Path) -> None:
    catalog = load_catalog()
    # chapter1's quiz comes first
    assert progress.compute_status(catalog, workspace).next.command == "grade quiz chapter1"
    (workspace / ".grade").mkdir(exist_ok=True)
    (workspace / ".grade" / "quiz_responses.json").write_text(
        json.dumps({"format_version": 1, "attempts": [{"chapter": "chapter1", "mode": "practice", "score": 3, "max_score": 5}]}),
        encoding="utf-8",
    )
    ids = [e.id for e in catalog.chapter("chapter2").exercises]  # AND, NAND, OR, XOR
    states = {ids[0]: "passed", ids[1]: "not_started", ids[2]: "passed", ids[3]: "attempted"}
    state = {
        "format_version": 1,
        "chapters": {
            "chapter2": {
                "checked": "2026-12-01T10:00:00+00:00",
                "exercises": {i: {"state": s, "score": 0, "max_score": 1} for i, s in states.items()},
            }
        },
    }
    (workspace / ".grade" / "state.json").write_text(json.dumps(state), encoding="utf-8")
    step = progress.compute_status(catalog, workspace).next
    # NAND comes before XOR in the chapter, so it is next although XOR was tried
    assert (step.kind, step.exercise) == ("start", ids[1]), step


def test_the_first_hint_after_a_check_is_the_next_one_not_the_one_the_check_showed(workspace: Path) -> None:
    hints = load_catalog().exercise("chapter3.softmax").hints
    checked = CliRunner().invoke(app, ["check", "chapter3", "--public"], env=EN)
    flat = " ".join(checked.output.split())
    assert " ".join(hints[0].en.split())[:40] in flat  # the check's "start here" is hint 1
    after = _hint("chapter3.softmax").output
    assert "2/4" in after and "1/4" not in after
    assert " ".join(hints[1].en.split())[:40] in " ".join(after.split())
