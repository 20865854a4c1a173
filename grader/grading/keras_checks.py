"""Trusted-side checks for Keras models built by student code (chapter 8).

A model never crosses the boundary as an object. The worker writes it to a ``.keras``
archive (``StudentCode.save_model``) and sends the bytes; here we

1. check the archive: a zip with only ``config.json``, ``metadata.json`` and
   ``model.weights.h5``, of bounded size;
2. read ``config.json`` (plain JSON) and walk every serialized object in it: each
   ``class_name`` must be a built-in Keras class from the list below and each function
   reference a built-in activation/loss/metric name. A Lambda layer, a layer class of the
   student's, or a config naming another module is refused with a message, before Keras
   sees it (Keras' own ``safe_mode`` has been bypassed before: CVE-2024-3660,
   CVE-2025-1550, CVE-2025-9906); layer sizes are bounded so a crafted config cannot make
   the grader allocate gigabytes;
3. only then have a helper process (``grader.grading.keras_helper``: address space and CPU capped,
   every request under a deadline, killed when it misses one) load it with
   ``keras.saving.load_model(..., safe_mode=True)`` and send back plain data: a ``ModelView``.

Architecture checks read the view (layer classes, ``units``, activations, ``rate``, shapes,
``count_params()``, ``get_compile_config()``); predictions are asked of the helper.

TensorFlow never runs in pytest's process: one helper serves one target (a batch starts the
next target's helper ahead, while the current one is graded) and never forks.
"""

from __future__ import annotations

import atexit
import base64
import io
import itertools
import json
import math
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from grader.boundary.proxy import Proxy, type_name
from grader.grading.checks import Feedback, assert_close, call_text
from grader.util.i18n import tr

DATA_DIR = Path(__file__).resolve().parents[1] / "data"

MAX_ARCHIVE_BYTES = 32 * 1024 * 1024
MAX_CONFIG_BYTES = 1024 * 1024
MAX_UNITS = 4096  # widest layer accepted (units, input dimensions)
MAX_PARAMS = 2_000_000  # a generous bound for the chapter's small models
MAX_LAYERS = 100
ARCHIVE_MEMBERS = frozenset({"config.json", "metadata.json", "model.weights.h5"})

MODELS = {("keras", "Sequential"), ("keras", "Functional"), ("keras.src.models.functional", "Functional")}

