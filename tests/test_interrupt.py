"""Issue 21, item 3: Ctrl-C during ``grade check`` says "interrupted", lists the tests it did not
run as not run, exits 130 and leaves ``.grade/state.json`` as the last full check wrote it.

Driven through a real pseudo-terminal: the ^C character makes the terminal send SIGINT to the
foreground process group, as a student's Ctrl-C does. A looping XOR makes the timing certain."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

ROOT = Path(__file__).resolve().parent.parent
GRADE = [sys.executable, "-m", "grader"]


def _env(lang: str) -> dict[str, str]:
    return dict(os.environ, GRADE_LANG=lang, TERM="xterm-256color", COLUMNS="200", LINES="50")


@pytest.mark.parametrize(
    ("lang", "interrupted", "running", "before", "label"),
    [
        ("en", "Interrupted (Ctrl-C): 5 tests did not run or did not finish", "Interrupted (Ctrl-C) while this test ran.",
         "Not run: the check was interrupted (Ctrl-C) before this test.", "not run"),
        ("zh", "已中断（Ctrl-C）：有 5 个测试没有运行或没有运行完", "这个测试运行时，检查被中断了（Ctrl-C）。",
         "未运行：检查在这个测试之前就被中断了（Ctrl-C）。", "未运行"),
    ],
)
def test_ctrl_c_while_xor_loops_is_reported_as_interrupted(tmp_path: Path, lang, interrupted, running, before, label) -> None:
    shutil.copytree(ROOT / "solutions" / "chapter2", tmp_path / "exercises" / "chapter2")
    # a full check first: its record is what must survive the interrupted one
    done = subprocess.run([*GRADE, "check", "chapter2"], cwd=tmp_path, env=_env(lang), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout.decode()
    state = tmp_path / ".grade" / "state.json"
    recorded = state.read_bytes()
    assert b"chapter2" in recorded

    module = tmp_path / "exercises" / "chapter2" / "perceptron.py"
    module.write_text(module.read_text().replace("    s1 = NAND(x1, x2)", "    while True:\n        pass\n    s1 = NAND(x1, x2)"))
    # Ctrl-C as a student's shell starts the check: SIGINT at its default, even when this suite
    # runs in the background (a non-interactive shell's `&` hands its jobs SIGINT ignored)
    child = pexpect.spawn(GRADE[0], [*GRADE[1:], "check", "chapter2"], cwd=str(tmp_path), env=_env(lang),
                          encoding="utf-8", timeout=60, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    child.expect("test_xor_truth_table")  # the live line: XOR is running (and loops)
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before)
    assert child.exitstatus == 130, text
    assert interrupted in " ".join(text.split()), text
    assert re.search(rf"· test_xor_truth_table\s+{label}\s+{re.escape(running)}", text), text
    assert re.search(rf"· test_and_accepts_float_inputs.*{label}\s+{re.escape(before)}", text), text
    # before: "score 3/3 · 3/3 public checks passed", exit 0, XOR left out, the record overwritten
    assert "3/3" not in text and "score 3/10" in text.replace("得分", "score")
    assert state.read_bytes() == recorded
