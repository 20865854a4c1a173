"""Issue 22: a check does not wait for a bubblewrap probe before starting its worker.

The worker is started in bubblewrap straight away; its start is the probe. Where bubblewrap
cannot make its sandbox (a container that forbids namespaces), that worker exits before it
is ready, and the check probes and starts it again as ``choose`` says: the student gets the
same check, only later. Driven through ``grade check`` with a ``bwrap`` of our own first on
PATH that logs each call (and then fails, or runs the real one)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import has_bwrap

REPO = Path(__file__).resolve().parent.parent


def _grade_check(tmp_path: Path, fake_bwrap: str, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "calls.txt"
    script = bindir / "bwrap"
    # one line per call: "help", "probe" (the sandbox that runs ``python -c pass``) or "start"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = --help ]; then echo help >> {log}; '
        f'else case " $* " in *" -c pass "*) echo probe >> {log};; *) echo start >> {log};; esac; fi\n'
        f"{fake_bwrap}\n"
    )
    script.chmod(0o755)
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [sys.executable, "-m", "grader.cli", "check", "chapter2", "--solutions", "--json", *args],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=120,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return proc, calls


def test_where_bubblewrap_cannot_start_the_check_runs_without_it(tmp_path: Path) -> None:
    proc, calls = _grade_check(tmp_path, 'echo "bwrap: No permissions to create new namespace" >&2\nexit 1')
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["score"] == report["max_score"] > 0
    assert not any("bubblewrap" in line for line in report["isolation"])
    runs = [c for c in calls if c != "help"]
    assert runs == ["start", "probe"], calls  # tried first, probed once, never tried again


def test_bubblewrap_asked_for_by_name_and_missing_is_said_plainly(tmp_path: Path) -> None:
    proc, _ = _grade_check(tmp_path, "exit 1", "--sandbox", "bwrap")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "bubblewrap" in (proc.stdout + proc.stderr)


@pytest.mark.skipif(not has_bwrap(), reason="needs a working bubblewrap")
def test_where_bubblewrap_works_no_probe_sandbox_runs(tmp_path: Path) -> None:
    real = shutil.which("bwrap")
    proc, calls = _grade_check(tmp_path, f'exec {real} "$@"')
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["score"] == report["max_score"] > 0
    assert any("bubblewrap" in line for line in report["isolation"])
    assert "probe" not in calls and calls.count("start") == 1, calls
