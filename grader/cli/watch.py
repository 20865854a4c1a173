"""``grade watch chapterN``: re-check a chapter each time one of its files is saved.

How changes are noticed, cheapest first:
- Linux inotify through ctypes (no dependency: the chapter folder is one flat directory of a few
  files, which is all we need; watchdog would add a package for the same one watch). Editors that
  save by writing a temporary file and renaming it over show up as IN_MOVED_TO.
- Polling the files' (mtime, size) every ``interval`` seconds: forced by ``--poll``, chosen
  up front on file systems known not to deliver events (NFS, SMB, 9p/drvfs under WSL, sshfs), used
  where inotify is missing (macOS, Windows), and switched to when a safety-net poll sees a change
  that no event reported.
Bursts of saves are debounced into one check. A save while a check runs stops that check and
starts a new one; while it runs, each test's verdict and the running test show as in
``grade check`` (``grader.grading.live``). In a terminal, keys are read in cbreak mode
(``h`` next hint, ``r`` re-run, ``q`` quit) and the terminal is restored on every way out
(q, Ctrl-C, SIGTERM, an exception). Without a terminal there are no keys: it just re-runs.
"""

from __future__ import annotations

import os
import select
import signal
import struct
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from grader.util.i18n import t

DEBOUNCE_S = 0.05  # quiet time after the last save before checking (an editor's save is one burst of a few ms; a later save stops the check it started)
# Quiet time when every changed file's last event finished a save (closed after writing, or
# renamed into place): nothing more of that save is coming, so only a "save all" of several
# files needs the wait. Polling cannot tell, and keeps DEBOUNCE_S.
SETTLED_S = 0.01
SAFETY_S = 2.0  # with file events, poll this often anyway to notice events that never come

# inotify(7) constants
_IN_MODIFY = 0x2
_IN_CLOSE_WRITE = 0x8
_IN_MOVED_FROM = 0x40
_IN_MOVED_TO = 0x80
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_FINISHED = _IN_CLOSE_WRITE | _IN_MOVED_TO  # events that end a save
_MASK = _IN_MODIFY | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name

# file systems where inotify does not see changes made by other machines / the Windows side
_NO_EVENT_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "drvfs", "v9fs", "vboxsf", "fuse.sshfs", "afs", "ceph", "lustre"}


def relevant(name: str) -> bool:
    """A student source file (not an editor's swap/backup file or bytecode)."""
    return name.endswith(".py") and not name.startswith((".", "#"))


def quiet_time(events: dict[str, bool], unfinished: set[str]) -> float:
    """How long to wait for more saves after file events (name -> whether its last event
    finished a save). ``unfinished`` holds the files whose save is still under way, across
    reads: it is updated here."""
    for name, finished in events.items():
        (unfinished.discard if finished else unfinished.add)(name)
    return SETTLED_S if events and not unfinished else DEBOUNCE_S


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """(mtime_ns, size) of every source file directly in ``folder`` (what inotify watches too)."""
    out: dict[str, tuple[int, int]] = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return out
    for entry in entries:
        if relevant(entry.name):
            try:
                st = entry.stat()
            except OSError:
                continue
            out[entry.name] = (st.st_mtime_ns, st.st_size)
    return out


def changed_names(old: dict[str, tuple[int, int]], new: dict[str, tuple[int, int]]) -> set[str]:
    return {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}


class Inotify:
    """One inotify watch on one directory, read without blocking."""

    def __init__(self, fd: int, wd: int) -> None:
        self.fd = fd
        self.wd = wd

    @classmethod
    def open(cls, folder: Path) -> Inotify | None:
        if not sys.platform.startswith("linux"):
            return None
        try:
            import ctypes
            import ctypes.util

            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
            if fd < 0:
                return None
            wd = libc.inotify_add_watch(fd, os.fsencode(folder), _MASK)
            if wd < 0:
                os.close(fd)
                return None
            return cls(fd, wd)
        except (OSError, AttributeError):
            return None

    def read(self) -> set[str]:
        """Names of relevant files with events since the last read (empty if none)."""
        return set(self.read_events())

    def read_events(self) -> dict[str, bool]:
        """Relevant files with events since the last read, each with whether its last event
        finished a save (``_FINISHED``); empty if none."""
        names: dict[str, bool] = {}
        while True:
            try:
                data = os.read(self.fd, 64 * 1024)
            except BlockingIOError:
                return names
            except OSError:
                return names
            if not data:
                return names
            offset = 0
            while offset + _EVENT.size <= len(data):
                _wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                raw = data[offset + _EVENT.size : offset + _EVENT.size + length]
                offset += _EVENT.size + length
                name = os.fsdecode(raw.rstrip(b"\0"))
                if relevant(name):
                    names[name] = bool(mask & _FINISHED)

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass


def filesystem_type(path: Path) -> str:
    """The type of the file system holding ``path`` (Linux /proc/mounts; '' elsewhere)."""
    try:
        lines = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    target = str(path.resolve())
    best, fstype = "", ""
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount = parts[1].replace("\\040", " ")
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, fstype = mount, parts[2]
    return fstype


