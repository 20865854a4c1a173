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

import itertools
import math
import re
from types import MappingProxyType
from typing import Any

import numpy as np
import pytest

from grader.boundary.proxy import Proxy, type_name
from grader.grading.checks import Feedback, assert_close, call_text
from grader.grading.keras_archive import ALIASES, DATA_DIR
from grader.grading.keras_client import (
    LayerView,
    ModelView,
    load_archive,
    load_shared,  # noqa: F401 - for the suites
    warm_helper,
)
from grader.util.i18n import tr

# TensorFlow's graph optimizer (grappler) off in the worker, for every submission alike (one check
# or a batch): it rewrites every traced train or test step and every input pipeline's functions
# once per epoch, which costs more than training these small models on a few hundred rows.
TF_OPTIMIZER_OPTIONS = MappingProxyType({"disable_meta_optimizer": True})


@pytest.fixture(autouse=True)
def tensorflow_settings(student: Any, target_state: dict[str, Any]) -> None:
    """Before a submission's first test: the worker's TensorFlow settings (``TF_OPTIMIZER_OPTIONS``),
    set before its first operation (later ones would not reach functions TensorFlow has set up)."""
    if "tensorflow_settings" in target_state:
        return
    target_state["tensorflow_settings"] = True
    try:
        student.library("tensorflow").config.optimizer.set_experimental_options(dict(TF_OPTIMIZER_OPTIONS))
    except Exception:  # noqa: BLE001 - a worker that cannot even do this fails the test itself
        pass


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


def worker_sgd_unit(student: Any, n_inputs: int, learning_rate: float) -> Any:
    """A zero-initialized linear unit built and compiled by the suite in the worker (plain SGD on
    the mean squared error), for the checks that train it through the student's code.

    It trains eagerly (``run_eagerly=True``): a model this small gains nothing from a traced
    ``tf.function``, and tracing one (twice with validation data) costs more CPU than all of its
    epochs. Its numbers are the same either way (the same operations, one at a time: checked against
    the traced runs on the reference solution and the chapter's wrong cases). The student's own
    models (``train_classifier``) are compiled by the student's code and train as written."""
    K = student.library("keras")
    model = worker_linear_unit(student, n_inputs, kernel_initializer="zeros")
    model.compile(optimizer=K.optimizers.SGD(learning_rate=learning_rate), loss="mse", run_eagerly=True)
    return model


def drive_callback(student: Any, callback: Any, n_inputs: int, steps: list, X: np.ndarray, y: np.ndarray,
                   Xv: np.ndarray, yv: np.ndarray) -> tuple[list[float], list[np.ndarray]]:
    """A callback of the student's (an EarlyStopping) at work on a training run the grader knows:
    full-batch gradient descent on a linear unit, ``steps`` (the weights after each epoch, computed
    here). The callback gets the training and epoch hooks ``fit`` calls (an EarlyStopping acts on no
    others), in the same order, on a linear unit in the worker that holds each epoch's weights
    when that epoch ends, and the logs ``fit`` would
    write (``loss``: the mean squared error at the epoch's start, where a full-batch step measures
    it; ``val_loss``: on (Xv, yv) at its end). Returns the validation losses of the epochs that ran
    and the unit's weights at the end (what the callback restored, if it did).

    The same judgement as training the unit with ``fit`` and the callback, without TensorFlow
    tracing and running a train and a test step per epoch (~0.25 s of the worker's CPU a run)."""
    model = worker_linear_unit(student, n_inputs)
    model.stop_training = False
    callback.set_model(model)
    callback.on_train_begin({})
    previous = (np.zeros((X.shape[1], 1)), np.zeros(1))
    seen: list[float] = []
    for epoch, (w, b) in enumerate(steps):
        callback.on_epoch_begin(epoch, {})
        model.set_weights([w.astype(np.float32), b.astype(np.float32)])
        loss = float(np.mean((X @ previous[0] + previous[1] - y) ** 2))
        val_loss = float(np.mean((Xv @ w + b - yv) ** 2))
        seen.append(val_loss)
        callback.on_epoch_end(epoch, {"loss": loss, "val_loss": val_loss})
        previous = (w, b)
        if model.stop_training is True:
            break
    callback.on_train_end({})
    return seen, [np.asarray(v, dtype=np.float64) for v in model.get_weights()]


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
