"""Issue 13, item 2: live progress. Each test's verdict as it finishes; after a second on one
test, its name and elapsed time (redrawn in place in a terminal, plain lines in a pipe)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader.cli import app

ROOT = Path(__file__).resolve().parent.parent

LOOPING_TANH = '''

def tanh(x):
    while True:  # never returns: the grader stops it after the test's time limit
        pass
'''


@pytest.fixture(scope="module")
def looping(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("looping") / "exercises"
    shutil.copytree(ROOT / "solutions", target)
    path = target / "chapter3" / "activations.py"
    source = re.sub(r"^def tanh\(", "def _solution_tanh(", path.read_text(encoding="utf-8"), count=1, flags=re.M)
    path.write_text(source + LOOPING_TANH, encoding="utf-8")
    return target


def _env() -> dict[str, str]:
    env = dict(os.environ, COLUMNS="100", GRADE_LANG="en", PYTHONPATH=str(ROOT))
    env.pop("GRADER_DEBUG", None)
    return env


def test_a_terminal_sees_the_running_test_every_second(looping: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(
        sys.executable, ["-m", "grader.cli", "check", "chapter3", "--public", "--path", str(looping)],
        env=_env(), encoding="utf-8", timeout=30, dimensions=(40, 100),
    )
    try:
        child.expect(r"✓ test_leaky_relu_default_slope\s+passed")  # verdicts as tests finish
        seen = []
        last = time.monotonic()
        gaps = []
        for second in (1, 2, 3, 4):
            child.expect(re.escape(f"test_tanh_values is running ({second} s)"))
            now = time.monotonic()
            gaps.append(now - last)
            last = now
            seen.append(child.before + child.after)
        # redrawn in place: the line is cleared and rewritten, not appended
        assert "\r\x1b[K" in "".join(seen)
        assert max(gaps[1:]) < 1.8, gaps  # something moves every second
        child.expect(r"⧗ test_tanh_values\s+timeout")
        child.expect(r"score \d+/\d+")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 1


def test_a_pipe_gets_plain_lines(looping: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "grader.cli", "check", "chapter3", "--public", "--path", str(looping)],
        env=_env(), capture_output=True, text=True, timeout=90,
    )
    out = proc.stdout
    assert proc.returncode == 1, proc.stderr
    assert "\x1b" not in out and "\r" not in out
    lines = out.splitlines()
    running = [i for i, line in enumerate(lines) if "test_tanh_values is running (1 s)" in line]
    verdict = [i for i, line in enumerate(lines) if re.search(r"⧗ test_tanh_values\s+timeout", line)]
    assert running and verdict and running[0] < verdict[0]
    assert lines.index("  ✓ test_identity_returns_its_input  passed") < running[0]


def test_json_output_stays_clean() -> None:
    result = CliRunner().invoke(app, ["check", "chapter2", "--solutions", "--json"])
    assert result.exit_code == 0
    assert result.output.lstrip().startswith("{") and "passed  " not in result.output


def test_progress_in_chinese(tmp_path: Path) -> None:
    import io

    from grader.grading.live import LiveProgress

    out = io.StringIO()
    live = LiveProgress(out, "zh", tty=False)
    live.started("test_x")
    time.sleep(1.4)
    live.finished("test_x", "timeout", 1.4)
    live.close()
    text = out.getvalue()
    assert "test_x 正在运行（1 秒）" in text and "⧗ test_x  超时  1.4 s" in text


def test_a_run_in_another_process_reports_live_too(looping: Path) -> None:
    """Chapters that need TensorFlow run pytest in a fresh process; its events still reach the
    student while it runs (here chapter 3, forced out of process, with the looping tanh)."""
    import io
    import threading

    from grader.grading.catalog import load_catalog
    from grader.grading.live import LiveProgress
    from grader.grading.runner import run_check

    out = io.StringIO()
    live = LiveProgress(out, "en", tty=False)
    seen_while_running: list[str] = []

    def watch() -> None:  # what the student has seen before the verdict of the looping test
        while "timeout" not in out.getvalue():
            if "test_tanh_values is running" in out.getvalue():
                seen_while_running.append(out.getvalue())
                return
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    report = run_check(load_catalog().chapter("chapter3"), looping, public_only=True, in_process=False, live=live)
    live.close()
    watcher.join(timeout=5)
    text = out.getvalue()
    assert seen_while_running, text
    assert "✓ test_identity_returns_its_input  passed" in seen_while_running[0]
    assert re.search(r"⧗ test_tanh_values\s+timeout", text)
    assert len(re.findall(r"^  [✓✗⧗!○] ", text, flags=re.M)) == len(report.tests)


def test_chapter8_shows_its_verdicts_in_a_pipe() -> None:
    pytest.importorskip("tensorflow")
    proc = subprocess.run(
        [sys.executable, "-m", "grader.cli", "check", "chapter8", "--solutions", "--public"],
        env=_env(), capture_output=True, text=True, timeout=400,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    verdicts = [i for i, line in enumerate(lines) if re.match(r"  ✓ test_\w+  passed", line)]
    table = next(i for i, line in enumerate(lines) if "chapter8.linear_unit" in line)
    assert len(verdicts) >= 9 and max(verdicts) < table


@pytest.mark.parametrize("with_live", [False, True])
def test_a_run_in_another_process_is_stopped_at_its_budget(looping: Path, with_live: bool) -> None:
    import io

    from grader.grading.catalog import load_catalog
    from grader.grading.live import LiveProgress
    from grader.grading.runner import run_check
    from grader.util.errors import InternalError

    live = LiveProgress(io.StringIO(), "en", tty=False) if with_live else None
    started = time.monotonic()
    with pytest.raises(InternalError, match="took longer than 4 s and was stopped"):
        run_check(load_catalog().chapter("chapter3"), looping, public_only=True, in_process=False, timeout=4, live=live)
    if live is not None:
        live.close()
    assert time.monotonic() - started < 12
