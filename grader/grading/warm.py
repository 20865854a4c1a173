"""``grade watch``'s warm session: a re-check after a save without starting anything.

A cold check starts an interpreter, imports pytest and numpy, collects the suites and
starts a sandboxed worker that imports numpy again: most of its time. A watch re-checks
the same chapter again and again, so it keeps two processes warm between saves:

* a *check server*: one pytest process (this module is its plugin, ``-p grader.grading.warm``)
  that has configured the grader's plugin and collected the chapter's suites, then waits
  on a socket instead of running the tests. For each check it forks one child, which
  reads the student's files as they are now (``Recorder.begin_check``), runs the collected
  tests, writes the results and ends. The server itself never runs a test nor reads a
  student's file, so nothing a check computes on the trusted side (the suites' per-target
  state, caches, module errors shown) can reach the next check: each is a fresh process.
* a worker fork server (``grader.boundary.forkserver.Zygote``, the one ``grade collect``
  uses), started once inside the sandbox with numpy imported. Each check's child gets one
  fresh worker forked from it, with the new sources, its own limits, seccomp filter, IPC
  namespace and cgroup; the fork server empties the sandbox's ``/tmp`` after each. So
  "nothing survives a check" holds for the student's side as well.

A check stopped by a save (``cancel``) is interrupted as Ctrl-C interrupts pytest; the
worker fork server is then started afresh (its conversation with the stopped check may
have been cut). Chapters that need TensorFlow (which must not fork once imported) and
systems without ``fork`` keep the cold path (``runner.run_check``).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any

import pytest

_FRAME = struct.Struct(">I")
MAX_REQUEST = 64 * 1024  # a request names a few paths: anything larger is not ours
CANCEL_GRACE_S = 3.0  # a cancelled check's time to record what ran and close its worker

_in_child = False  # set in each forked check
_forked_with: frozenset[str] = frozenset()  # the server's modules when it forked this check
_imports_file: str | None = None  # where this check lists the modules it imported itself
MAX_HOISTED = 400


# --- both ends: length-prefixed JSON over a stream socket --------------------------------


def send_message(sock: socket.socket, obj: Any) -> None:
    body = json.dumps(obj).encode()
    sock.sendall(_FRAME.pack(len(body)) + body)


def receive_message(sock: socket.socket) -> Any:
    """One message, or None when the other end has gone."""
    head = _exact(sock, _FRAME.size)
    if head is None:
        return None
    (size,) = _FRAME.unpack(head)
    if size > MAX_REQUEST:
        return None
    body = _exact(sock, size)
    return None if body is None else json.loads(body)


def _exact(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        try:
            chunk = sock.recv(n - len(data))
        except InterruptedError:
            continue
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


# --- the check server (a pytest plugin) --------------------------------------------------


def pytest_addoption(parser: Any) -> None:
    parser.getgroup("grader").addoption(
        "--grader-warm", type=int, default=None, help="grade watch: serve checks on this socket (a file descriptor)"
    )


def warm_init(recorder: Any) -> None:
    """The server's ``Recorder``: no target and no worker of its own, only the worker fork
    server, started now so that it imports numpy while the suites are collected."""
    from grader.boundary import cgroup
    from grader.boundary.forkserver import Zygote

    recorder.client = None
    recorder.zygote = Zygote(sandbox_mode=recorder.config.getoption("grader_sandbox"), needs=())
    recorder.zygote.start()
    cgroup.parent()  # probed once here, not in every check


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: Any) -> Any:
    """In the server: serve checks until the watch goes, running no test here (True). In a
    forked check: None, so pytest's own loop runs the collected tests in that child."""
    fd = session.config.getoption("grader_warm")
    if fd is None:
        return None
    from grader.grading.recorder import RECORDER

    recorder = session.config.stash[RECORDER]
    return None if _serve(session.config, recorder, fd) else True


def pytest_unconfigure(config: Any) -> None:
    if config.getoption("grader_warm", None) is None:
        return
    if _in_child:  # the check is written: end here, without the exit handlers the server also holds
        _list_imports()
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(0)
    from grader.grading.recorder import RECORDER

    recorder = config.stash.get(RECORDER, None)
    if recorder is not None and getattr(recorder, "zygote", None) is not None:
        recorder.zygote.close()