ALLOWED: dict[str, frozenset[str]] = {
    "keras": frozenset({"Sequential", "Functional", "DTypePolicy"}),
    "keras.src.models.functional": frozenset({"Functional"}),
    "keras.layers": frozenset(
        {
            "InputLayer", "Dense", "Dropout", "BatchNormalization", "Activation", "Normalization",
            "LayerNormalization", "UnitNormalization", "Rescaling", "Flatten", "ReLU", "LeakyReLU",
            "ELU", "PReLU", "Softmax", "GaussianNoise", "GaussianDropout", "AlphaDropout",
        }
    ),
    "keras.initializers": frozenset(
        {
            "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
            "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform",
            "TruncatedNormal", "VarianceScaling", "Zeros",
        }
    ),
    "keras.regularizers": frozenset({"L1", "L2", "L1L2", "OrthogonalRegularizer"}),
    "keras.constraints": frozenset({"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"}),
    "keras.optimizers": frozenset(
        {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Ftrl", "Lion"}
    ),
    "keras.optimizers.schedules": frozenset(
        {
            "ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay", "InverseTimeDecay",
            "CosineDecay", "CosineDecayRestarts",
        }
    ),
    "keras.losses": frozenset(
        {
            "MeanAbsoluteError", "MeanSquaredError", "MeanSquaredLogarithmicError", "Huber", "LogCosh",
            "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy",
            "SparseCategoricalCrossentropy", "Hinge",
        }
    ),
    "keras.metrics": frozenset(
        {
            "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy", "AUC",
            "Precision", "Recall", "MeanAbsoluteError", "MeanSquaredError", "RootMeanSquaredError",
            "BinaryCrossentropy", "MeanAbsolutePercentageError",
        }
    ),
}

# Built-in functions a config may name (activations, losses, metrics by function).
FUNCTIONS = frozenset(
    {
        "relu", "sigmoid", "tanh", "softmax", "linear", "elu", "selu", "leaky_relu", "gelu", "swish",
        "silu", "softplus", "softsign", "exponential", "relu6", "hard_sigmoid", "mish",
        "mean_absolute_error", "mean_squared_error", "mean_squared_logarithmic_error", "huber",
        "log_cosh", "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
        "sparse_categorical_crossentropy", "hinge", "binary_accuracy", "categorical_accuracy",
        "sparse_categorical_accuracy", "accuracy", "mae", "mse",
    }
)
NUMERIC_DTYPES = frozenset({"float16", "float32", "float64", "int32", "int64", "bool", "uint8"})
ALIASES = {"mae": "mean_absolute_error", "mse": "mean_squared_error", "acc": "accuracy", "bce": "binary_crossentropy"}

# --- the archive ------------------------------------------------------------------------


def fetch_model(student: Any, value: Any, call: str) -> Any:
    """What a student's function returned, as a Keras model loaded on the trusted side."""
    if value is None:
        raise Feedback(tr("fb.returned_none", call=call))  # the message of every chapter
    if not isinstance(value, Proxy):
        raise Feedback(tr("k8.returned_type", call=call, type=type_name(value)))
    kind = type_name(value)
    if kind not in ("Sequential", "Functional"):
        raise Feedback(tr("k8.returned_model_class", call=call, type=kind))
    warm_helper()  # the helper imports Keras while the worker writes the archive
    return load_archive(student.save_model(value), call)


def read_config(data: bytes, call: str) -> dict[str, Any]:
    """The checked config.json of a .keras archive (raises Feedback when it is refused)."""
    if not isinstance(data, bytes) or len(data) > MAX_ARCHIVE_BYTES:
        raise Feedback(tr("k8.archive.too_large_mb", call=call, mb=MAX_ARCHIVE_BYTES >> 20))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise Feedback(tr("k8.archive.not_saved", call=call)) from None
    names = {i.filename for i in infos}
    if not names <= ARCHIVE_MEMBERS or "config.json" not in names or len(infos) != len(names):
        raise Feedback(tr("k8.archive.unexpected", call=call))
    if sum(i.file_size for i in infos) > MAX_ARCHIVE_BYTES:
        raise Feedback(tr("k8.archive.too_large", call=call))
    info = archive.getinfo("config.json")
    if info.file_size > MAX_CONFIG_BYTES:
        raise Feedback(tr("k8.archive.config_oversized", call=call))
    try:
        config = json.loads(archive.read(info))
    except (ValueError, RecursionError, zipfile.BadZipFile):
        raise Feedback(tr("k8.archive.not_json", call=call)) from None
    if not isinstance(config, dict) or (config.get("module"), config.get("class_name")) not in MODELS:
        raise Feedback(tr("k8.not_a_model", call=call))
    try:
        _walk(config, call, root=True)
    except RecursionError:
        raise Feedback(tr("k8.archive.too_deep", call=call)) from None
    _check_size(config, call)
    return config


def check_weights(data: bytes, call: str) -> None:
    """The weights file (HDF5) before Keras reads it: only plain numeric datasets stored
    in the file, each within the size bound. HDF5 can declare a huge dataset that
    compresses to nothing, link to other files, or keep its data in external raw files;
    any of those would make the grader allocate or read what the student chose."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        raw = archive.read("model.weights.h5") if "model.weights.h5" in archive.namelist() else None
    except (zipfile.BadZipFile, ValueError, OSError):
        raise Feedback(tr("k8.archive.not_saved", call=call)) from None
    if raw is None:
        return
    import h5py

    total = 0
    problems: list[str] = []

    def visit(group: Any) -> None:
        nonlocal total
        for name in group:
            link = group.get(name, getlink=True)
            if not isinstance(link, h5py.HardLink):
                problems.append(tr("k8.weights.link"))
                continue
            obj = group[name]
            if isinstance(obj, h5py.Group):
                visit(obj)
                continue
            if not isinstance(obj, h5py.Dataset):
                problems.append(tr("k8.weights.object"))
                continue
            if obj.is_virtual or obj.external:
                problems.append(tr("k8.weights.outside"))
                continue
            if obj.dtype.kind not in "fiub":
                problems.append(tr("k8.weights.dtype", dtype=obj.dtype))
                continue
            size = 1
            for n in obj.shape or ():
                size *= int(n)
            total += size
            if size > MAX_PARAMS or total > 2 * MAX_PARAMS:
                problems.append(tr("k8.weights.too_many"))

    try:
        with h5py.File(io.BytesIO(raw), "r") as weights:
            visit(weights)
    except (OSError, ValueError, RecursionError):
        raise Feedback(tr("k8.weights.unreadable", call=call)) from None
    if problems:
        raise Feedback(tr("k8.weights.refused", call=call, problem=problems[0]))


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

        from grader.boundary.channel import STUDENT_ENV

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

        from grader.boundary.channel import STUDENT_ENV

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
        self.input_shape = _shape_tuple(summary.get("input_shape"))
        self.output_shape = _shape_tuple(summary.get("output_shape"))
        params = summary.get("params")
        self._params = params if type(params) is int else -1
        config = summary.get("compile_config")
        self._compile_config = config if isinstance(config, dict) else {}
        self._helper = _HELPERS.get("current")  # the process that holds the model

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


def _shape_tuple(value: Any) -> tuple[Any, ...] | None:
    if not isinstance(value, list) or len(value) > 8:
        return None
    return tuple(v if v is None or type(v) is int else None for v in value)


def _walk(node: Any, call: str, root: bool = False) -> None:
    if isinstance(node, dict):
        if "class_name" in node:
            if not root and node.get("class_name") in ("Sequential", "Functional"):
                raise Feedback(tr("k8.nested_model", call=call))
            _check_object(node, call)
        for value in node.values():
            _walk(value, call)
    elif isinstance(node, list):
        for value in node:
            _walk(value, call)


def _check_object(node: dict[str, Any], call: str) -> None:
    cls, module, registered = node.get("class_name"), node.get("module"), node.get("registered_name")
    if not isinstance(cls, str):
        raise Feedback(tr("k8.archive.malformed", call=call))
    if cls in ("Lambda", "__lambda__") or "lambda" in cls.lower():
        name = (node.get("config") or {}).get("name") if isinstance(node.get("config"), dict) else None
        raise Feedback(tr("k8.lambda", name=f" ('{name}')" if isinstance(name, str) else ""))
    if cls == "function":
        fn = node.get("config")
        if module == "builtins" and isinstance(fn, str) and fn in FUNCTIONS and registered in (None, "function"):
            return
        shown = fn if isinstance(fn, str) else "?"
        raise Feedback(tr("k8.function", name=shown[:60]))
    if cls == "__keras_tensor__" and module is None:
        return
    if cls in ("__numpy__", "__tensor__") and module is None:
        cfg = node.get("config")
        if isinstance(cfg, dict) and cfg.get("dtype") in NUMERIC_DTYPES:
            return
    allowed = ALLOWED.get(module) if isinstance(module, str) else None
    if allowed is None or cls not in allowed or registered not in (None, cls):
        raise Feedback(tr("k8.class_refused", name=cls[:60]))


MAX_VALUES = 1_000_000  # values one example may have at any layer (after a Flatten, say)
NORMALIZING = frozenset({"BatchNormalization", "LayerNormalization", "Normalization"})


def _check_size(config: dict[str, Any], call: str) -> None:
    """Refuse configs that would make the grader allocate huge weights while loading: a
    conservative parameter count that follows each example's shape from layer to layer. The
    input's shape is the widest any part of the config declares (the model's own
    ``build_config``, an InputLayer's ``batch_shape``, a layer's ``build_config``); a Flatten
    multiplies the dimensions, a Reshape takes its target shape, a Dense replaces the last."""
    layers = _layers(config)
    if len(layers) > MAX_LAYERS:
        raise Feedback(tr("k8.size.layers", call=call, n=len(layers), max=MAX_LAYERS))
    model_build = config.get("build_config") if isinstance(config.get("build_config"), dict) else {}
    shape = _widest([], _dims((model_build or {}).get("input_shape"))[1:], call)
    params = 0
    for layer in layers:
        cfg: dict[str, Any] = layer["config"] if isinstance(layer.get("config"), dict) else {}
        build: dict[str, Any] = layer["build_config"] if isinstance(layer.get("build_config"), dict) else {}
        units = cfg.get("units")
        if units is not None and not (type(units) is int and 0 < units <= MAX_UNITS):
            raise Feedback(tr("k8.size.units", call=call, units=repr(units), max=MAX_UNITS))
        shape = _widest(shape, _dims(cfg.get("batch_shape"))[1:], call)
        shape = _widest(shape, _dims(build.get("input_shape"))[1:], call)
        kind = layer.get("class_name")
        width = shape[-1] if shape else 1
        if kind == "Flatten":
            shape = [math.prod(shape)]
        elif kind == "Reshape":
            target = _dims(cfg.get("target_shape"))
            shape = target if target else shape
        elif units:
            params += (width + 1) * units
            shape = [*shape[:-1], units] if shape else [units]
        elif kind in NORMALIZING:
            params += 4 * width
        if math.prod(shape) > MAX_VALUES:
            raise Feedback(tr("k8.size.params", call=call, params=f"{math.prod(shape):,}"))
        if params > MAX_PARAMS:
            raise Feedback(tr("k8.size.params", call=call, params=f"{params:,}"))


def _widest(shape: list[int], declared: list[int], call: str) -> list[int]:
    """The wider of two declared shapes of one example (each dimension at most ``MAX_UNITS``;
    a Flatten may make a wider one, bounded by ``MAX_VALUES``)."""
    if any(d > MAX_UNITS for d in declared):
        raise Feedback(tr("k8.size.input", call=call, max=MAX_UNITS))
    if not declared:
        return shape
    if not shape or math.prod(declared) > math.prod(shape):
        return list(declared)
    return shape


def _layers(config: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for layer in (config.get("config") or {}).get("layers") or []:
        if isinstance(layer, dict):
            found.append(layer)
    return found


def _dims(shape: Any) -> list[int]:
    """A declared shape's dimensions (None, for the batch or unknown, counts as 1)."""
    if not isinstance(shape, list):
        return []
    return [d if type(d) is int and d > 0 else 1 for d in shape if d is None or type(d) is int]


