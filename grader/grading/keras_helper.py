"""The process that opens students' Keras archives (``python -m grader.grading.keras_helper``).

A ``.keras`` archive is made by the student's code. Its config passed the allow-list and size
checks (``grader.grading.keras_archive.read_config``), but building it still runs Keras and TensorFlow
on what the student chose, so that happens here, never in pytest's process: after importing
Keras this process caps its own address space (``RLIMIT_AS``) and CPU time, and the trusted
side gives every request a deadline and kills the process when it is missed. A helper never
forks; in batch grading helpers are forked, one per target, from ``--fork-server``, a process
that has imported Keras and does nothing else (``fork_server``).

Requests and replies are frames (4-byte big-endian length, then UTF-8 JSON; arrays as dtype,
shape and base64 bytes): plain data only, never pickle. Requests:
``{"op": "load", "archive": b64}`` -> ``{"id": n, "summary": {...}}`` (layers, shapes, parameter
count, compile config) or ``{"error": [type, detail]}``; ``{"op": "predict", "id": n, "x": array}``
-> ``{"y": array}``; ``{"op": "loss", "id": n, "x": array, "y": array}`` -> ``{"loss": float}`` (the
compiled loss, as fit computes ``val_loss``); ``{"op": "drop", "id": n}``.
"""

from __future__ import annotations

import base64
import json
import os
import resource
import struct
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

HEADROOM_MB = 1536  # address space allowed beyond what Keras itself takes after start-up
CPU_S = 900  # CPU seconds for the whole life of one helper (one target's checks)
MAX_REQUEST = 64 * 1024 * 1024


