"""The checks a Keras archive passes before Keras sees it (chapter 8): a zip with only
``config.json``, ``metadata.json`` and ``model.weights.h5``, of bounded size; every object
serialized in ``config.json`` a built-in Keras class from the allow-list below and every
function reference a built-in activation, loss or metric name (a Lambda layer, a student's
own layer class or a config naming another module is refused); layer sizes bounded so a
crafted config cannot make the grader allocate gigabytes; the weights file's datasets
plain numeric arrays of the declared shapes. Plain data only: nothing here imports Keras.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from typing import Any

from grader.grading.checks import Feedback
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


def shape_tuple(value: Any) -> tuple[Any, ...] | None:
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
