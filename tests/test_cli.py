"""The command line as a student and an instructor use it."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from grader.cli import app

runner = CliRunner()


def test_check_stubs_reports_not_attempted_with_hints_and_exit_1():
    result = runner.invoke(app, ["check", "chapter2"])
    assert result.exit_code == 1
    assert "not attempted" in result.output
    assert "start here" in result.output and "grade hint chapter2.AND" in result.output
    assert "score 0/10" in result.output


def test_check_solutions_passes_with_exit_0():
    result = runner.invoke(app, ["check", "2", "--solutions"])
    assert result.exit_code == 0, result.output
    assert "score 10/10" in result.output


def test_json_output_shape():
    result = runner.invoke(app, ["check", "chapter2", "--json"])
    data = json.loads(result.output)
    assert set(data) >= {"score", "max_score", "execution_time", "tests"}
    assert data["score"] == 0 and data["max_score"] == 10
    for t in data["tests"]:
        assert set(t) >= {"exercise", "name", "status", "score", "max_score", "visibility", "message"}
        assert t["status"] == "not_attempted" and t["visibility"] in ("public", "hidden")


def test_gradescope_format():
    result = runner.invoke(app, ["check", "chapter2", "--solutions", "--format", "gradescope"])
    data = json.loads(result.output)
    assert data["score"] == 10
    assert all(t["status"] == "passed" and t["visibility"] in ("visible", "after_published") for t in data["tests"])
    # plain text (Gradescope renders the default as HTML), the summary over the visible tests only
    assert data["output_format"] == "text" and all(t["output_format"] == "text" for t in data["tests"])
    assert data["output"].startswith("chapter2: ") and "in the visible tests" in data["output"]
    assert "10/10" not in data["output"]


def test_path_grades_another_tree(make_target):
    target = make_target("chapter2", {"perceptron.py": "def AND(a, b):\n    return 1 if a and b else 0\n"}, base="exercises")
    result = runner.invoke(app, ["check", "chapter2", "--path", str(target), "--json"])
    data = json.loads(result.output)
    assert data["score"] == 2
    statuses = {t["exercise"]: t["status"] for t in data["tests"]}
    assert statuses["chapter2.AND"] == "passed" and statuses["chapter2.OR"] == "error"


def test_unknown_chapter_is_a_usage_error_with_suggestion():
    result = runner.invoke(app, ["check", "chaptr2"])
    assert result.exit_code == 2
    assert "Did you mean 'chapter2'" in result.output
    assert "Traceback" not in result.output


def test_bad_path_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["check", "chapter2", "--path", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "is not a folder" in result.output


def test_hint_in_both_languages():
    en = runner.invoke(app, ["hint", "chapter2.XOR", "2", "--lang", "en"])
    zh = runner.invoke(app, ["hint", "XOR", "2", "--lang", "zh"])
    assert en.exit_code == 0 and "NAND" in en.output and "2/2" in en.output
    assert zh.exit_code == 0 and "第一层" in zh.output


def test_hint_unknown_exercise_and_out_of_range():
    assert runner.invoke(app, ["hint", "chapter2.XRO"]).exit_code == 2
    result = runner.invoke(app, ["hint", "chapter2.XOR", "9"])
    assert result.exit_code == 2 and "hints 1 to" in result.output


def test_list_shows_chapters_and_exercises():
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    assert "chapter2" in result.output and "chapter2.XOR" in result.output


def test_help_does_not_import_numpy_or_rich():
    code = "import sys; from grader.cli import main; print('numpy' in sys.modules, 'rich' in sys.modules, 'pytest' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "False"]


def test_no_tty_no_traceback_on_internal_errors(monkeypatch):
    import grader.grading.runner

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(grader.grading.runner, "run_check", boom)
    from grader import cli

    monkeypatch.setattr(sys, "argv", ["grade", "check", "chapter2"])
    try:
        cli.run()
    except SystemExit as exc:
        assert exc.code == 3


def test_path_at_the_workspace_is_told_to_point_at_exercises(tmp_path):
    import shutil
    from pathlib import Path

    workspace = tmp_path / "ws"
    shutil.copytree(Path(__file__).resolve().parent.parent / "exercises" / "chapter2", workspace / "exercises" / "chapter2")
    result = runner.invoke(app, ["check", "chapter2", "--path", str(workspace), "--lang", "en"])
    assert result.exit_code == 2
    assert f"point --path at the exercises folder ({workspace / 'exercises'})" in result.output
    assert "FileNotFoundError" not in result.output and "Your code raised" not in result.output
    zh = runner.invoke(app, ["check", "chapter2", "--path", str(workspace), "--lang", "zh"])
    assert "请让 --path 指向练习文件夹" in zh.output
    elsewhere = runner.invoke(app, ["check", "chapter2", "--path", str(tmp_path), "--lang", "en"])
    assert elsewhere.exit_code == 2 and "There is no chapter2 folder in" in elsewhere.output
