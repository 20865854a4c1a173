"""grade watch: change detection pieces, and the command itself driven in a real pseudo-terminal."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import sys
import time
from pathlib import Path

import pexpect
import pytest
from pexpect.popen_spawn import PopenSpawn

from grader import watch

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "chapter2" / "perceptron.py"
GREEN_SCORE = re.compile(r"\x1b\[1;32mscore 10/10")  # rich's grade.pass style: bold green


# --- pieces -------------------------------------------------------------------------------------


def test_only_source_files_count() -> None:
    assert watch.relevant("perceptron.py")
    for name in (".perceptron.py.swp", "perceptron.py~", "4913", "#perceptron.py#", "__pycache__", "notes.txt"):
        assert not watch.relevant(name), name


def test_snapshot_sees_edits_new_and_deleted_files(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    before = watch.snapshot(tmp_path)
    (tmp_path / "a.py").write_text("x = 22\n")
    (tmp_path / "b.py").write_text("")
    (tmp_path / ".a.py.swp").write_text("swap")
    assert watch.changed_names(before, watch.snapshot(tmp_path)) == {"a.py", "b.py"}
    mid = watch.snapshot(tmp_path)
    (tmp_path / "b.py").unlink()
    assert watch.changed_names(mid, watch.snapshot(tmp_path)) == {"b.py"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux only")
def test_inotify_reports_writes_and_atomic_renames(tmp_path: Path) -> None:
    notifier = watch.Inotify.open(tmp_path)
    assert notifier is not None
    try:
        assert notifier.read() == set()
        (tmp_path / "a.py").write_text("x = 1\n")
        (tmp_path / "junk.txt").write_text("ignored")
        assert notifier.read() == {"a.py"}
        (tmp_path / ".b.py.tmp").write_text("y = 2\n")
        os.replace(tmp_path / ".b.py.tmp", tmp_path / "b.py")  # how many editors save
        assert notifier.read() == {"b.py"}
    finally:
        notifier.close()


def test_filesystem_type_and_polling_choice(tmp_path: Path) -> None:
    if not Path("/proc/mounts").exists():
        pytest.skip("no /proc/mounts")
    assert watch.filesystem_type(Path("/proc/self")) == "proc"
    assert watch.filesystem_type(tmp_path) != ""
    assert not watch.events_unreliable(tmp_path) or "microsoft" in Path("/proc/version").read_text().lower()


# --- the command in a terminal ------------------------------------------------------------------


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    return tmp_path


def _env() -> dict[str, str]:
    env = dict(os.environ, GRADE_LANG="en", TERM="xterm-256color", COLUMNS="120", LINES="50")
    env.pop("NO_COLOR", None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _save_solution(workspace: Path, atomic: bool) -> None:
    target = workspace / "exercises" / "chapter2" / "perceptron.py"
    text = SOLUTION.read_text(encoding="utf-8")
    if atomic:  # write a temporary file and rename it over, as vim/VS Code/PyCharm do
        tmp = target.with_name(".perceptron.py.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    else:
        target.write_text(text, encoding="utf-8")


def _spawn_in_pty(workspace: Path, *args: str) -> pexpect.spawn:
    # After grade exits, the same terminal prints `stty -a`: it shows whether the mode was restored.
    command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "grader", "watch", "chapter2", *args])
    return pexpect.spawn(
        "/bin/sh",
        ["-c", f"trap true INT; {command}; echo RC=$?; stty -a"],  # the shell outlives a Ctrl-C
        cwd=str(workspace),
        env=_env(),
        dimensions=(50, 120),
        encoding="utf-8",
        timeout=30,
    )


def _terminal_restored(child: pexpect.spawn) -> None:
    child.expect(pexpect.EOF)
    stty = child.before
    assert re.search(r"(?<![-\w])icanon\b", stty) and re.search(r"(?<![-\w])echo\b", stty), stty


def test_watch_in_a_terminal_turns_green_on_save_and_quits_on_q(workspace: Path) -> None:
    child = _spawn_in_pty(workspace)
    try:
        child.expect("file events")
        child.expect("score 0/10")
        child.expect("r re-run")  # the report is drawn and keys are read
        child.send("h")  # first unfinished exercise is chapter2.AND: its first hint
        child.expect(r"1/3")
        child.expect("A perceptron fires")
        child.send("h")
        child.expect(r"2/3")
        _save_solution(workspace, atomic=True)
        child.expect("changed: perceptron.py")
        child.expect(GREEN_SCORE)
        child.expect("All of chapter2 passes")
        child.expect("r re-run")
        child.send("h")
        child.expect("no hint needed")
        child.send("q")
        child.expect("stopped watching chapter2")
        child.expect("RC=0")
        _terminal_restored(child)
    finally:
        child.close(force=True)
    state = (workspace / ".grade" / "state.json").read_text(encoding="utf-8")
    assert '"passed"' in state  # each watch run records progress like grade check


def test_watch_polling_picks_up_in_place_writes_and_ctrl_c_restores_the_terminal(workspace: Path) -> None:
    child = _spawn_in_pty(workspace, "--poll", "--interval", "0.2")
    try:
        child.expect("polling every 0.2 s")
        child.expect("score 0/10")
        child.expect("r re-run")
        time.sleep(0.05)
        _save_solution(workspace, atomic=False)
        child.expect(GREEN_SCORE)
        child.expect("r re-run")
        child.sendintr()  # Ctrl-C
        child.expect("RC=130")
        _terminal_restored(child)
    finally:
        child.close(force=True)


def test_watch_without_a_terminal_just_reruns(workspace: Path) -> None:
    cmd = [sys.executable, "-m", "grader", "watch", "chapter2", "--poll", "--interval", "0.2"]
    child = PopenSpawn(cmd, cwd=str(workspace), env=_env(), encoding="utf-8", timeout=30)
    try:
        child.expect("score 0/10")
        child.expect("Ctrl-C to stop")  # no keys without a terminal
        child.sendline("q")  # ignored: stdin is not a terminal
        _save_solution(workspace, atomic=False)
        child.expect("score 10/10")
        assert "\x1b[" not in child.before  # no colours or screen clearing into a pipe
        child.expect("Ctrl-C to stop")
        child.kill(signal.SIGTERM)
        child.expect(pexpect.EOF)
        assert child.wait() == 128 + signal.SIGTERM
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
