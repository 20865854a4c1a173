"""Live progress of a ``grade check``: each test's verdict as it finishes, and the test that
is running (with its elapsed time) once it has run for a second.

In a terminal the running test is one line redrawn in place; in a pipe every event is a
plain line (the running test once after a second, then every ``PIPE_REPEAT_S``). Stdlib
only, so that importing it costs nothing at start-up. ``LiveHooks`` is the pytest side: a
plugin object handed to ``pytest.main(plugins=[...])`` that reads each test's status from
the grader's recorder once the test is over.
"""

from __future__ import annotations

import threading
import time
from typing import IO, Any

from grader.util.i18n import t

SYMBOL = {"passed": "✓", "failed": "✗", "not_attempted": "○", "error": "!", "timeout": "⧗", "resource": "!", "not_run": "·"}
SHOW_RUNNING_AFTER_S = 1.0
PIPE_REPEAT_S = 5.0
TICK_S = 0.2


class LiveProgress:
    """What the student sees while the suites run. Thread-safe; ``close()`` ends the ticker."""

    def __init__(self, stream: IO[str], lang: str = "en", tty: bool | None = None) -> None:
        self.lang = lang
        self.tty = bool(tty if tty is not None else getattr(stream, "isatty", lambda: False)())
        self._given = stream
        self.stream = _own_copy(stream)
        self._lock = threading.Lock()
        # (test name, start); "" while pytest collects and the worker starts
        self._current: tuple[str, float] | None = ("", time.monotonic())
        self._status_shown = False  # a redrawable line is on screen (TTY)
        self._last_pipe_note = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="grade-live", daemon=True)
        self._thread.start()

    # -- events ----------------------------------------------------------------------

    def started(self, name: str) -> None:
        with self._lock:
            self._current = (name, time.monotonic())
            self._last_pipe_note = 0.0

    def finished(self, name: str, status: str, duration: float) -> None:
        with self._lock:
            self._current = None
            self._clear()
            label = t(f"status.{status}", self.lang)
            seconds = f"  {duration:.1f} s" if duration >= SHOW_RUNNING_AFTER_S else ""
            self._write(f"  {SYMBOL.get(status, '?')} {name}  {label}{seconds}\n")

    def finished_silently(self) -> None:
        with self._lock:
            self._current = None
            self._clear()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)
        with self._lock:
            self._clear()
            self._write("\n")
            if self.stream is not self._given:
                try:
                    self.stream.close()
                except OSError:
                    pass

    # -- the ticker --------------------------------------------------------------------

    def _tick(self) -> None:
        while not self._stop.wait(TICK_S):
            with self._lock:
                if self._current is None:
                    continue
                name, start = self._current
                elapsed = time.monotonic() - start
                if elapsed < SHOW_RUNNING_AFTER_S:
                    continue
                if name:
                    text = t("live.running", self.lang, name=name, seconds=int(elapsed))
                else:
                    text = t("live.starting", self.lang, seconds=int(elapsed))
                if self.tty:
                    self._write("\r\x1b[K" + text)
                    self._status_shown = True
                elif not self._last_pipe_note or elapsed - self._last_pipe_note >= PIPE_REPEAT_S:
                    self._last_pipe_note = elapsed
                    self._write(text + "\n")

    def _clear(self) -> None:
        if self._status_shown:
            self._write("\r\x1b[K")
            self._status_shown = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed pipe: progress is a courtesy, never a failure
            pass


def on_a_real_file(stream: IO[str]) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


def _own_copy(stream: IO[str]) -> IO[str]:
    """The stream on a duplicate of its file descriptor: pytest captures fd 1 while a test
    runs, and the running test's line must reach the terminal then too."""
    import os

    try:
        fd = stream.fileno()
        stream.flush()
        return os.fdopen(os.dup(fd), "w", encoding=getattr(stream, "encoding", None) or "utf-8", errors="replace")
    except (AttributeError, OSError, ValueError):  # not a real file (a test's StringIO)
        return stream


class EventLog:
    """A ``LiveProgress`` stand-in for a pytest run in another process (chapters that need
    TensorFlow): each event is one JSON line appended to ``path``, which the parent follows
    with ``follow`` and replays on its own ``LiveProgress``. Both ends are the grader's; the
    student's code never writes here."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by the process's end

    def _emit(self, **event: object) -> None:
        import json

        try:
            self._file.write(json.dumps(event, ensure_ascii=False) + "\n")
            self._file.flush()
        except (OSError, ValueError):
            pass

    def started(self, name: str) -> None:
        self._emit(e="start", name=name)

    def finished(self, name: str, status: str, duration: float) -> None:
        self._emit(e="end", name=name, status=status, duration=round(float(duration), 3))

    def finished_silently(self) -> None:
        self._emit(e="quiet")


def follow(path: str, offset: int, progress: LiveProgress) -> int:
    """Replay the complete events written to ``path`` since ``offset``; returns the new offset."""
    import json

    try:
        with open(path, "rb") as f:
            f.seek(offset)
            chunk = f.read(1 << 20)
    except OSError:
        return offset
    end = chunk.rfind(b"\n")
    if end < 0:
        return offset
    for line in chunk[: end + 1].splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        kind = event.get("e")
        if kind == "start":
            progress.started(str(event.get("name", "")))
        elif kind == "end":
            progress.finished(str(event.get("name", "")), str(event.get("status", "")), float(event.get("duration", 0.0)))
        elif kind == "quiet":
            progress.finished_silently()
    return offset + end + 1


class LiveHooks:
    """A pytest plugin object: forwards test starts and verdicts to a ``LiveProgress``."""

    def __init__(self, progress: LiveProgress | EventLog) -> None:
        self.progress = progress
        self.config: Any = None

    def pytest_configure(self, config: Any) -> None:
        self.config = config

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        self.progress.started(location[2])

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        from grader.grading.recorder import RECORDER

        recorder = self.config.stash.get(RECORDER, None) if self.config is not None else None
        entry = recorder.results.get(nodeid) if recorder is not None else None
        if entry is None:  # skipped (a chapter whose library is missing): nothing to say
            self.progress.started("")
            self.progress.finished_silently()
            return
        self.progress.finished(entry["name"], entry["status"], float(entry.get("duration", 0.0)))
