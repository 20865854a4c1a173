"""The trusted side of the channel: start a worker, send requests, judge replies.

Every reply is decoded by the strict codec (plain data only, never pickle). Student
exceptions arrive as text and become ``StudentCodeError``; a worker that exceeds its
time is killed (with its whole process group) and a fresh one is started on the next
request, so one runaway test does not cost the others their points.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack

from grader.boundary import codec, sandbox
from grader.boundary.proxy import Proxy, Synced, checked_callback
from grader.errors import (
    ChannelViolation,
    NotAttempted,
    ResourceExceeded,
    StudentCodeError,
    WorkerCrashed,
    WorkerFault,
    WorkerTimeout,
)
from grader.results import ISOLATION_WEAK

_HERE = Path(__file__).resolve().parent

# Runs as `python -I -S -c BOOTSTRAP RFD WFD`: reads one JSON frame with the import
# paths and the codec and worker sources, then runs the worker, which reads its own
# configuration (the student's sources, limits, mount plan) as the next frame.
BOOTSTRAP = """
import os, sys, json, struct, types
r, w = int(sys.argv[1]), int(sys.argv[2])
def _read(n):
    b = b''
    while len(b) < n:
        c = os.read(r, n - len(b))
        if not c:
            os._exit(3)
        b += c
    return b
boot = json.loads(_read(struct.unpack('>I', _read(4))[0]))
sys.path[:0] = boot['paths']
m = types.ModuleType('_grader_codec')
exec(compile(boot['codec'], '<grader-codec>', 'exec'), m.__dict__)
sys.modules['_grader_codec'] = m
g = {'__name__': '__grader_worker__', 'READ_FD': r, 'WRITE_FD': w}
code = compile(boot['worker'], '<grader-worker>', 'exec')
del boot, m
exec(code, g)
"""

STUDENT_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    # TensorFlow: one thread per pool (2-core machines, reproducible sums) and no
    # oneDNN rewrites (faster start here, the same numbers run after run).
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "LANG": "C.UTF-8",
}


@dataclass
class WorkerConfig:
    sources: dict[str, tuple[str, bytes]]  # module name -> (path shown in tracebacks, source)
    memory_mb: int | None = 1024  # address-space cap; None for no cap
    cpu_s: int | None = 120  # CPU seconds for the worker's whole life
    output_bytes: int = 4 * 1024 * 1024  # what the student may print
    call_timeout: float = 10.0  # wall seconds for one request
    startup_timeout: float = 30.0
    sandbox: str = "auto"  # "auto" (bwrap when present), "bwrap", "none" (the worker's own namespaces)
    seccomp: bool = True
    needs: tuple[str, ...] = ()  # heavy packages the worker may see and import (e.g. tensorflow)
    preload: list[str] = field(default_factory=list)  # modules imported before the limits (e.g. keras)


def boot_frame(import_paths: list[str]) -> dict[str, Any]:
    """What a fresh interpreter needs to become a worker (or a fork server): import
    paths and the codec's and worker's sources. Nothing of any student's."""
    return {
        "paths": import_paths,
        "codec": (_HERE / "codec.py").read_text(encoding="utf-8"),
        "worker": (_HERE / "worker.py").read_text(encoding="utf-8"),
    }


def student_env() -> dict[str, str]:
    """The whole environment of a worker: nothing of the grader's own passes; its home
    and temporary folder are the private /tmp, the plan's one writable place."""
    return {**STUDENT_ENV, "PATH": "/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp"}


