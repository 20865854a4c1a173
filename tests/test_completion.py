"""Shell completion of chapter and exercise ids, and a light start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli.completion import complete_chapter, complete_exercise
from grader.grading.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent


def bash_complete(words: str) -> list[str]:
    """Ask `grade` for completions exactly as the bash script typer installs does."""
    parts = words.split(" ")
    env = dict(os.environ, _GRADE_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(len(parts) - 1))
    code = "import sys; sys.argv[0] = 'grade'; from grader.cli import run; run()"  # the console script's entry
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


@pytest.mark.parametrize("command", ["check", "watch"])
def test_chap_completes_to_chapter_ids(command: str) -> None:
    assert bash_complete(f"grade {command} chap") == list(load_catalog().chapters)


def test_chapter_dot_completes_to_that_chapters_exercise_ids() -> None:
    expected = [e.id for e in load_catalog().chapter("chapter2").exercises]
    assert bash_complete("grade hint chapter2.") == expected
    assert bash_complete("grade hint chapter2.X") == ["chapter2.XOR"]


def test_command_names_complete_too() -> None:
    # `grade` alone is the welcome, but not while the shell asks for completions
    assert bash_complete("grade sta") == ["status"]


def test_plain_grade_prints_the_welcome_fast_path(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    env = dict(os.environ, GRADE_LANG="zh")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run([sys.executable, "-m", "grader"], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "下一步：" in proc.stdout and "grade check chapter2" in proc.stdout


def test_completion_functions() -> None:
    assert [v for v, _ in complete_chapter("2")] == ["chapter2"]
    assert complete_chapter("nothing") == []
    values = [v for v, _ in complete_exercise("chapter2.N")]
    assert values == ["chapter2.NAND"]
    assert ("XOR", load_catalog().exercise("chapter2.XOR").summary) in complete_exercise("XO")  # unique short names too


def test_cli_start_up_imports_no_heavy_module() -> None:
    code = (
        "import sys; import grader.cli, grader.cli.student, grader.grading.progress, grader.util.i18n, grader.cli.completion, grader.cli.watch; "
        "print(' '.join(m for m in ('numpy', 'rich', 'pytest', 'tensorflow') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
