"""Grade many targets of one chapter in ONE pytest session (the plugin's batch mode).

``run_check`` starts a fresh pytest process per target and chapter (~0.7 s each). Here
one process per chapter and batch collects the suites once, parametrizes every test over
the targets and forks each target's worker from a fork server, so the per-target cost is
the tests themselves. Isolation per test is the same: one worker per target, killed and
restarted on a crash or timeout, never shared with another target.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.grading.catalog import SUITES_DIR, Chapter
from grader.grading.results import CheckReport, TestResult
from grader.grading.runner import UNUSED_PLUGINS, pytest_command, pytest_env, suite_files
from grader.util.errors import InternalError


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG = SIGKILL
    except (OSError, AttributeError):
        pass


def run_batch(
    chapter: Chapter,
    targets: list[tuple[str, Path]],
    *,
    public_only: bool = False,
    sandbox: str = "auto",
    timeout: float | None = None,
) -> dict[str, CheckReport]:
    """Grade every ``(key, folder)`` in ``targets`` for ``chapter``; reports keyed by key."""
    if not targets:
        return {}
    files = suite_files(chapter, public_only)
    if not files:
        raise InternalError(f"No test suites found for {chapter.id} in {SUITES_DIR / chapter.id}.")
    with tempfile.TemporaryDirectory(prefix="grade-batch-") as tmp:
        results_file = Path(tmp) / "results.json"
        targets_file = Path(tmp) / "targets.json"
        targets_file.write_text(
            json.dumps([{"key": k, "path": str(Path(p).resolve())} for k, p in targets]), encoding="utf-8"
        )
        command = [
            *pytest_command(),
            "-rN",
            # nothing here reads pytest's output capture (~8 % of the CPU, with the log capture
            # that UNUSED_PLUGINS turns off), and the progress percentage is quadratic in the
            # number of items (~20 % at 20 targets)
            "-s", "-o", "console_output_style=classic",
            "--tb=no",  # the end-of-session failure summary is quadratic in the failures too
            *UNUSED_PLUGINS,  # the plugins a single check turns off too (their per-test hooks: ~20 %)
            "--grader-targets", str(targets_file),
            "--grader-chapter", chapter.id,
            "--grader-results", str(results_file),
            "--grader-sandbox", sandbox,
            *[str(f) for f in files],
        ]
        env = pytest_env()
        budget = timeout or (60 + chapter.check_budget_s * len(targets))
        started = time.monotonic()
        log = Path(tmp) / "pytest-output.txt"
        try:
            # pytest's progress goes to a file, read only when something went wrong: a pipe that
            # this process reads wakes it for every test's dot (a system call and a context
            # switch each, about 5 % of a batch's CPU).
            with open(log, "wb") as out:
                proc = subprocess.run(
                    command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    env=env, cwd=tmp, timeout=budget, preexec_fn=_die_with_parent,
                )
        except subprocess.TimeoutExpired as exc:
            raise InternalError(f"Grading a batch of {chapter.id} took longer than {budget:.0f} s.") from exc
        if not results_file.exists():
            tail = log.read_bytes()[-3000:].decode("utf-8", "replace")
            raise InternalError(f"The grader failed to run the {chapter.id} suites (exit {proc.returncode}).\n{tail}")
        data = json.loads(results_file.read_text(encoding="utf-8"))
    elapsed = time.monotonic() - started
    if data.get("internal") and os.environ.get("GRADER_DEBUG"):
        sys.stderr.write("\n".join(data["internal"]) + "\n")
    if not any(entry.get("tests") for entry in data["targets"].values()):
        # suites that did not load: an error of ours, never a batch of zero scores
        raise InternalError(f"The grader's {chapter.id} suites did not load (set GRADER_DEBUG=1 to see why).")
    reports = {}
    for key, entry in data["targets"].items():
        reports[key] = CheckReport(
            chapter=chapter.id,
            target=entry.get("target", ""),
            tests=tuple(TestResult.from_dict(t) for t in entry["tests"]),
            execution_time=float(entry.get("execution_time") or elapsed / len(targets)),
            isolation=tuple(entry.get("isolation", [])),
            artifacts=tuple(a for a in entry.get("artifacts", []) if isinstance(a, dict)),
        )
    return reports