# --- describing a loaded model with Keras' public API ---------------------------------


def activation_name(layer: Any) -> str:
    if isinstance(layer, LayerView):
        return layer.activation_name or "none"
    import keras

    fn = getattr(layer, "activation", None)
    if fn is None:
        return "none"
    name = keras.activations.serialize(fn)
    return name if isinstance(name, str) else str(getattr(fn, "__name__", "?"))


def describe_layer(layer: Any) -> str:
    kind = type(layer).__name__
    if kind == "Dense":
        return f"Dense({layer.units}, {activation_name(layer)})"
    if kind == "Dropout":
        return f"Dropout({layer.rate:g})"
    if kind == "Activation":
        return f"Activation({activation_name(layer)})"
    return kind


def body(model: Any) -> list[Any]:
    """The model's layers without the InputLayer a functional model lists first."""
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def describe(model: Any) -> str:
    return " → ".join(describe_layer(layer) for layer in body(model))


def canonical(name: Any) -> str:
    """'mae', 'mean_absolute_error', MeanAbsoluteError(), a builtin function: one spelling."""
    if isinstance(name, dict):
        if name.get("class_name") == "function":
            name = name.get("config")
        else:
            name = name.get("class_name")
            if isinstance(name, str):
                name = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    if not isinstance(name, str):
        return repr(name)
    name = name.lower()
    return ALIASES.get(name, name)