def events_unreliable(path: Path) -> bool:
    fstype = filesystem_type(path)
    if fstype in _NO_EVENT_FS or fstype.startswith("fuse.sshfs"):
        return True
    try:  # WSL: Windows drives under /mnt/<letter> are 9p/drvfs; edits from Windows raise no event
        wsl = "microsoft" in Path("/proc/version").read_text(encoding="utf-8", errors="replace").lower()
    except OSError:
        wsl = False
    return wsl and str(path.resolve()).startswith("/mnt/")


class Keys:
    """Single key presses from a terminal (cbreak: no echo, no Enter, Ctrl-C still works).

    Inactive (``fd`` is None) when stdin is not a terminal or termios is missing (Windows)."""

    def __init__(self, stream: Any = None) -> None:
        stream = stream if stream is not None else sys.stdin
        self.fd: int | None = None
        self._saved: Any = None
        try:
            if stream is not None and stream.isatty():
                self.fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            self.fd = None

    def __enter__(self) -> Keys:
        if self.fd is None:
            return self
        try:
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        except (ImportError, OSError):
            self.fd = None
        return self

    def restore(self) -> None:
        if self.fd is not None and self._saved is not None:
            import termios

            try:
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            except OSError:
                pass
            self._saved = None

    def __exit__(self, *exc: object) -> None:
        self.restore()

    def read(self) -> str:
        if self.fd is None:
            return ""
        try:
            return os.read(self.fd, 64).decode("utf-8", "replace")
        except OSError:
            return ""


class _Terminated(Exception):
    pass


def _on_term(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(signum)


class WatchSession:
    """Runs the check, draws the screen, answers keys. Separate from the loop so tests can drive it."""

    def __init__(self, catalog: Any, chapter: Any, target: Path, console: Any, lang: str, sandbox: str, how: str) -> None:
        self.catalog = catalog
        self.chapter = chapter
        self.target = target
        self.console = console
        self.lang = lang
        self.sandbox = sandbox
        self.how = how
        self.report: Any = None
        self.hints_shown: dict[str, int] = {}
        self.keys_active = False
        self.warm: Any = None  # grader.grading.warmcheck.WarmChecker: re-checks without starting anything
        self._warm_ok = True

    def _check(self, live: Any, stop: Any) -> Any:
        """One check: by the warm check server where it can be had (started at the first
        check), else cold; a warm server that fails is dropped and the watch goes on cold."""
        from grader.grading.runner import run_check
        from grader.util.errors import InternalError

        if self.warm is None and self._warm_ok:
            from grader.grading import warmcheck as warm

            self._warm_ok = warm.available(self.chapter)
            if self._warm_ok:
                try:
                    self.warm = warm.WarmChecker(self.chapter, self.target, self.sandbox)
                except OSError:  # it could not even start: cold checks, as before
                    self._warm_ok = False
        if self.warm is not None:
            try:
                return self.warm.check(self.target, live=live, stop=stop)
            except InternalError:
                self.close()
                self._warm_ok = False
        return run_check(self.chapter, self.target, sandbox=self.sandbox, live=live, stop=stop)

    def close(self) -> None:
        warm, self.warm = self.warm, None
        if warm is not None:
            warm.close()

    def _header(self) -> str:
        return t("watch.header", self.lang, folder=f"exercises/{self.chapter.id}", how=self.how)

    def run(self, reason: str, stop: Any = None) -> bool:
        """One check and its report; False when ``stop`` (a file was saved) ended it early."""
        from grader import reports
        from grader.grading import progress
        from grader.grading.live import LiveProgress, on_a_real_file
        from grader.grading.runner import CheckCancelled
        from grader.reports import watch as screen
        from grader.util.errors import GraderError

        screen.start(self.console, self._header(), reason)
        screen.say(self.console, t("watch.checking", self.lang, chapter=self.chapter.id))
        stream = getattr(self.console, "file", None)
        live = LiveProgress(stream, self.lang) if stream is not None and on_a_real_file(stream) else None
        try:
            self.report = self._check(live, stop)
        except CheckCancelled:
            screen.say(self.console, t("watch.cancelled", self.lang))
            return False
        except GraderError as exc:
            self.report = None
            screen.say(self.console, t("watch.failed_run", self.lang, what=str(exc)), "error")
            self._footer()
            return True
        finally:
            if live is not None:
                live.close()
        if self.report.interrupted:  # Ctrl-C reached the check too: watch ends as it does
            raise KeyboardInterrupt
        progress.record_check_quietly(self.report)
        screen.redraw(self.console, self._header(), reason)
        reports.render_check(self.report, self.catalog, self.console, self.lang)
        self._footer()
        return True

    def _footer(self) -> None:
        from grader.reports import watch as screen

        done = self.report is not None and self.report.all_passed
        screen.footer(
            self.console,
            t("watch.all_done", self.lang, chapter=self.chapter.id) if done else None,
            t("watch.keys" if self.keys_active else "watch.no_keys", self.lang),
        )

    def first_unfinished(self) -> Any:
        if self.report is None:
            return self.chapter.exercises[0] if self.chapter.exercises else None
        grouped = self.report.by_exercise()
        for ex in self.chapter.exercises:
            tests = grouped.get(ex.id, [])
            if tests and not all(test.status == "passed" for test in tests):
                return ex
        return None

    def next_hint(self) -> None:
        from grader import reports
        from grader.reports import watch as screen

        ex = self.first_unfinished()
        if ex is None:
            screen.say(self.console, t("watch.no_hint", self.lang, chapter=self.chapter.id), "pass")
            return
        if not ex.hints:
            screen.say(self.console, t("hint.none", self.lang, id=ex.id))
            return
        n = min(self.hints_shown.get(ex.id, 0) + 1, len(ex.hints))
        self.hints_shown[ex.id] = n
        reports.render_hint(ex, n, self.console, self.lang)


def watch_chapter(
    catalog: Any,
    chapter: Any,
    *,
    lang: str,
    poll: bool = False,
    interval: float = 0.5,
    sandbox: str = "auto",
    console: Any = None,
    stdin: Any = None,
) -> None:
    from grader import reports
    from grader.grading.runner import find_workspace
    from grader.util.errors import UsageError

    workspace = find_workspace()
    folder = workspace / "exercises" / chapter.id
    if not folder.is_dir():
        raise UsageError(t("watch.no_folder", lang, folder=f"exercises/{chapter.id}"))
    console = console or reports.console()
    notifier = None if (poll or events_unreliable(folder)) else Inotify.open(folder)
    how = t("watch.how.events", lang) if notifier else t("watch.how.poll", lang, s=f"{interval:g}")
    session = WatchSession(catalog, chapter, workspace / "exercises", console, lang, sandbox, how)

    old_handlers = {}
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            try:
                old_handlers[sig] = signal.signal(sig, _on_term)
            except (ValueError, OSError):  # not the main thread
                pass
    keys = Keys(stdin)
    try:
        with keys:
            session.keys_active = keys.fd is not None
            _loop(session, folder, notifier, keys, interval)
        console.print(t("watch.bye", lang, chapter=chapter.id))
    except _Terminated as exc:
        raise SystemExit(128 + int(exc.args[0])) from None
    finally:
        keys.restore()
        session.close()
        if notifier:
            notifier.close()
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)


