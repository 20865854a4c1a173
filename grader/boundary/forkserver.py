"""A fork server for workers: cheap worker starts when one session grades many targets.

Starting a worker costs a fresh interpreter plus ``import numpy`` (~0.25 s of CPU). In
batch grading (``grade collect``) every submission-chapter needs its own worker, so a
*zygote* process is started once per pytest session, inside the same sandbox a worker
would get (bubblewrap where usable). It imports numpy and ``numpy.random`` (each child
reseeds numpy's global generator from fresh entropy), a chapter's heavy library
(TensorFlow, when importing it starts no thread: ~3 s of CPU each child no longer pays), the
codec, and defines the worker's module (its functions and classes, without serving), then
never runs student code itself: on request it forks a child that runs the unchanged
``worker.py`` main with the pipes and configuration it was handed (limits, privilege drop and
seccomp are applied in the child, before student code).

The zygote is not dumpable and the children's seccomp filter denies signals and
ptrace, so a child cannot reach its parent or a sibling. Only one child per zygote runs
at a time in batch grading, and in a bubblewrap sandbox the zygote empties the private
``/tmp`` after each child, so nothing one submission leaves behind is seen by the next;
each child also gets an IPC namespace and a memory cgroup of its own where they can be
had (and in a chroot jail its own ``/tmp`` folder).
The trusted side kills and reaps children through the zygote (their pids live in the
sandbox's PID namespace); a dead zygote is restarted on the next spawn.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
from pathlib import Path
from typing import Any

from grader.boundary import boot, sandbox
from grader.boundary.boot import WorkerConfig
from grader.boundary.channel import WorkerClient
from grader.util.errors import WorkerCrashed

_HERE = Path(__file__).resolve().parent

ZYGOTE = r"""
import os, sys, json, struct, types, socket, time
ctl = socket.socket(fileno=int(sys.argv[1]))
def _exact(n, first=b''):
    b = first
    while len(b) < n:
        c = ctl.recv(n - len(b))
        if not c:
            os._exit(0)
        b += c
    return b
def _recv():
    data, fds, _f, _a = socket.recv_fds(ctl, 4, 5)
    if not data:
        os._exit(0)
    n = struct.unpack('>I', _exact(4, data))[0]
    return json.loads(_exact(n)), fds
def _send(obj):
    b = json.dumps(obj).encode()
    ctl.sendall(struct.pack('>I', len(b)) + b)
boot, _fds = _recv()
""" + boot.INSTALL_HELPERS + r"""# The worker's module, defined here once (its functions and classes, the codec's, the confiner's)
# instead of in every child: run under another name, it only defines (see its last lines).
worker_space = {'__name__': '__grader_worker_forked__', 'READ_FD': -1, 'WRITE_FD': -1, 'STACK_FD': -1,
                'CGROUP_FD': -1}
exec(compile(boot['worker'], '<grader-worker>', 'exec'), worker_space)
wipe = boot['wipe']
preload = boot.get('preload', [])
del boot, m, c
import collections, copy, ctypes, functools, importlib.abc, importlib.util, itertools, math, platform
import random, resource, signal, traceback, typing, numpy, numpy.random
for _name in preload:
    # A chapter's heavy library (TensorFlow), imported once here instead of in every child.
    # Importing runs no operation and starts no thread; the check below makes sure of the
    # latter (forking a process with other threads could copy a lock held by one of them).
    try:
        __import__(_name)
    except Exception:
        pass
if preload and os.path.isdir('/proc/self/task') and len(os.listdir('/proc/self/task')) > 1:
    _send(['ready', 'threads'])
    os._exit(0)
libc = ctypes.CDLL(None)
libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG: SIGKILL when the trusted side goes
libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: children cannot read or write our memory
def _wipe():
    # Everything a child left in the shared /tmp goes, also folders it made unreadable
    # (same uid: each is made ours again before it is emptied), and symlinks are removed,
    # never followed.
    def _remove(p):
        if os.path.isdir(p) and not os.path.islink(p):
            try:
                os.chmod(p, 0o700)
                names = os.listdir(p)
            except OSError:
                names = []
            for name in names:
                _remove(os.path.join(p, name))
            os.rmdir(p)
        else:
            os.unlink(p)
    for name in os.listdir(wipe):
        p = os.path.join(wipe, name)
        if os.path.ismount(p):
            continue  # a frozen folder holding runtime (a venv under /tmp): not a child's
        try:
            _remove(p)
        except OSError:
            pass
