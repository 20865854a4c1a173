"""``grade watch``'s end of the warm session: ``WarmChecker`` starts the check server
(``grader.grading.warm``, a pytest plugin in its own process) for one chapter and
workspace and asks it for each check; ``available`` says whether a chapter can be checked
warm here. Apart from the server because it starts pytest through the runner, which loads
the grader's plugin, which loads the server's hooks: one module held both ends of that loop.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from grader.grading.warm import CANCEL_GRACE_S, receive_message, send_message


def available(chapter: Any) -> bool:
    """Can this chapter be re-checked warm here? (``GRADE_WATCH_COLD=1`` says no.)"""
    return (
        not chapter.needs
        and hasattr(os, "fork")
        and sys.platform.startswith("linux")
        and os.environ.get("GRADE_WATCH_COLD", "").strip() != "1"
    )


# --- the watch's end ------------------------------------------------------------------------


class WarmChecker:
    """The watch's handle on a check server for one chapter and workspace."""

    def __init__(self, chapter: Any, target: Path, sandbox: str = "auto") -> None:
        from grader.grading.runner import pytest_command, pytest_env, suite_files

        self.chapter = chapter
        self.tmp = tempfile.mkdtemp(prefix="grade-warm-")
        self.count = 0
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        command = [
            *pytest_command(),
            "-p", "grader.grading.warm",
            "--tb=" + ("long" if os.environ.get("GRADER_DEBUG") else "no"),
            "--grader-target", str(target),
            "--grader-chapter", chapter.id,
            "--grader-results", os.path.join(self.tmp, "unused.json"),
            "--grader-sandbox", sandbox,
            "--grader-events", os.path.join(self.tmp, "events-0.jsonl"),
            f"--grader-warm={theirs.fileno()}",
            *[str(f) for f in suite_files(chapter)],
        ]  # fmt: skip
        self._log = open(os.path.join(self.tmp, "server-output.txt"), "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env=pytest_env(), cwd=self.tmp, pass_fds=(theirs.fileno(),),
        )  # fmt: skip
        theirs.close()
        self.sock = ours

    def alive(self) -> bool:
        return self.proc.poll() is None and self.sock.fileno() >= 0

    def check(self, target: Path, live: Any = None, stop: Any = None) -> Any:
        """One check of ``target`` as ``runner.run_check`` makes it (the same report), run by
        a child of the warm server. Raises ``CheckCancelled`` when ``stop()`` said so, and
        ``InternalError`` when the server cannot check (the caller then goes cold)."""
        from grader.grading.runner import _report, locate_in_cells, notebook_target
        from grader.util.errors import InternalError

        self.count += 1
        started = time.monotonic()
        work = Path(tempfile.mkdtemp(prefix=f"check-{self.count}-", dir=self.tmp))
        try:
            results = work / "results.json"
            events = work / "events.jsonl"
            graded, note, spans = notebook_target(self.chapter, target, work)
            try:
                send_message(self.sock, {"op": "check", "target": str(graded), "results": str(results), "events": str(events)})
            except OSError:
                raise InternalError("the warm check server has gone") from None
            self._wait(events, live, stop, 60 + self.chapter.check_budget_s)
            if not results.exists():
                raise InternalError(f"The grader failed to run the {self.chapter.id} suites.")
            data = json.loads(results.read_text(encoding="utf-8"))
        finally:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
        report = _report(self.chapter, target, data, started)
        if spans:
            report = locate_in_cells(report, spans)
        if note:
            import dataclasses

            report = dataclasses.replace(report, source=note)
        return report

    def _wait(self, events: Path, live: Any, stop: Any, budget: float) -> None:
        from grader.grading.runner import CheckCancelled
        from grader.util.errors import InternalError

        offset = 0
        deadline = time.monotonic() + budget
        cancelled = False
        while True:
            try:
                ready, _, _ = select.select([self.sock], [], [], 0.05)
                if ready:
                    reply = receive_message(self.sock)
                    if not isinstance(reply, dict):
                        raise InternalError("the warm check server has gone")
                    break
                if live is not None:
                    from grader.grading.live import follow

                    offset = follow(str(events), offset, live)
                if stop is not None and not cancelled and stop():
                    cancelled = True
                    send_message(self.sock, {"op": "cancel"})
                    deadline = time.monotonic() + CANCEL_GRACE_S + 2
                if time.monotonic() >= deadline:
                    self.close()
                    raise InternalError(f"Checking {self.chapter.id} took longer than {budget:.0f} s and was stopped.")
            except KeyboardInterrupt:
                # Ctrl-C reached the check too (one process group): it records what ran and ends
                if not self._settle(10.0):
                    raise
                break
        if live is not None:
            from grader.grading.live import follow

            follow(str(events), offset, live)
        if cancelled:
            raise CheckCancelled

    def _settle(self, seconds: float) -> bool:
        """After Ctrl-C: wait for the running check's end (True when it said so)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                ready, _, _ = select.select([self.sock], [], [], 0.1)
            except KeyboardInterrupt:
                continue
            if ready:
                return isinstance(receive_message(self.sock), dict)
        return False

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()  # the server's loop ends, and with it the worker fork server
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError):
            self._log.close()
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)