def compile_summary(model: Any) -> dict[str, Any]:
    """Optimizer class and learning rate, loss and metrics, from ``get_compile_config()``."""
    cfg = model.get_compile_config() or {}
    opt = cfg.get("optimizer")
    opt_name, lr = None, None
    if isinstance(opt, dict):
        opt_name = opt.get("class_name")
        rate = (opt.get("config") or {}).get("learning_rate")
        lr = float(rate) if isinstance(rate, (int, float)) else None
    elif isinstance(opt, str):
        opt_name = opt
    metrics = cfg.get("metrics") or []
    if not isinstance(metrics, list):
        metrics = [metrics]
    return {
        "optimizer": opt_name,
        "learning_rate": lr,
        "loss": canonical(cfg.get("loss")) if cfg.get("loss") is not None else None,
        "metrics": [canonical(m) for m in metrics],
        "compiled": bool(cfg),
    }


def predict(model: Any, X: np.ndarray) -> np.ndarray:
    """The model's output for X (inference mode: no dropout), from the helper process that
    opened it (a Keras model built here, as tests build one, is asked directly)."""
    if isinstance(model, ModelView):
        return model.predict(X)
    import keras

    out = model(keras.ops.convert_to_tensor(np.asarray(X, dtype="float32")), training=False)
    return np.asarray(out, dtype=np.float64)