children = set()
_send(['ready'])
while True:
    msg, fds = _recv()
    op = msg.get('op')
    if op == 'spawn' and len(fds) in (4, 5):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                ctl.close()
                libc.prctl(1, 9, 0, 0, 0)  # PDEATHSIG is not inherited: die with the zygote too
                os.setsid()
                # numpy's global generator from fresh entropy, as in a new process (a 32-bit seed
                # from the system: a third of seed()'s cost, whose 624 words were ~150 page faults)
                numpy.random.seed(int.from_bytes(os.urandom(4), 'little'))
                r, w, out, stack = fds[:4]
                cg = fds[4] if len(fds) == 5 else -1  # the child's own cgroup (cgroup.procs)
                os.dup2(out, 1)
                os.dup2(out, 2)
                os.close(out)
                del msg
                # The worker reads the student's sources and settings from this child's
                # own pipe, after the fork: the fork server never holds a student's data.
                worker_space.update(READ_FD=r, WRITE_FD=w, STACK_FD=stack, CGROUP_FD=cg)
                worker_space['main']()
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        children.add(pid)
        _send(['pid', pid])
    elif op == 'reap':
        pid = msg.get('pid')
        if pid not in children:
            _send(['status', None])
            continue
        deadline = time.monotonic() + float(msg.get('grace', 0))
        killed = False
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() >= deadline:
                killed = True
                try:
                    os.killpg(pid, 9)
                except OSError:
                    pass
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
                done, status = os.waitpid(pid, 0)
                break
            time.sleep(0.002)
        children.discard(pid)
        if wipe and not children:
            _wipe()
        _send(['status', os.waitstatus_to_exitcode(status), killed])
    else:
        for fd in fds:
            os.close(fd)
        _send(['error', 'bad request'])
