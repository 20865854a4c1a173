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
from typing import Any

import msgpack

from grader.boundary import ISOLATION_WEAK, affinity, codec, sandbox
from grader.boundary import cgroup as cgroups
from grader.boundary.boot import BOOTSTRAP, WorkerConfig, boot_frame, student_env
from grader.boundary.proxy import (
    Callback,
    Formula,
    Method,
    Proxy,
    Synced,
    checked_callback,
    compare,
    snapshot,
    sync_in_place,
)
from grader.boundary.stuck import MAX_STACK, read_stack
from grader.util.errors import (
    ChannelViolation,
    NotAttempted,
    NotRunAfterTimeout,
    ResourceExceeded,
    StudentCodeError,
    WorkerCrashed,
    WorkerFault,
    WorkerTimeout,
)

# An armed stack alarm goes off no earlier than this before the time its request asked for (the
# worker keeps one due up to 5 ms earlier; see worker.ALARM_SAME_S), so no drain is needed before.
STACK_ALARM_MARGIN_S = 0.05
# A jail's /tmp is checked this often while a request runs, and may hold this many names.
JAIL_TMP_CHECK_S = 0.05
READ_CHUNK = 1 << 16  # bytes a read of the worker's pipe asks for, at least (see _read_frame)
JAIL_TMP_ENTRIES = 10_000


