"""The trusted side's handle on the ``grader.grading.keras_helper`` process that opens
students' Keras archives (chapter 8): one helper per target, its address space and CPU
capped, every request under a deadline and the helper killed when it misses one; a batch
starts the next target's helper ahead from a fork server. ``load_archive`` checks an
archive (``keras_archive``) and has the helper load it with ``safe_mode=True``; what comes
back is a ``ModelView`` of plain data, with predictions asked of the helper.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import re
from typing import Any

import numpy as np

from grader.grading.checks import Feedback
from grader.grading.keras_archive import ALLOWED, MAX_LAYERS, MAX_UNITS, check_weights, read_config, shape_tuple
from grader.util.i18n import tr


def load_archive(data: bytes, call: str) -> ModelView:
    """Check the archive (config and weights), then have the helper process load it with
    ``safe_mode=True``: what comes back is a ``ModelView`` (plain data, predictions on request)."""
    read_config(data, call)
    check_weights(data, call)
    reply = _helper().request({"op": "load", "archive": base64.b64encode(data).decode()}, call, LOAD_SECONDS)
    if "error" in reply:
        error, detail = (list(reply["error"]) + ["", ""])[:2]
        raise Feedback(tr("k8.load_failed", call=call, error=str(error)[:100], detail=str(detail)[:300]))
    model = ModelView(reply.get("id"), reply.get("summary"), call)
    if not model.is_model:
        raise Feedback(tr("k8.not_keras_model", call=call))
    if not model.built:
        raise Feedback(tr("k8.no_input_shape", call=call))
    return model


def load_shared(target_state: dict[str, Any], key: str, archive: bytes, call: str) -> ModelView:
    """``load_archive`` for an archive several tests of one target judge (the trained classifier):
    opened once and kept in the target's state while the helper holding it lives (a helper that
    was stopped meanwhile gets the archive again, as a test of its own would)."""
    model = target_state.get(key)
    if not isinstance(model, ModelView) or not model.open():
        model = load_archive(archive, call)
        target_state[key] = model
    return model


# --- the helper process that opens archives ----------------------------------------------

LOAD_SECONDS = 30.0  # one archive opened and built
PREDICT_SECONDS = 30.0
START_SECONDS = 120.0  # the helper importing Keras (seconds on a busy machine)
MAX_REPLY = 32 * 1024 * 1024


class HelperStopped(Feedback):
    """The helper ran out of time or memory (or died) opening a model: reported as the model's problem."""


class _Helper:
    """One ``grader.grading.keras_helper`` process: it serves one target only (a student's archives
    never share a process with another student's), and is killed when it misses a deadline."""

    def __init__(self, owner: str) -> None:
        import subprocess
        import sys

        from grader.boundary.boot import STUDENT_ENV

        self.owner = owner
        self.ready = False
        self.buffer = b""
        server = _SERVER.get("server")
        if server is not None:
            forked = server.spawn()
            if forked is not None:
                self.proc: Any = forked
                return
            _SERVER.pop("server", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader.grading.keras_helper"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_helper_env(STUDENT_ENV),
            start_new_session=True,
        )

    def close(self) -> None:
        import signal

        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()  # type: ignore[union-attr]
            except OSError:
                pass

    def request(self, message: dict[str, Any], call: str, seconds: float) -> dict[str, Any]:
        import struct
        import time

        if not self.ready:
            started = self._read(time.monotonic() + START_SECONDS, call)
            if started.get("ready") is not True:
                self._stopped(call)
            self.ready = True
        data = json.dumps(message).encode("utf-8")
        try:
            self.proc.stdin.write(struct.pack(">I", len(data)) + data)  # type: ignore[union-attr]
            self.proc.stdin.flush()  # type: ignore[union-attr]
        except OSError:
            self._stopped(call)
        return self._read(time.monotonic() + seconds, call)

    def _read(self, deadline: float, call: str) -> dict[str, Any]:
        import select
        import struct
        import time

        fd = self.proc.stdout.fileno()  # type: ignore[union-attr]
        while True:
            if len(self.buffer) >= 4:
                (length,) = struct.unpack(">I", self.buffer[:4])
                if length > MAX_REPLY:
                    self._stopped(call)
                if len(self.buffer) >= 4 + length:
                    frame, self.buffer = self.buffer[4 : 4 + length], self.buffer[4 + length :]
                    try:
                        reply = json.loads(frame)
                    except (ValueError, RecursionError):
                        self._stopped(call)
                    if not isinstance(reply, dict):
                        self._stopped(call)
                    return reply
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._stopped(call)
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    self._stopped(call)
                self.buffer += chunk

    def _stopped(self, call: str) -> None:
        self.close()
        _HELPERS.pop("current", None)
        raise HelperStopped(tr("k8.helper.stopped", call=call))