def _read(fd: int, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _write(fd: int, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode("utf-8")
    view = memoryview(struct.pack(">I", len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def encode_array(arr: Any) -> dict[str, Any]:
    return {"dtype": arr.dtype.str, "shape": list(arr.shape), "b64": base64.b64encode(arr.tobytes()).decode()}


def decode_array(data: Any, max_values: int) -> Any:
    """An array from its plain form, every part checked (numeric dtypes only, size bounded)."""
    import numpy as np

    if not isinstance(data, dict) or not isinstance(data.get("shape"), list) or not isinstance(data.get("b64"), str):
        raise ValueError("malformed array")
    dtype = np.dtype(str(data.get("dtype"))[:8])
    shape = data["shape"]
    if dtype.kind not in "biuf" or len(shape) > 8 or not all(type(n) is int and 0 <= n <= max_values for n in shape):
        raise ValueError("malformed array")
    count = 1
    for n in shape:
        count *= n
    raw = base64.b64decode(data["b64"], validate=True)
    if count > max_values or count * dtype.itemsize != len(raw):
        raise ValueError("malformed array")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _plain(value: Any, depth: int = 0) -> Any:
    """A compile config as plain JSON (anything else as a short string)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if depth > 10:
        return None
    if isinstance(value, dict):
        return {str(k)[:100]: _plain(v, depth + 1) for k, v in list(value.items())[:100]}
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in list(value)[:100]]
    try:
        return float(value)  # numpy scalars, 0-d tensors
    except (TypeError, ValueError):
        return str(value)[:100]


def _activation(layer: Any) -> str | None:
    import keras

    fn = getattr(layer, "activation", None)
    if fn is None:
        return None
    name = keras.activations.serialize(fn)
    return name if isinstance(name, str) else str(getattr(fn, "__name__", "?"))


def _shape(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_shape(v) for v in value]
    return value if value is None or isinstance(value, int) else int(value)


def summary(model: Any) -> dict[str, Any]:
    import keras

    layers = []
    for layer in model.layers:
        entry: dict[str, Any] = {"class": type(layer).__name__, "activation": _activation(layer)}
        for attr in ("units", "rate"):
            value = getattr(layer, attr, None)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                entry[attr] = value
        layers.append(entry)
    built = bool(getattr(model, "built", False))
    return {
        "is_model": isinstance(model, keras.Model),
        "class": type(model).__name__,
        "built": built,
        "layers": layers,
        "input_shape": _shape(model.input_shape) if built else None,
        "output_shape": _shape(model.output_shape) if built else None,
        "params": int(model.count_params()) if built else 0,
        "compile_config": _plain(model.get_compile_config() or {}),
    }


def _limit() -> None:
    """Cap this process: its address space at what it uses now plus ``HEADROOM_MB``, its CPU."""
    vm_kb = 0
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                vm_kb = int(line.split()[1])
    size = vm_kb * 1024 + HEADROOM_MB * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size, size))
    used = int(resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(resource.RUSAGE_SELF).ru_stime)
    resource.setrlimit(resource.RLIMIT_CPU, (used + CPU_S, used + CPU_S + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main() -> None:
    out = os.dup(1)
    os.dup2(2, 1)  # whatever Keras prints goes where stderr goes, never into the replies
    import keras  # noqa: F401

    serve(0, out)


def serve(inp: int, out: int) -> None:
    """Serve one target's requests (read from ``inp``, replies to ``out``) until EOF."""
    import keras
    import numpy as np

    # one tiny model end to end: TensorFlow's thread pools and kernels exist before the cap
    warm = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    warm(np.zeros((1, 2), dtype="float32"), training=False)
    _limit()
    models: dict[int, Any] = {}
    _write(out, {"ready": True})
    while True:
        try:
            (length,) = struct.unpack(">I", _read(inp, 4))
            if length > MAX_REQUEST:
                return
            request = json.loads(_read(inp, length))
        except (EOFError, ValueError):
            return
        try:
            reply = handle(request, models)
        except MemoryError:
            reply = {"error": ["MemoryError", "the model needs more memory than the grader allows"]}
        except Exception as exc:  # noqa: BLE001 - reported as the model's problem
            reply = {"error": [type(exc).__name__, (str(exc).splitlines() or [""])[0][:300]]}
        _write(out, reply)


def handle(request: dict[str, Any], models: dict[int, Any]) -> dict[str, Any]:
    import keras
    import numpy as np

    op = request.get("op")
    if op == "load":
        data = base64.b64decode(request["archive"], validate=True)
        with tempfile.TemporaryDirectory(prefix="grade-model-") as folder:
            path = Path(folder) / "model.keras"
            path.write_bytes(data)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. "skipping optimizer variables"
                model = keras.saving.load_model(path, safe_mode=True, compile=True)
        handle_id = len(models) + 1
        models[handle_id] = model
        return {"id": handle_id, "summary": summary(model)}
    if op == "predict":
        model = models[int(request["id"])]
        x = decode_array(request["x"], max_values=10_000_000).astype("float32")
        out = model(keras.ops.convert_to_tensor(x), training=False)
        return {"y": encode_array(np.asarray(out, dtype=np.float64))}
    if op == "loss":  # the model's compiled loss on (x, y), as fit computes val_loss
        model = models[int(request["id"])]
        x = decode_array(request["x"], max_values=10_000_000).astype("float32")
        y = decode_array(request["y"], max_values=10_000_000).astype("float32")
        if len(y) != len(x):
            return {"error": ["ValueError", "x and y differ in length"]}
        # asked once per model: its test step run eagerly (the same value) costs a fraction of
        # tracing it as a tf.function (twice: a last, shorter batch traces again)
        model.run_eagerly = True
        loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
        return {"loss": float(loss)}
    if op == "drop":
        models.pop(int(request["id"]), None)
        return {"ok": True}
    return {"error": ["ValueError", "unknown request"]}


def fork_server(control: int) -> None:
    """``--fork-server FD`` (batch grading): import Keras once, then for every pair of pipe
    ends received on the unix socket ``control`` fork a child that serves one target on them
    (``serve``), and reply with its pid (4 bytes). This process never runs a Keras operation
    and never sees a request: each child makes TensorFlow's threads itself, after the fork,
    and is as fresh as a new helper (one target's archives only), without paying the ~3 s of
    CPU of the import. Children are reaped as they end; the process ends on EOF."""
    import ctypes
    import signal
    import socket

    ctl = socket.socket(fileno=control)
    os.dup2(2, 1)
    import keras  # noqa: F401
    import numpy  # noqa: F401

    if os.path.isdir("/proc/self/task") and len(os.listdir("/proc/self/task")) > 1:
        return  # importing started a thread: forking could copy a held lock (the trusted side starts helpers itself)
    try:
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: children cannot read our memory
    except (OSError, AttributeError):
        pass
    def _reap(_signum: int, _frame: Any) -> None:
        # waited for (not ignored): a child's CPU time is counted in ours, and a killed one
        # is gone at once (its owner checks that its pid no longer exists)
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    signal.signal(signal.SIGCHLD, _reap)
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(ctl, 1, 2)
        except OSError:
            return
        if not data:
            return
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            ctl.sendall(struct.pack(">i", -1))
            continue
        pid = os.fork()
        if pid == 0:
            try:
                ctl.close()
                os.setsid()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                serve(fds[0], fds[1])
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        ctl.sendall(struct.pack(">i", pid))


if __name__ == "__main__":
    sys.setrecursionlimit(10_000)
    if len(sys.argv) == 3 and sys.argv[1] == "--fork-server":
        fork_server(int(sys.argv[2]))
    else:
        main()