class WorkerClient:
    """One student worker process and the requests sent to it."""

    SHARES_SANDBOX = False  # a bubblewrap sandbox of its own (a fork server's children share one)

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.proc: subprocess.Popen[bytes] | None = None
        self.generation = 0
        self.isolation: list[str] = []
        self.deadline: float | None = None  # absolute time.monotonic() limit for the current test
        self._ready = False
        self._rfd = -1
        self._wfd = -1
        self._stack_rfd = -1  # the worker's stack, written shortly before a deadline
        self._stack_quiet_until = float("-inf")  # before this time no stack can be waiting (_drain_stack)
        self.deadline_kind = "test"  # what set ``deadline``: "test" (its own limit) or "check" (the whole check's)
        self.not_run: list[list[tuple[str, int, str]]] = []  # stuck stacks whose functions must not run again
        self.stuck_modules: set[str] = set()  # modules (display paths) whose top-level code ran out of time
        self._cut, self._cut_seconds = "call", config.call_timeout  # which limit the current request has
        self._buf = bytearray()
        self._callbacks: dict[int, Callable[..., Any]] = {}
        self._output = tempfile.TemporaryFile()
        self._codec = codec.Codec(self._encode_object, self._decode_ext)
        self._workdir = tempfile.mkdtemp(prefix="grade-worker-")
        os.chmod(self._workdir, 0o755)
        self._cgroup: cgroups.WorkerCgroup | None = None
        self._jail: dict[str, str] | None = None  # {"root": jail folder, "tmp": the worker's /tmp in it}
        self._jail_problem: str | None = None
        self._pin = affinity.Pin()  # this thread's CPU while the worker lives (config.share_cpu)
        self._unverified = False  # started in bubblewrap before the probe said it works here

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start a worker without waiting for it (it imports numpy meanwhile)."""
        if self.proc is not None:
            return
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        stack_r, stack_w = self._stack_pipe()
        mode, self._unverified = sandbox.choose_without_waiting(self.config.sandbox)
        self._cgroup = self._make_cgroup()
        self._jail = self._make_jail(mode)
        cg_fd = self._cgroup.procs_fd if self._cgroup is not None else -1
        command = [
            sandbox.interpreter(), "-I", "-S", "-c", BOOTSTRAP, str(to_worker_r), str(from_worker_w), str(stack_w), str(cg_fd)
        ]
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
            pass_fds=(to_worker_r, from_worker_w, stack_w) + ((cg_fd,) if cg_fd >= 0 else ()),
            start_new_session=True,
            env=student_env(),
            cwd=self._workdir,
        )
        os.close(to_worker_r)
        os.close(from_worker_w)
        os.close(stack_w)
        self._attach(from_worker_r, to_worker_w, mode, stack_r)
        self._send_config(boot_frame(import_paths))
        self._send_config(self.worker_config(mode, steps))

    def _make_cgroup(self) -> cgroups.WorkerCgroup | None:
        """The worker's own cgroup with its memory cap, where one can be made (else the
        worker caps its address space)."""
        if not self.config.memory_mb or cgroups.parent() is None:
            return None
        try:
            return cgroups.WorkerCgroup.create(self.config.memory_mb)
        except OSError:
            return None

    def _make_jail(self, mode: str) -> dict[str, str] | None:
        """Where neither bubblewrap nor namespaces can be had but chroot can: the jail for
        this chapter's runtime, and an empty /tmp folder of this worker's own in it."""
        if mode == "bwrap" or sandbox.strength(self.config.sandbox) != "jail":
            return None
        from grader.boundary import jail

        try:
            root = jail.ensure(tuple(self.config.needs))
            return {"root": root, "tmp": jail.make_tmp(root)}
        except OSError as exc:  # e.g. no room for it: weak, and the report says why
            self._jail_problem = f"the jail could not be built ({exc})"[:300]
            return None

    def _jail_tmp_full(self) -> bool:
        """The worker's /tmp in the jail holds more than a bubblewrap /tmp could (``jail.tmp_full``)."""
        from grader.boundary import jail

        assert self._jail is not None
        return jail.tmp_full(self._jail["root"], self._jail["tmp"], sandbox.TMP_BYTES, JAIL_TMP_ENTRIES)

    def _drop_jail(self) -> None:
        made, self._jail = self._jail, None
        if made is not None:
            from grader.boundary import jail

            jail.remove_tmp(made["root"], made["tmp"])

    def _drop_cgroup(self) -> None:
        group, self._cgroup = self._cgroup, None
        if group is not None:
            group.close()

    def _stack_pipe(self) -> tuple[int, int]:
        """The pipe a worker writes its stack into near a deadline; its reading end is ours,
        non-blocking, and read only after the worker is gone (bounded: ``MAX_STACK``)."""
        stack_r, stack_w = os.pipe()
        os.set_blocking(stack_r, False)
        return stack_r, stack_w

    def _attach(self, rfd: int, wfd: int, mode: str, stack_rfd: int = -1) -> None:
        """Take the pipes of a freshly started worker (writes never block: see _write)."""
        os.set_blocking(wfd, False)
        self._rfd, self._wfd = rfd, wfd
        self._stack_rfd = stack_rfd
        self._stack_quiet_until = float("-inf")
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
            "root_plan": None if mode == "bwrap" or self._jail else [list(s) for s in steps],
            "jail": self._jail,
            "newroot": self._workdir,
            "seccomp": self.config.seccomp,
            # a forked child shares its fork server's sandbox: it makes an IPC namespace of its own
            "private_ipc": mode == "bwrap" and self.SHARES_SANDBOX,
            "not_run": [[list(frame) for frame in stack] for stack in self.not_run],
        }

    def _ensure_ready(self) -> None:
        if self.proc is None:
            self.start()
        if self._ready:
            return
        started = time.monotonic()
        try:
            frame = self._read_frame(started + self.config.startup_timeout, during="starting")
        except WorkerCrashed:
            if not self._unverified or sandbox.bwrap_works():
                raise
            # bubblewrap could not make its sandbox here (so no code of the student's ran):
            # started again as the probe's answer says (auto: without bubblewrap)
            self.start()
            self._ensure_ready()
            return
        message = self._decode(frame)
        if not (isinstance(message, list) and message and message[0] == "ready"):
            self.kill()
            raise ChannelViolation("the worker did not start properly")
        isolation = [str(x) for x in message[1]] if len(message) > 1 and isinstance(message[1], list) else []
        if self._sandbox_mode == "bwrap":
            isolation.insert(0, "bubblewrap sandbox: allow-listed runtime files only, no network, uid nobody")
        elif not any(item.startswith(("allow-list root", "jail root")) for item in isolation):
            isolation.insert(0, ISOLATION_WEAK)
            missing = sandbox.jail_missing()
            if missing and not sandbox.namespaces_work():
                isolation.insert(1, f"no chroot jail: missing {missing}")
            elif self._jail_problem:
                isolation.insert(1, f"no chroot jail: {self._jail_problem}")
        self.isolation = isolation
        self._ready = True
        if self.config.share_cpu:
            cpu = self._pin.narrow()
            if cpu is not None:
                self.request(["pin", cpu])

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
        self._drop_cgroup()
        self._drop_jail()
        self._close_fds()
        self._pin.release()
        self.proc = None
        self._ready = False
        self._callbacks.clear()

    def _close_fds(self) -> None:
        for fd in (self._rfd, self._wfd, self._stack_rfd):
            try:
                os.close(fd)
            except OSError:
                pass
        self._rfd = self._wfd = self._stack_rfd = -1

    def _stuck_at(self) -> list[tuple[str, int, str]]:
        """Where the worker's main thread was when it nearly ran out of time (``stuck.read_stack``)."""
        return read_stack(self._stack_rfd, {v[0] for v in self.config.sources.values()})

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

    def _handle_id(self, proxy: Proxy) -> int:
        """The worker's id for the object ``proxy`` stands for, if it is this worker's."""
        if object.__getattribute__(proxy, "_grader_gen") != self.generation:
            raise WorkerCrashed("an object from before the worker restarted was used again")
        return object.__getattribute__(proxy, "_grader_id")

    def _encode_object(self, obj: Any) -> msgpack.ExtType:
        if isinstance(obj, Method):  # an attribute of a handle, looked up by the worker
            hid = self._handle_id(object.__getattribute__(obj, "_grader_owner"))
            return msgpack.ExtType(codec.EXT_ATTR, self._codec.pack([hid, object.__getattribute__(obj, "_grader_name")]))
        if isinstance(obj, Proxy):
            return msgpack.ExtType(codec.EXT_HANDLE, self._codec.pack([self._handle_id(obj)]))
        if isinstance(obj, Callback) and obj.portable and isinstance(obj.fn, Formula):
            shape = obj.like_shape()
            payload = self._codec.pack([obj.fn.expr, dict(obj.fn.names), None if shape is None else list(shape)])
            return msgpack.ExtType(codec.EXT_FORMULA, payload)
        if callable(obj):
            cb_id = len(self._callbacks) + 1
            self._callbacks[cb_id] = checked_callback(obj)  # its arguments checked before it runs
            return msgpack.ExtType(codec.EXT_CALLBACK, self._codec.pack(cb_id))
        raise TypeError(f"cannot send a {type(obj).__name__} to the student's code")

    def _decode_ext(self, code: int, data: bytes) -> Any:
        if code == codec.EXT_HANDLE:
            try:
                items = msgpack.unpackb(data)
                hid, tname, is_callable = items[:3]
            except Exception as exc:
                raise codec.CodecError("malformed handle") from exc
            if type(hid) is not int or not isinstance(tname, str) or type(is_callable) is not bool or len(items) > 4:
                raise codec.CodecError("malformed handle")
            methods = items[3] if len(items) == 4 else None
            return Proxy(self, self.generation, hid, tname[:100], is_callable, codec.checked_methods(methods))
        raise codec.CodecError(f"unexpected extension type {code}")

    def _decode(self, frame: bytes) -> Any:
        try:
            if codec.needs_walk(frame):
                codec.check_message(frame)
                return self._codec.unpack(frame)
            value = self._codec.unpack(frame)
            codec.check_built(value)
            return value
        except codec.CodecError as exc:
            self.kill()
            raise ChannelViolation(f"your code sent data the grader does not accept ({exc})") from None

    # -- reading with a deadline ------------------------------------------------------

    def _read_frame(self, deadline: float, during: str) -> bytes:
        header = codec._HEADER.size
        while True:
            # What one read asks for: 64 KB, or the rest of a longer frame whose length is known.
            # Asking for more allocates that much first: above malloc's threshold (128 KB) each
            # read was an mmap, an mremap and a munmap, ~30 µs of system time per round trip.
            want = READ_CHUNK
            if len(self._buf) >= header:
                (length,) = codec._HEADER.unpack(self._buf[:header])
                if length > codec.MAX_FRAME:
                    self.kill()
                    raise ChannelViolation("your code sent a message larger than the grader accepts")
                if len(self._buf) >= header + length:
                    frame = bytes(self._buf[header : header + length])
                    del self._buf[: header + length]
                    return frame
                want = max(want, header + length - len(self._buf))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._on_timeout(during)
            # In a jail the worker's /tmp is a folder on disk, not a capped tmpfs: watched.
            wait = min(remaining, JAIL_TMP_CHECK_S) if self._jail is not None else remaining
            ready, _, _ = select.select([self._rfd], [], [], wait)
            if self._jail is not None and self._jail_tmp_full():
                self.kill()
                raise ResourceExceeded("your code wrote more to /tmp than allowed")
            if not ready:
                continue
            chunk = os.read(self._rfd, want)
            if not chunk:
                self._on_exit(during)
            self._buf += chunk

    def _write(self, data: bytes, deadline: float) -> str | None:
        """Send one frame; the pipe is non-blocking, so a worker that stops reading
        costs at most the time left to the deadline, never a hang. None when sent,
        else "timeout" or "closed"."""
        view = memoryview(codec._HEADER.pack(len(data)) + data)
        full = False  # waited for room only after a write found the pipe full (most frames fit at once)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            if full:
                _, ready, _ = select.select([], [self._wfd], [], remaining)
                if not ready:
                    continue
            try:
                written = os.write(self._wfd, view)
            except BlockingIOError:
                full = True
                continue
            except OSError:
                return "closed"
            full = False
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
        stack_rfd, self._stack_rfd = self._stack_rfd, -1  # kept open past kill(): read below
        self.kill()
        self._stack_rfd = stack_rfd
        if during == "starting":
            self._close_fds()
            raise WorkerCrashed("the grader's worker process did not start in time")
        try:
            frames = self._stuck_at() if stack_rfd >= 0 else []
        finally:
            self._close_fds()
        raise WorkerTimeout(
            "your code did not finish in time (it may loop forever or wait on input)",
            frames=frames, cut=self._cut, seconds=self._cut_seconds,
        )

    def _on_exit(self, during: str) -> None:
        proc = self.proc
        lingering = False
        try:
            code = proc.wait(timeout=1.0) if proc is not None else None
        except subprocess.TimeoutExpired:
            code, lingering = None, True  # it closed the channel but runs on: killed below
        tail = self.output_tail(400).strip()
        # its cgroup's OOM killer (seen through bubblewrap as exit code 137, not a signal)
        oom = self._cgroup is not None and self._cgroup.oom_killed()
        self.kill()
        if oom:
            raise ResourceExceeded("your code used more CPU time or memory than allowed and was stopped")
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
        self._cut, self._cut_seconds = "call", self.config.call_timeout
        if self.deadline is not None and self.deadline < deadline:
            deadline = self.deadline
            self._cut, self._cut_seconds = self.deadline_kind, None
        return deadline

    def _drain_stack(self) -> None:
        """A stack the worker wrote for a request that then finished in time is not this one's.
        Bounded: a worker thread writing there without pause cannot hold the grader here.

        Skipped while no alarm armed since the last drain can have gone off: the worker arms it
        ``seconds`` after it reads a request (or keeps one due up to ``ALARM_SAME_S`` earlier),
        never before our send time plus ``seconds`` less that; the margin covers clock reads."""
        if time.monotonic() < self._stack_quiet_until:
            return
        self._stack_quiet_until = float("inf")
        for _ in range(4):
            try:
                if self._stack_rfd < 0 or not os.read(self._stack_rfd, MAX_STACK):
                    return
            except (BlockingIOError, OSError):
                return

    def request(self, message: list[Any]) -> list[Any]:
        self._ensure_ready()
        deadline = self._timeout_deadline()
        self._drain_stack()
        # The worker writes its stack this long before the deadline (killed right after).
        remaining = deadline - time.monotonic()
        seconds = round(max(0.01, remaining - min(0.5, remaining / 10)), 3)
        self._stack_quiet_until = min(self._stack_quiet_until, time.monotonic() + seconds - STACK_ALARM_MARGIN_S)
        message = ["timed", seconds, message]
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
        if type_name == "NotRun":  # the plugin checks the name against the functions it stopped
            return NotRunAfterTimeout(message[:100])
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
            self._send(self._codec.pack(["cberr", codec.callback_failure(problem)]), deadline)
            return
        try:
            value = fn(*args, **kwargs)
            answer: list[Any] = ["cbret", value]
        except Exception as exc:  # noqa: BLE001 - reported to the student as a failed call
            answer = ["cberr", codec.callback_failure(f"{type(exc).__name__}: {exc}")]
        self._send(self._codec.pack(answer), deadline)

    def call(self, target: Proxy, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Call a function in the worker. Arguments travel as copies; only those wrapped
        in ``Synced`` get the student's in-place changes copied back."""
        plain_args = [a.value if isinstance(a, Synced) else a for a in args]
        plain_kwargs = {k: (v.value if isinstance(v, Synced) else v) for k, v in kwargs.items()}
        sync_pos = [i for i, a in enumerate(args) if isinstance(a, Synced)]
        sync_keys = [k for k, v in kwargs.items() if isinstance(v, Synced)]
        sent = {**{i: snapshot(plain_args[i]) for i in sync_pos}, **{k: snapshot(plain_kwargs[k]) for k in sync_keys}}
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
                wrapper.changed, wrapper.reshaped = compare(sent[where], new)
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