def _loop(session: WatchSession, folder: Path, notifier: Inotify | None, keys: Keys, interval: float) -> None:
    lang = session.lang
    known = snapshot(folder)
    pending: set[str] = set()
    due: float | None = None  # when to run the check (debounced)
    unfinished: set[str] = set()  # files whose last event did not end a save
    last_look = time.monotonic()

    def saved_meanwhile() -> bool:
        """Asked while a check runs: was a source file saved? (Then the check stops.)"""
        nonlocal known, last_look
        names = notifier.read() if notifier is not None else set()
        if notifier is None and time.monotonic() - last_look >= interval:
            last_look = time.monotonic()
            new = snapshot(folder)
            names = changed_names(known, new)
            known = new
        pending.update(names)
        return bool(names)

    if not session.run(t("watch.started", lang, time=time.strftime("%H:%M:%S")), saved_meanwhile):
        due = time.monotonic() + DEBOUNCE_S
    next_poll = time.monotonic() + (SAFETY_S if notifier else interval)

    while True:
        now = time.monotonic()
        waits = [next_poll - now]
        if due is not None:
            waits.append(due - now)
        timeout = max(0.0, min(waits))
        fds = [fd for fd in (keys.fd, notifier.fd if notifier else None) if fd is not None]
        if fds:
            ready, _, _ = select.select(fds, [], [], timeout)
        else:
            time.sleep(timeout)
            ready = []

        if keys.fd is not None and keys.fd in ready:
            for ch in keys.read():
                if ch in ("q", "Q", "\x04"):
                    return
                if ch in ("h", "H"):
                    session.next_hint()
                if ch in ("r", "R"):
                    due = time.monotonic()

        if notifier is not None and notifier.fd in ready:
            events = notifier.read_events()
            if events:
                pending |= set(events)
                known = snapshot(folder)
                due = time.monotonic() + quiet_time(events, unfinished)

        if time.monotonic() >= next_poll:
            new = snapshot(folder)  # before draining: a change visible here already queued its event
            if notifier is not None:
                names = notifier.read()
                if names:
                    pending |= names
                    known = snapshot(folder)
                    due = time.monotonic() + DEBOUNCE_S
                elif new != known:
                    notifier.close()
                    notifier = None
                    session.how = t("watch.how.poll", lang, s=f"{interval:g}")
                    session.console.print(t("watch.switch_poll", lang))
            if notifier is None and new != known:
                pending |= changed_names(known, new)
                known = new
                due = time.monotonic() + DEBOUNCE_S
            next_poll = time.monotonic() + (SAFETY_S if notifier else interval)

        if due is not None and time.monotonic() >= due:
            files = ", ".join(sorted(pending)) or "—"
            reason = t("watch.changed", lang, files=files, time=time.strftime("%H:%M:%S"))
            pending.clear()
            due = None
            known = snapshot(folder)
            if not session.run(reason, saved_meanwhile):
                known = snapshot(folder)
                due = time.monotonic() + DEBOUNCE_S