# --- expectations shared by the public and hidden suites ---------------------------------

def expect_layers(model: Any, expected: list[str], call: str) -> None:
    """Layer classes in order, e.g. ["Dense", "Dropout", "BatchNormalization", ...]."""
    got = [type(layer).__name__ for layer in body(model)]
    if got != expected:
        raise Feedback(tr("k8.layers", call=call, got=describe(model) or tr("k8.no_layers"), want=" → ".join(expected)))


def expect_dense(model: Any, index: int, units: int, activation: str, call: str) -> None:
    layer = body(model)[index]
    if layer.units != units:
        raise Feedback(tr("k8.dense_units", call=call, n=index + 1, got=layer.units, units=units))
    act = activation_name(layer)
    if act != activation:
        raise Feedback(tr("k8.dense_activation", call=call, n=index + 1, units=units, got=act, want=activation))


def expect_shapes(model: Any, n_inputs: int, call: str) -> None:
    if tuple(model.input_shape) != (None, n_inputs):
        raise Feedback(tr("k8.input_shape", call=call, got=model.input_shape, n=n_inputs))
    if tuple(model.output_shape) != (None, 1):
        raise Feedback(tr("k8.output_shape", call=call, got=model.output_shape))


def expect_params(model: Any, count: int, call: str) -> None:
    got = model.count_params()
    if got != count:
        raise Feedback(tr("k8.params", call=call, got=got, count=count))


def worker_linear_unit(student: Any, n_inputs: int, **dense_kwargs: Any) -> Any:
    """A linear unit built by the suite in the worker (not by the student's code)."""
    K = student.library("keras")
    return K.Sequential([K.Input(shape=(n_inputs,)), K.layers.Dense(1, **dense_kwargs)])


def dense_params(sizes: list[int]) -> int:
    return sum((a + 1) * b for a, b in itertools.pairwise(sizes))


def check_compiled(student: Any, learning_rate: float, loss: str, metrics: list[str]) -> None:
    mod = student.load("keras_models")
    model = worker_linear_unit(student, 3)
    call = call_text("compile_model", model, learning_rate=learning_rate, loss=loss, metrics=metrics)
    compiled = fetch_model(student, mod.compile_model(model, learning_rate=learning_rate, loss=loss, metrics=metrics), call)
    info = compile_summary(compiled)
    if not info["compiled"]:
        raise Feedback(tr("k8.compile.not_compiled", call=call))
    if info["optimizer"] != "Adam":
        raise Feedback(tr("k8.compile.optimizer", call=call, got=info["optimizer"]))
    if info["learning_rate"] is None:
        raise Feedback(tr("k8.compile.no_learning_rate", call=call))
    assert_close(info["learning_rate"], learning_rate, call + tr("k8.ctx.learning_rate"), rtol=1e-5)
    if info["loss"] != canonical(loss):
        raise Feedback(tr("k8.compile.loss", call=call, got=info["loss"], want=loss))
    if info["metrics"] != [canonical(m) for m in metrics]:
        raise Feedback(tr("k8.compile.metrics", call=call, got=info["metrics"], want=metrics))