def _serve(config: Any, recorder: Any, fd: int) -> bool:
    """The server's loop: True in a forked check (which then runs the tests), False when
    the watch has gone."""
    global _in_child, _forked_with, _imports_file
    sock = socket.socket(fileno=fd)
    # the server's own folder (the watch's, for this session): each check lists its imports there
    _imports_file = os.path.join(os.path.dirname(str(config.getoption("grader_results"))), "imports.json")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the running check (and the watch)
    while True:
        msg = receive_message(sock)
        if not isinstance(msg, dict) or msg.get("op") != "check":
            return False
        try:  # its "ready" read here, once: every check's child then finds it ready
            recorder.zygote.ensure_ready()
        except (OSError, ValueError):
            recorder.zygote.close()  # the child's first spawn starts a new one
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        _forked_with = frozenset(sys.modules)
        pid = os.fork()
        if pid == 0:
            _in_child = True
            sock.close()
            signal.signal(signal.SIGINT, signal.default_int_handler)
            _begin(config, recorder, msg)
            return True
        clean, gone = _wait_child(sock, pid)
        if gone:
            return False
        if not clean:  # its talk with the worker fork server may have been cut: a new one
            recorder.zygote.close()
            recorder.zygote.start()
        try:
            send_message(sock, {"done": True, "clean": clean})
        except OSError:
            return False
        _hoist(_imports_file)


def _list_imports() -> None:
    """In a check that has ended: the modules it imported that the server had not (the
    suites' lazy imports: ``numpy.random``, the results writer's), for ``_hoist``."""
    if _imports_file is None:
        return
    names = sorted(name for name in set(sys.modules) - _forked_with if isinstance(name, str))[:MAX_HOISTED]
    with contextlib.suppress(OSError):
        with open(_imports_file, "w", encoding="utf-8") as f:
            json.dump(names, f)


def _hoist(path: str | None) -> None:
    """In the server, after a check: import what that check imported for itself, so the next
    check's child starts with it (each child's own imports are lost when it ends). Only the
    grader's, numpy's and the standard library's modules (none of them starts a thread on
    import: the server forks); the names come from the trusted check process, which runs no
    student code. Parents before their submodules; one that fails is skipped."""
    import importlib

    if path is None:
        return
    try:
        with open(path, encoding="utf-8") as f:
            names = json.load(f)
        os.unlink(path)
    except (OSError, ValueError):
        return
    if not isinstance(names, list):
        return
    for name in sorted((n for n in names if isinstance(n, str)), key=lambda n: n.count("."))[:MAX_HOISTED]:
        top = name.partition(".")[0]
        if name in sys.modules or not (top in ("grader", "numpy") or top in sys.stdlib_module_names):
            continue
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def _begin(config: Any, recorder: Any, msg: dict[str, Any]) -> None:
    """In the forked check: this check's target, results file and events file, and its
    worker forked from the warm fork server."""
    from grader.boundary.forkserver import ForkedWorkerClient

    recorder.results_path = str(msg["results"])
    recorder.started = time.monotonic()
    events = msg.get("events")
    hooks = config.pluginmanager.get_plugin("grader-events")
    if hooks is not None and isinstance(events, str):
        from grader.grading.live import EventLog

        hooks.progress = EventLog(events)
    zygote = recorder.zygote
    recorder.begin_check(Path(str(msg["target"])), lambda cfg: ForkedWorkerClient(cfg, zygote))


def _wait_child(sock: socket.socket, pid: int) -> tuple[bool, bool]:
    """Wait for a forked check; a ``cancel`` from the watch interrupts it (as Ctrl-C does,
    again every half second: the first may come before the child listens), and it is killed
    if it has not ended ``CANCEL_GRACE_S`` later, or at once when the watch has gone.
    (clean, gone): clean when it ended on its own with status 0 and was not cancelled."""
    try:
        pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else -1
    except OSError:
        pidfd = -1
    cancelled_at: float | None = None
    nudged = 0.0
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return cancelled_at is None and os.waitstatus_to_exitcode(status) == 0, False
            now = time.monotonic()
            if cancelled_at is not None and now - cancelled_at > CANCEL_GRACE_S:
                _kill(pid)
            elif cancelled_at is not None and now - nudged >= 0.5:
                nudged = now
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGINT)
            watched = [sock] + ([pidfd] if pidfd >= 0 else [])
            ready, _, _ = select.select(watched, [], [], 0.1 if pidfd >= 0 else 0.005)
            if sock in ready:
                msg = receive_message(sock)
                if not isinstance(msg, dict):  # the watch has gone
                    _kill(pid)
                    os.waitpid(pid, 0)
                    return False, True
                if msg.get("op") == "cancel" and cancelled_at is None:
                    cancelled_at = time.monotonic()
    finally:
        if pidfd >= 0:
            os.close(pidfd)


def _kill(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