_HELPERS: dict[str, _Helper] = {}  # "current" (the target being graded) and "spare" (started ahead)


def _helper_env(student_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER", "PYTEST"))}
    env.update({k: v for k, v in student_env.items() if k.startswith(("TF_", "OMP", "OPENBLAS", "MKL"))})
    return env


class _ForkedHelper:
    """Stands in for ``Popen`` for a helper forked by the helper fork server: its pipes, and its
    pid once the server has said it (the server answers after its own Keras import)."""

    def __init__(self, server: _HelperServer, stdin: Any, stdout: Any) -> None:
        self.server = server
        self.stdin = stdin
        self.stdout = stdout
        self._pid: int | None = None
        self.returncode: int | None = None

    @property
    def pid(self) -> int:
        if self._pid is None:
            self._pid = self.server.pid_of(self)
        return self._pid

    def poll(self) -> int | None:
        if self.returncode is None:
            pid = self.pid
            try:
                if pid <= 0:
                    raise ProcessLookupError
                os.kill(pid, 0)  # the server reaps its children: a gone pid has ended
            except ProcessLookupError:
                self.returncode = 0
            except PermissionError:
                pass
        return self.returncode

    def kill(self) -> None:
        import signal

        if self.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def wait(self) -> int:
        import time

        deadline = time.monotonic() + 5.0
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.returncode or 0


class _HelperServer:
    """``python -m grader.grading.keras_helper --fork-server``: imports Keras once per batch session and
    forks a fresh helper per target (each serving one target only, as a new process would)."""

    def __init__(self) -> None:
        import socket
        import subprocess
        import sys

        from grader.boundary.boot import STUDENT_ENV

        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader.grading.keras_helper", "--fork-server", str(theirs.fileno())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=_helper_env(STUDENT_ENV), start_new_session=True, pass_fds=(theirs.fileno(),),
        )
        theirs.close()
        self.waiting: list[_ForkedHelper] = []  # spawned, pid not read yet (replies come in order)

    def spawn(self) -> _ForkedHelper | None:
        """A new helper's pipes, handed to the server (which forks it when its import is done);
        None when the server is gone."""
        import socket

        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        try:
            socket.send_fds(self.sock, [b"s"], [to_child_r, from_child_w])
        except OSError:
            for fd in (to_child_r, to_child_w, from_child_r, from_child_w):
                os.close(fd)
            return None
        os.close(to_child_r)
        os.close(from_child_w)
        forked = _ForkedHelper(self, os.fdopen(to_child_w, "wb"), os.fdopen(from_child_r, "rb"))
        self.waiting.append(forked)
        return forked

    def pid_of(self, helper: _ForkedHelper) -> int:
        import struct

        self.sock.settimeout(START_SECONDS)
        while helper._pid is None:
            if not self.waiting:
                return -1
            first = self.waiting.pop(0)
            try:
                data = b""
                while len(data) < 4:
                    chunk = self.sock.recv(4 - len(data))
                    if not chunk:
                        raise OSError("helper fork server ended")
                    data += chunk
                first._pid = struct.unpack(">i", data)[0]
            except OSError:
                first._pid = -1
                for other in self.waiting:
                    other._pid = -1
                self.waiting.clear()
        return helper._pid

    def close(self) -> None:
        self.sock.close()  # the server ends on EOF; its helpers are killed by their owners
        try:
            self.proc.wait(timeout=5)
        except Exception:  # noqa: BLE001
            self.proc.kill()
            self.proc.wait()


_SERVER: dict[str, _HelperServer] = {}


def _close_at_exit() -> None:
    for helper in list(_HELPERS.values()):
        helper.close()
    server = _SERVER.pop("server", None)
    if server is not None:
        server.close()


atexit.register(_close_at_exit)


def _owner() -> str:
    """Which target the running test grades: in a batch session every test id carries its
    target's token (``__gt3__``); a one-target session has one owner."""
    found = re.search(r"__gt\d+__", os.environ.get("PYTEST_CURRENT_TEST", ""))
    return found.group(0) if found else ""


def _helper() -> _Helper:
    """The current target's helper: a new target gets a fresh process (the spare, started
    ahead and given nothing yet, when there is one)."""
    owner = _owner()
    current = _HELPERS.get("current")
    if current is not None and current.owner != owner:
        current.close()
        current = None
    if current is None:
        spare = _HELPERS.pop("spare", None)
        if spare is not None and spare.proc.poll() is None:
            spare.owner = owner  # a spare has seen nothing: it becomes this target's
            current = spare
        else:
            if spare is not None:
                spare.close()
            current = _Helper(owner)
        _HELPERS["current"] = current
        if owner:  # a batch: the next target's helper imports Keras meanwhile
            _HELPERS["spare"] = _Helper("")
    return current