def gradient_descent(X: np.ndarray, y: np.ndarray, lr: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch gradient descent on the mean squared error, from zero weights."""
    w = np.zeros((X.shape[1], 1))
    b = np.zeros(1)
    for _ in range(steps):
        err = X @ w + b - y
        w -= lr * 2.0 / len(X) * X.T @ err
        b -= lr * 2.0 / len(X) * err.sum(axis=0)
    return w, b


def check_regularized(student: Any, units: list[int], n_inputs: int, rate: float) -> None:
    call = call_text("regularized_regression", units, [n_inputs], rate=rate)
    model = fetch_model(student, student.load("keras_models").regularized_regression(units, [n_inputs], rate=rate), call)
    expect_layers(model, ["Dense", "Dropout", "BatchNormalization"] * len(units) + ["Dense"], call)
    for k, n in enumerate(units):
        expect_dense(model, 3 * k, n, "relu", call)
        dropout = body(model)[3 * k + 1]
        if abs(dropout.rate - rate) > 1e-9:
            raise Feedback(tr("k8.dropout_rate", call=call, n=3 * k + 2, got=f"{dropout.rate:g}", want=f"{rate:g}"))
    expect_dense(model, 3 * len(units), 1, "linear", call)
    expect_shapes(model, n_inputs, call)
    sizes = [n_inputs, *units, 1]
    expect_params(model, dense_params(sizes) + 4 * sum(units), call)


def classifier_problem(model: Any) -> str | None:
    """What is off in a binary classifier's build, in words, or None: one sigmoid output unit,
    compiled with binary cross-entropy (what ``binary_classifier`` asks for)."""
    layers_ = body(model)
    last = layers_[-1] if layers_ else None
    kind = type(last).__name__
    units = getattr(last, "units", 1) if kind == "Dense" else 1
    if kind not in ("Dense", "Activation") or activation_name(last) != "sigmoid" or units != 1:
        return tr("k8.classifier.problem_output", model=describe(model) or tr("k8.empty"))
    info = compile_summary(model)
    if info["compiled"] and info["loss"] != "binary_crossentropy":
        return tr("k8.classifier.problem_loss", loss=info["loss"])
    return None


def check_classifier(student: Any, n_features: int) -> None:
    call = call_text("binary_classifier", n_features)
    model = fetch_model(student, student.load("keras_models").binary_classifier(n_features), call)
    expect_shapes(model, n_features, call)
    last = body(model)[-1] if body(model) else None
    kind = type(last).__name__
    if kind not in ("Dense", "Activation") or activation_name(last) != "sigmoid":
        raise Feedback(tr("k8.classifier.output", call=call, model=describe(model)))
    info = compile_summary(model)
    if not info["compiled"]:
        raise Feedback(tr("k8.classifier.not_compiled", call=call))
    if info["loss"] != "binary_crossentropy":
        raise Feedback(tr("k8.classifier.loss", call=call, loss=info["loss"]))
    if not {"accuracy", "binary_accuracy"} & set(info["metrics"]):
        raise Feedback(tr("k8.classifier.metrics", call=call, got=info["metrics"]))
    probs = predict(model, np.random.default_rng(n_features).normal(size=(16, n_features)))
    if probs.shape != (16, 1) or not np.all((probs >= 0) & (probs <= 1)):
        raise Feedback(tr("k8.classifier.not_probabilities", call=call))


# --- data ---------------------------------------------------------------------------------


def wdbc_splits(seed: int = 2026) -> dict[str, np.ndarray]:
    """Breast Cancer Wisconsin (Diagnostic): 341 training, 114 validation and 114 held-back
    rows (a fixed permutation), features standardized with the training rows' mean and std."""
    table = np.loadtxt(DATA_DIR / "wdbc.csv", delimiter=",", skiprows=1, dtype=np.float64)
    X, y = table[:, :-1], table[:, -1]
    order = np.random.default_rng(seed).permutation(len(X))
    train, valid, test = order[:341], order[341:455], order[455:]
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    X = (X - mean) / std
    return {
        "X_train": X[train], "y_train": y[train],
        "X_valid": X[valid], "y_valid": y[valid],
        "X_test": X[test], "y_test": y[test],
    }


def clean_curves(history: Any, call: str, max_len: int = 1000) -> dict[str, list[float]]:
    """A History.history dict from the student, checked: str keys, lists of finite numbers."""
    if history is None:
        raise Feedback(tr("k8.curves.none", call=call))
    if not isinstance(history, dict):
        raise Feedback(tr("k8.curves.type", call=call, type=type_name(history)))
    curves: dict[str, list[float]] = {}
    for key, values in history.items():
        if not isinstance(key, str) or not isinstance(values, (list, tuple, np.ndarray)):
            raise Feedback(tr("k8.curves.shape", call=call))
        row = []
        for v in list(values)[:max_len]:
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise Feedback(tr("k8.curves.not_number", call=call, key=key[:40], type=type_name(v)))
            row.append(float(v))
        curves[key[:60]] = row
    return curves


def finite(values: list[float]) -> bool:
    return all(math.isfinite(v) for v in values)
