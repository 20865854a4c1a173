"""Grading run under tests/container_profile.py (Docker's default profile for root), for
the security tests: the test process itself stays unconfined, the grading runs in a
confined child and hands back its reports as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from grader.grading.catalog import Chapter
from grader.grading.results import CheckReport
from tests import container_profile
from tests.conftest import REPO

_BATCH = """
import json, sys
from pathlib import Path
from grader.grading.catalog import load_catalog
from grader.instructor.batch import run_batch
chapter = load_catalog().chapter(sys.argv[1])
targets = [(k, Path(p)) for k, p in json.loads(sys.argv[2])]
reports = run_batch(chapter, targets, sandbox=sys.argv[3])
print("REPORTS" + json.dumps({k: r.to_dict() for k, r in reports.items()}))
"""


def run_confined(command: list[str], timeout: float = 600, cap_drop: tuple[str, ...] = (),
                 cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["COLUMNS"] = "400"
    return subprocess.run(container_profile.confined_command(command, cap_drop), capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)


def _run(command: list[str], timeout: float = 600, cap_drop: tuple[str, ...] = ()) -> str:
    done = run_confined(command, timeout, cap_drop)
    return done.stdout + "\n" + done.stderr


def grade_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "grader.cli", *args]


def confined_check(chapter: Chapter, target: Path, sandbox: str = "auto", cap_drop: tuple[str, ...] = ()) -> CheckReport:
    """``grade check CHAPTER --path TARGET --json`` as root in a default container."""
    out = _run(grade_command("check", chapter.id, "--path", str(target), "--json", "--sandbox", sandbox),
               cap_drop=cap_drop)
    start = out.index("{")
    return CheckReport.from_dict(json.JSONDecoder().raw_decode(out[start:])[0])


def confined_batch(chapter: Chapter, targets: list[tuple[str, Path]], sandbox: str = "auto") -> dict[str, CheckReport]:
    """``run_batch`` (grade collect's grading: a fork server's children) in a default container."""
    out = _run([sys.executable, "-c", _BATCH, chapter.id, json.dumps([(k, str(p)) for k, p in targets]), sandbox])
    assert "REPORTS" in out, out[-3000:]
    data = json.loads(out.split("REPORTS", 1)[1].splitlines()[0])
    return {k: CheckReport.from_dict(v) for k, v in data.items()}