"""


class Zygote:
    """The fork server process and its control socket (trusted side)."""

    def __init__(self, *, sandbox_mode: str = "auto", needs: tuple[str, ...] = (),
                 startup_timeout: float = 30.0, preload: tuple[str, ...] = ()) -> None:
        self.sandbox_request = sandbox_mode
        self.needs = tuple(needs)
        # imported by the fork server itself, so that no child pays for it (TensorFlow's ~3 s
        # of CPU); it runs nothing of them. Dropped when importing them started a thread.
        self.preload = tuple(preload)
        self.startup_timeout = startup_timeout
        self.mode = "none"
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self._ready = False
        self.restarts = 0
        self.steps: list[tuple[str, ...]] = []

    def start(self) -> None:
        if self.proc is not None:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        command = [sandbox.interpreter(), "-I", "-S", "-c", ZYGOTE, str(theirs.fileno())]
        self.mode = sandbox.choose(self.sandbox_request)
        self.steps, import_paths = sandbox.plan(self.needs)
        if self.mode == "bwrap":
            command = sandbox.bwrap_command(command, self.steps)
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
            env=boot.student_env(),
            cwd="/",
        )
        theirs.close()
        self.sock = ours
        self.sock.settimeout(self.startup_timeout)
        self._ready = False
        # the children share the sandbox's /tmp (it is ours to empty only there)
        self._send({**boot.boot_frame(import_paths), "wipe": "/tmp" if self.mode == "bwrap" else None,
                    "preload": list(self.preload)}, [])

    def _send(self, obj: Any, fds: list[int]) -> None:
        assert self.sock is not None
        body = json.dumps(obj).encode()
        header = struct.pack(">I", len(body))
        socket.send_fds(self.sock, [header], fds)
        self.sock.sendall(body)

    def _recv(self) -> Any:
        assert self.sock is not None
        header = self._exact(4)
        return json.loads(self._exact(struct.unpack(">I", header)[0]))

    def _exact(self, n: int) -> bytes:
        assert self.sock is not None
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("fork server closed")
            data += chunk
        return data

    def ensure_ready(self) -> None:
        """Started, and its "ready" message read (a process forked after this finds it ready)."""
        self._ensure_ready()

    def _ensure_ready(self) -> None:
        self.start()
        if not self._ready:
            reply = self._recv()
            if reply == ["ready", "threads"]:  # the preload started a thread: each child imports it
                self.close()
                self.preload = ()
                self.start()
                reply = self._recv()
            if reply != ["ready"]:
                raise ConnectionError("fork server did not start")
            self._ready = True

    def spawn(self, fds: list[int]) -> int:
        """Fork a child that will read its configuration from its own pipe (fds[0])."""
        for attempt in range(2):
            try:
                self._ensure_ready()
                self._send({"op": "spawn"}, fds)
                reply = self._recv()
                if isinstance(reply, list) and len(reply) == 2 and reply[0] == "pid" and type(reply[1]) is int:
                    return reply[1]
                raise ConnectionError(f"unexpected reply {reply!r}")
            except (OSError, ValueError) as exc:
                self.close()
                self.restarts += 1
                if attempt:
                    raise WorkerCrashed(f"the grader's worker process failed to start ({exc})") from None
        raise AssertionError("unreachable")

    def reap(self, pid: int, grace: float) -> tuple[int | None, bool]:
        """Wait up to ``grace`` seconds for a child to end, then kill it: (its exit code,
        whether it had to be killed)."""
        if self.sock is None:
            return None, False
        try:
            self._send({"op": "reap", "pid": pid, "grace": grace}, [])
            reply = self._recv()
        except (OSError, ValueError):
            self.close()
            return None, False
        if isinstance(reply, list) and len(reply) == 3 and type(reply[1]) is int:
            return reply[1], reply[2] is True
        return None, False

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()  # the zygote exits on EOF (and bwrap after it): a clean end
            self.sock = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, 9)
                except (ProcessLookupError, PermissionError):
                    pass
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        self._ready = False


class _ForkedProc:
    """Stands in for ``subprocess.Popen`` for a child of the zygote."""

    def __init__(self, zygote: Zygote, pid: int) -> None:
        self.zygote = zygote
        self.pid = pid
        self.returncode: int | None = None
        self._reaped = False

    def wait(self, timeout: float | None = 1.0) -> int | None:
        """Like ``Popen.wait``: the exit code, or ``TimeoutExpired`` when the child was
        still running after ``timeout`` (it has been killed by then)."""
        if not self._reaped:
            self.returncode, killed = self.zygote.reap(self.pid, 1.0 if timeout is None else timeout)
            self._reaped = True
            if killed and timeout:
                raise subprocess.TimeoutExpired("worker", timeout)
        return self.returncode

    def kill(self) -> None:
        if not self._reaped:
            self.zygote.reap(self.pid, 0.0)
            self._reaped = True


class ForkedWorkerClient(WorkerClient):
    """A ``WorkerClient`` whose worker is forked from a shared zygote instead of exec'd."""

    SHARES_SANDBOX = True

    def __init__(self, config: WorkerConfig, zygote: Zygote) -> None:
        super().__init__(config)
        self.zygote = zygote

    def start(self) -> None:
        if self.proc is not None:
            return
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        stack_r, stack_w = self._stack_pipe()
        self._output.seek(0)
        self._output.truncate()
        self.zygote.start()
        mode = self.zygote.mode
        self._cgroup = self._make_cgroup()
        self._jail = self._make_jail(mode)
        fds = [to_worker_r, from_worker_w, self._output.fileno(), stack_w]
        if self._cgroup is not None:
            fds.append(self._cgroup.procs_fd)
        try:
            pid = self.zygote.spawn(fds)
        except BaseException:
            os.close(stack_r)
            raise
        finally:
            os.close(to_worker_r)
            os.close(from_worker_w)
            os.close(stack_w)
        self.proc = _ForkedProc(self.zygote, pid)  # type: ignore[assignment]
        self._attach(from_worker_r, to_worker_w, mode, stack_r)
        # The zygote may have imported the chapter's "preload" (TensorFlow) already; it never
        # ran an operation of it (a process that did must not fork): the child's own import
        # is then a no-op, and its first operation starts TensorFlow's threads in the child.
        self._send_config(self.worker_config(mode, self.zygote.steps))

    def _ensure_ready(self) -> None:
        fresh = not self._ready
        super()._ensure_ready()
        if fresh and self._ready:
            self.isolation.append("forked from a per-session fork server")

    def kill(self) -> None:
        proc = self.proc
        if proc is None:
            return
        proc.kill()
        self._drop_cgroup()
        self._drop_jail()
        self._close_fds()
        self._pin.release()
        self.proc = None
        self._ready = False
        self._callbacks.clear()