def warm_helper(batch: bool = False) -> None:
    """Have a helper importing Keras now: at collection (a spare for the first target) or
    while the worker writes an archive (the current target's). ``batch``: helpers are forked
    from a helper fork server started now (one Keras import for the whole batch)."""
    if batch and "server" not in _SERVER:
        _SERVER["server"] = _HelperServer()
    if os.environ.get("PYTEST_CURRENT_TEST"):
        _helper()
    elif "spare" not in _HELPERS and "current" not in _HELPERS:
        _HELPERS["spare"] = _Helper("")


def close_helpers() -> None:
    for key in list(_HELPERS):
        _HELPERS.pop(key).close()
    server = _SERVER.pop("server", None)
    if server is not None:
        server.close()


class LayerView:
    """A layer of a model opened in the helper: its class (``type(layer).__name__``), ``units``,
    ``rate`` and activation's name, as plain values."""

    def __init__(self, data: dict[str, Any]) -> None:
        units, rate = data.get("units"), data.get("rate")
        self.units = units if type(units) is int else None
        self.rate = float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) else None
        act = data.get("activation")
        self.activation_name = act[:40] if isinstance(act, str) else None


_LAYER_CLASSES: dict[str, type] = {}


def _layer_class(name: Any) -> type:
    """A LayerView subclass named like the Keras class (only names the allow-list has)."""
    if not isinstance(name, str) or not (name in ALLOWED["keras.layers"] or name in ("InputLayer",)):
        name = "Layer"
    if name not in _LAYER_CLASSES:
        _LAYER_CLASSES[name] = type(name, (LayerView,), {})
    return _LAYER_CLASSES[name]


class ModelView:
    """A model opened in the helper process, as the checks use it: ``layers``, ``built``,
    ``input_shape``, ``output_shape``, ``count_params()``, ``get_compile_config()``; ``predict``
    asks the helper."""

    def __init__(self, handle: Any, summary: Any, call: str) -> None:
        if type(handle) is not int or not isinstance(summary, dict):
            raise HelperStopped(tr("k8.helper.stopped", call=call))
        self.handle = handle
        self.is_model = summary.get("is_model") is True
        self.built = summary.get("built") is True
        layers = summary.get("layers") if isinstance(summary.get("layers"), list) else []
        self.layers = [_layer_class(d.get("class"))(d) for d in layers[:MAX_LAYERS + 1] if isinstance(d, dict)]
        self.input_shape = shape_tuple(summary.get("input_shape"))
        self.output_shape = shape_tuple(summary.get("output_shape"))
        params = summary.get("params")
        self._params = params if type(params) is int else -1
        config = summary.get("compile_config")
        self._compile_config = config if isinstance(config, dict) else {}
        self._helper = _HELPERS.get("current")  # the process that holds the model

    def open(self) -> bool:
        """Is the helper that holds this model still the current target's, and running?"""
        return self._helper is not None and self._helper is _HELPERS.get("current") and self._helper.proc.poll() is None

    def count_params(self) -> int:
        return self._params

    def get_compile_config(self) -> dict[str, Any]:
        return self._compile_config

    def _ask(self, op: str, call: str, **arrays: np.ndarray) -> dict[str, Any]:
        """One request about this model to the helper that holds it (arrays sent as float32)."""
        from grader.grading.keras_helper import encode_array

        helper = _helper()
        if helper is not self._helper:  # stopped since, or another target's: the model is gone
            raise HelperStopped(tr("k8.helper.stopped", call=call))
        message: dict[str, Any] = {"op": op, "id": self.handle}
        for name, arr in arrays.items():
            message[name] = encode_array(np.ascontiguousarray(arr, dtype=np.float32))
        return helper.request(message, call, PREDICT_SECONDS)

    def predict(self, X: np.ndarray, call: str = "") -> np.ndarray:
        from grader.grading.keras_helper import decode_array

        reply = self._ask("predict", call, x=X)
        if "error" in reply:
            raise Feedback(tr("k8.load_failed", call=call, error=str(reply["error"][0])[:100], detail=str(reply["error"][1:2])[:300]))
        try:
            return decode_array(reply.get("y"), max_values=max(1, np.shape(X)[0]) * MAX_UNITS).astype(np.float64)
        except (ValueError, TypeError):
            raise HelperStopped(tr("k8.helper.stopped", call=call)) from None

    def compiled_loss(self, X: np.ndarray, y: np.ndarray, call: str = "") -> float | None:
        """The model's compiled loss on (X, y), computed in the helper as Keras computes
        ``val_loss`` during fit; None when the model has no usable compiled loss."""
        loss = self._ask("loss", call, x=X, y=y).get("loss")
        return float(loss) if type(loss) is float and np.isfinite(loss) else None