class WorkerClient:
    """One student worker process and the requests sent to it."""

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.proc: subprocess.Popen[bytes] | None = None
        self.generation = 0
        self.isolation: list[str] = []
        self.deadline: float | None = None  # absolute time.monotonic() limit for the current test
        self._ready = False
        self._rfd = -1
        self._wfd = -1
        self._buf = bytearray()
        self._callbacks: dict[int, Callable[..., Any]] = {}
        self._output = tempfile.TemporaryFile()
        self._codec = codec.Codec(self._encode_object, self._decode_ext)
        self._workdir = tempfile.mkdtemp(prefix="grade-worker-")
        os.chmod(self._workdir, 0o755)

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start a worker without waiting for it (it imports numpy meanwhile)."""
        if self.proc is not None:
            return
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        command = [sandbox.interpreter(), "-I", "-S", "-c", BOOTSTRAP, str(to_worker_r), str(from_worker_w)]
        mode = sandbox.choose(self.config.sandbox)
        steps, import_paths = sandbox.plan(tuple(self.config.needs))
        if mode == "bwrap":
            command = sandbox.bwrap_command(command, steps)
        self._output.seek(0)
        self._output.truncate()
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=self._output,
            pass_fds=(to_worker_r, from_worker_w),
            start_new_session=True,
            env=student_env(),
            cwd=self._workdir,
        )
        os.close(to_worker_r)
        os.close(from_worker_w)
        self._attach(from_worker_r, to_worker_w, mode)
        self._send_config(boot_frame(import_paths))
        self._send_config(self.worker_config(mode, steps))

    def _attach(self, rfd: int, wfd: int, mode: str) -> None:
        """Take the pipes of a freshly started worker (writes never block: see _write)."""
        os.set_blocking(wfd, False)
        self._rfd, self._wfd = rfd, wfd
        self._buf = bytearray()
        self.generation += 1
        self._ready = False
        self._sandbox_mode = mode

    def _send_config(self, config: dict[str, Any]) -> None:
        """A frame the worker reads before it answers requests: its configuration holds
        the student's sources, so it goes only to the process that runs this one
        student's code (never to a fork server)."""
        data = json.dumps(config).encode()
        # A worker that cannot take it is reported when its ready message does not come.
        self._write(data, time.monotonic() + self.config.startup_timeout)

    def worker_config(self, mode: str, steps: list[tuple[str, ...]]) -> dict[str, Any]:
        """What the worker applies before student code runs (JSON-ready): the student's
        sources, heavy imports, limits and, without bubblewrap, the mount plan it carries
        out itself."""
        return {
            "sources": {k: (v[0], v[1].decode("latin-1")) for k, v in self.config.sources.items()},
            "preload": list(self.config.preload),
            "cwd": "/" if mode == "bwrap" else self._workdir,
            "limits": {
                "memory_mb": self.config.memory_mb,
                "cpu_s": self.config.cpu_s,
                "output_bytes": self.config.output_bytes,
            },
            "root_plan": None if mode == "bwrap" else [list(s) for s in steps],
            "newroot": self._workdir,
            "seccomp": self.config.seccomp,
        }

    def _ensure_ready(self) -> None:
        if self.proc is None:
            self.start()
        if self._ready:
            return
        started = time.monotonic()
        frame = self._read_frame(started + self.config.startup_timeout, during="starting")
        message = self._decode(frame)
        if not (isinstance(message, list) and message and message[0] == "ready"):
            self.kill()
            raise ChannelViolation("the worker did not start properly")
        isolation = [str(x) for x in message[1]] if len(message) > 1 and isinstance(message[1], list) else []
        if self._sandbox_mode == "bwrap":
            isolation.insert(0, "bubblewrap sandbox: allow-listed runtime files only, no network, uid nobody")
        elif not any(item.startswith("allow-list root") for item in isolation):
            isolation.insert(0, ISOLATION_WEAK)
        self.isolation = isolation
        self._ready = True

    def kill(self) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.kill()
        except ProcessLookupError:
            pass
        proc.wait()
        for fd in (self._rfd, self._wfd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc = None
        self._ready = False
        self._callbacks.clear()

    def close(self) -> None:
        self.kill()
        self._output.close()
        try:
            os.rmdir(self._workdir)
        except OSError:
            pass

    def output_tail(self, limit: int = 1500) -> str:
        """The end of what the student's code printed (for crash messages)."""
        self._output.flush()
        size = self._output.seek(0, os.SEEK_END)
        self._output.seek(max(0, size - limit))
        return self._output.read().decode("utf-8", "replace")

    # -- codec hooks -----------------------------------------------------------------

    def _encode_object(self, obj: Any) -> msgpack.ExtType:
        if isinstance(obj, Proxy):
            if object.__getattribute__(obj, "_grader_gen") != self.generation:
                raise WorkerCrashed("an object from before the worker restarted was used again")
            hid = object.__getattribute__(obj, "_grader_id")
            return msgpack.ExtType(codec.EXT_HANDLE, msgpack.packb([hid]))
        if callable(obj):
            cb_id = len(self._callbacks) + 1
            self._callbacks[cb_id] = checked_callback(obj)  # its arguments checked before it runs
            return msgpack.ExtType(codec.EXT_CALLBACK, msgpack.packb(cb_id))
        raise TypeError(f"cannot send a {type(obj).__name__} to the student's code")

    def _decode_ext(self, code: int, data: bytes) -> Any:
        if code == codec.EXT_HANDLE:
            try:
                hid, tname, is_callable = msgpack.unpackb(data)
            except Exception as exc:
                raise codec.CodecError("malformed handle") from exc
            if type(hid) is not int or not isinstance(tname, str) or type(is_callable) is not bool:
                raise codec.CodecError("malformed handle")
            return Proxy(self, self.generation, hid, tname[:100], is_callable)
        raise codec.CodecError(f"unexpected extension type {code}")

    def _decode(self, frame: bytes) -> Any:
        try:
            codec.check_message(frame)
            return self._codec.unpack(frame)
        except codec.CodecError as exc:
            self.kill()
            raise ChannelViolation(f"your code sent data the grader does not accept ({exc})") from None

    # -- reading with a deadline ------------------------------------------------------

    def _read_frame(self, deadline: float, during: str) -> bytes:
        header = codec._HEADER.size
        while True:
            if len(self._buf) >= header:
                (length,) = codec._HEADER.unpack(self._buf[:header])
                if length > codec.MAX_FRAME:
                    self.kill()
                    raise ChannelViolation("your code sent a message larger than the grader accepts")
                if len(self._buf) >= header + length:
                    frame = bytes(self._buf[header : header + length])
                    del self._buf[: header + length]
                    return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._on_timeout(during)
            ready, _, _ = select.select([self._rfd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._rfd, 1 << 20)
            if not chunk:
                self._on_exit(during)
            self._buf += chunk

    def _write(self, data: bytes, deadline: float) -> str | None:
        """Send one frame; the pipe is non-blocking, so a worker that stops reading
        costs at most the time left to the deadline, never a hang. None when sent,
        else "timeout" or "closed"."""
        view = memoryview(codec._HEADER.pack(len(data)) + data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            _, ready, _ = select.select([], [self._wfd], [], remaining)
            if not ready:
                continue
            try:
                written = os.write(self._wfd, view)
            except BlockingIOError:
                continue
            except OSError:
                return "closed"
            view = view[written:]
        return None

    def _send(self, data: bytes, deadline: float) -> None:
        """``_write`` for a request: a worker that cannot take it is a timeout or an exit."""
        problem = self._write(data, deadline)
        if problem == "timeout":
            self._on_timeout("running")
        elif problem == "closed":
            self._on_exit("running")

    def _on_timeout(self, during: str) -> None:
        self.kill()
        if during == "starting":
            raise WorkerCrashed("the grader's worker process did not start in time")
        raise WorkerTimeout("your code did not finish in time (it may loop forever or wait on input)")

    def _on_exit(self, during: str) -> None:
        proc = self.proc
        lingering = False
        try:
            code = proc.wait(timeout=1.0) if proc is not None else None
        except subprocess.TimeoutExpired:
            code, lingering = None, True  # it closed the channel but runs on: killed below
        tail = self.output_tail(400).strip()
        self.kill()
        if lingering and during != "starting":
            raise WorkerCrashed("your code closed the grader's connection to it (and kept running), so it was stopped")
        if during == "starting":
            detail = f" Its output ends with:\n{tail}" if tail else ""
            raise WorkerCrashed(f"the grader's worker process failed to start (exit code {code}).{detail}")
        if code is not None and code < 0:
            sig = -code
            if sig in (signal.SIGXCPU, signal.SIGKILL):
                raise ResourceExceeded("your code used more CPU time or memory than allowed and was stopped")
            if sig == signal.SIGSYS:
                raise WorkerCrashed("your code made a system call that is not allowed here")
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            raise WorkerCrashed(f"the process running your code crashed ({name})")
        raise WorkerCrashed(
            f"your code ended the process running it (exit code {code}), e.g. by calling os._exit() or sys.exit()"
        )

    # -- requests --------------------------------------------------------------------

    def _timeout_deadline(self) -> float:
        now = time.monotonic()
        deadline = now + self.config.call_timeout
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        return deadline

    def request(self, message: list[Any]) -> list[Any]:
        self._ensure_ready()
        deadline = self._timeout_deadline()
        payload = self._codec.pack(message)
        outer_callbacks = dict(self._callbacks)
        self._send(payload, deadline)
        try:
            while True:
                reply = self._decode(self._read_frame(deadline, during="running"))
                if not isinstance(reply, list) or not reply or not isinstance(reply[0], str):
                    self.kill()
                    raise ChannelViolation("your code sent a malformed reply")
                kind = reply[0]
                if kind == "ok":
                    return reply
                if kind == "err":
                    raise self._student_error(reply)
                if kind == "cb":
                    self._run_callback(reply, deadline)
                    continue
                self.kill()
                raise ChannelViolation("your code sent an unexpected message")
        finally:
            self._callbacks = outer_callbacks

    def _student_error(self, reply: list[Any]) -> WorkerFault:
        parts = [str(x) if isinstance(x, str) else "" for x in reply[1:4]] + ["", "", ""]
        type_name, message, tb = parts[0][:100], parts[1][:2000], parts[2][:4000]
        if type_name == "NotImplementedError":
            return NotAttempted(type_name, message, tb)
        if type_name == "MemoryError":
            return ResourceExceeded("your code ran out of memory (it is capped for grading)")
        if type_name == "OutputLimit":
            return ResourceExceeded("your code printed more output than allowed")
        return StudentCodeError(type_name, message, tb)

    def _run_callback(self, reply: list[Any], deadline: float) -> None:
        cb_id = reply[1] if len(reply) > 1 else None
        fn = self._callbacks.get(cb_id) if type(cb_id) is int else None
        args = reply[2] if len(reply) > 2 and isinstance(reply[2], list) else []
        kwargs = reply[3] if len(reply) > 3 and isinstance(reply[3], dict) else {}
        if fn is None:
            self.kill()
            raise ChannelViolation("your code called a function the grader did not give it")
        kwargs = {str(k): v for k, v in kwargs.items()}
        problem = fn.refuses(args, kwargs)  # before the test's function computes anything
        if problem:
            self._send(self._codec.pack(["cberr", f"the function passed to your code failed: {problem}"]), deadline)
            return
        try:
            value = fn(*args, **kwargs)
            answer: list[Any] = ["cbret", value]
        except Exception as exc:  # noqa: BLE001 - reported to the student as a failed call
            answer = ["cberr", f"the function passed to your code failed: {type(exc).__name__}: {exc}"]
        self._send(self._codec.pack(answer), deadline)

    def call(self, target: Proxy, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Call a function in the worker. Arguments travel as copies; only those wrapped
        in ``Synced`` get the student's in-place changes copied back."""
        plain_args = [a.value if isinstance(a, Synced) else a for a in args]
        plain_kwargs = {k: (v.value if isinstance(v, Synced) else v) for k, v in kwargs.items()}
        sync_pos = [i for i, a in enumerate(args) if isinstance(a, Synced)]
        sync_keys = [k for k, v in kwargs.items() if isinstance(v, Synced)]
        sent = {**{i: _snapshot(plain_args[i]) for i in sync_pos}, **{k: _snapshot(plain_kwargs[k]) for k in sync_keys}}
        reply = self.request(["call", target, plain_args, plain_kwargs, sync_pos, sync_keys])
        if sync_pos or sync_keys:
            synced = reply[2] if len(reply) >= 4 and isinstance(reply[2], list) else []
            synced_kw = reply[3] if len(reply) >= 4 and isinstance(reply[3], dict) else {}
            came_back = {**dict(zip(sync_pos, synced, strict=False)), **{k: synced_kw[k] for k in sync_keys if k in synced_kw}}
            for where, wrapper in [*((i, args[i]) for i in sync_pos), *((k, kwargs[k]) for k in sync_keys)]:
                original = plain_args[where] if isinstance(where, int) else plain_kwargs[where]
                if where not in came_back:  # nothing came back: nothing can be said to be as it was
                    wrapper.changed = wrapper.reshaped = True
                    continue
                new = came_back[where]
                wrapper.changed, wrapper.reshaped = _compare(sent[where], new)
                sync_in_place(original, new)
        return reply[1] if len(reply) > 1 else None

    def load(self, module: str) -> Proxy:
        value = self.request(["load", module])[1]
        if not isinstance(value, Proxy):
            raise ChannelViolation("your module could not be loaded")
        return value

    def seed(self, seed: int) -> None:
        self.request(["seed", int(seed)])

    def save_model(self, target: Proxy) -> bytes:
        """The bytes of a ``.keras`` archive the worker writes for one of its models."""
        value = self.request(["save_model", target])[1]
        if not isinstance(value, bytes):
            raise ChannelViolation("your model could not be handed over as a .keras file")
        return value


def _snapshot(value: Any) -> Any:
    """A private copy of a synced argument as it was sent (arrays copied, containers rebuilt)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_snapshot(v) for v in value)
    return value


def _compare(sent: Any, new: Any) -> tuple[bool, bool]:
    """(changed, reshaped): whether ``new`` differs from ``sent`` at all (type, keys, an array's
    shape, dtype or bytes), and whether some array in it has another shape or dtype."""
    import numpy as np

    if isinstance(sent, np.ndarray):
        if not isinstance(new, np.ndarray):
            return True, True
        if new.shape != sent.shape or new.dtype != sent.dtype:
            return True, True
        return sent.tobytes() != new.tobytes(), False
    if isinstance(sent, dict):
        if not isinstance(new, dict):
            return True, True
        changed = set(map(repr, sent)) != set(map(repr, new))
        reshaped = False
        for key, value in sent.items():
            if key in new:
                c, r = _compare(value, new[key])
                changed, reshaped = changed or c, reshaped or r
        return changed, reshaped
    if isinstance(sent, (list, tuple)):
        if not isinstance(new, (list, tuple)) or len(new) != len(sent):
            return True, True
        results = [_compare(a, b) for a, b in zip(sent, new, strict=True)]
        return any(c for c, _ in results), any(r for _, r in results)
    return type(sent) is not type(new) or sent != new, False


def sync_in_place(original: Any, new: Any) -> None:
    """Copy the worker's view of an argument back into the trusted object."""
    import numpy as np

    if isinstance(original, np.ndarray):
        if isinstance(new, np.ndarray) and new.shape == original.shape and original.flags.writeable:
            np.copyto(original, new, casting="unsafe")
    elif isinstance(original, dict) and isinstance(new, dict):
        for key in list(original):
            if key not in new:
                del original[key]
        for key, value in new.items():
            if key in original and isinstance(original[key], (np.ndarray, dict, list)):
                sync_in_place(original[key], value)
                if not isinstance(original[key], np.ndarray) or not isinstance(value, np.ndarray):
                    if type(original[key]) is not type(value):
                        original[key] = value
                elif value.shape != original[key].shape:
                    original[key] = value
            else:
                original[key] = value
    elif isinstance(original, list) and isinstance(new, list):
        for i, value in enumerate(new[: len(original)]):
            if isinstance(original[i], (np.ndarray, dict, list)):
                sync_in_place(original[i], value)
            else:
                original[i] = value
        del original[len(new) :]
        original.extend(new[len(original) :])
