"""The trusted side's gate for Keras models: what a .keras archive may contain before
Keras is allowed to load it. Pure JSON/zip checks: no TensorFlow needed."""

from __future__ import annotations

import copy
import io
import json
import zipfile

import pytest

from grader.grading.checks import Feedback
from grader.grading.keras_archive import read_config
from grader.grading.keras_checks import canonical, clean_curves

CALL = "linear_unit(3)"


def dense(units: int, activation: object = "linear", width: int = 3) -> dict:
    return {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {
            "name": f"dense_{units}",
            "units": units,
            "activation": activation,
            "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {}, "registered_name": None},
        },
        "registered_name": None,
        "build_config": {"input_shape": [None, width]},
    }


def sequential(*layers: dict, width: int = 3) -> dict:
    inp = {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, width]}, "registered_name": None}
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "sequential", "layers": [inp, *layers]},
        "registered_name": None,
        "compile_config": {
            "optimizer": {"module": "keras.optimizers", "class_name": "Adam", "config": {"learning_rate": 0.01}, "registered_name": None},
            "loss": "mse",
            "metrics": ["mae"],
        },
    }


def archive(config: dict | bytes, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        zf.writestr("config.json", config if isinstance(config, bytes) else json.dumps(config))
        zf.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def refused(config: dict | bytes, extra: dict[str, bytes] | None = None) -> str:
    with pytest.raises(Feedback) as info:
        read_config(archive(config, extra), CALL)
    return str(info.value)


def test_a_plain_sequential_model_is_accepted():
    config = read_config(archive(sequential(dense(4, "relu"), dense(1))), CALL)
    assert config["class_name"] == "Sequential"


def test_builtin_functions_by_name_are_accepted():
    fn = {"module": "builtins", "class_name": "function", "config": "mean_absolute_error", "registered_name": "function"}
    model = sequential(dense(1))
    model["compile_config"]["loss"] = fn
    read_config(archive(model), CALL)


def test_a_lambda_layer_is_refused_with_a_clear_message():
    lam = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {"name": "double", "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAA"}}},
        "registered_name": None,
    }
    text = refused(sequential(dense(1), lam))
    assert "Lambda layer ('double')" in text
    assert "not allowed" in text


def test_the_cve_2025_9906_payload_is_refused():
    # A Lambda whose "function" names keras.models.load_model with safe_mode=False.
    lam = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {
            "name": "unsafe",
            "function": {"module": "keras.models", "class_name": "function", "config": "load_model", "registered_name": "function"},
            "arguments": {"safe_mode": False},
        },
    }
    assert "Lambda" in refused(sequential(lam))


@pytest.mark.parametrize(
    "obj",
    [
        {"module": "os", "class_name": "system", "config": {"command": "id"}},  # CVE-2025-1550 style
        {"module": "builtins", "class_name": "function", "config": "exec", "registered_name": "function"},
        {"module": "keras.models", "class_name": "function", "config": "load_model", "registered_name": "function"},
        {"module": "keras.config", "class_name": "function", "config": "enable_unsafe_deserialization"},
        {"module": None, "class_name": "MyLayer", "config": {}, "registered_name": "MyLayer"},
        {"module": "keras.layers", "class_name": "Dense", "config": {"units": 1}, "registered_name": "Custom>Dense"},
        {"module": "keras.layers", "class_name": "TorchModuleWrapper", "config": {}},
        {"class_name": "__bytes__", "config": {"value": "AAAA"}},
    ],
    ids=["os-system", "builtins-exec", "load-model", "unsafe-switch", "custom-class", "registered-name", "other-layer", "dunder"],
)
def test_anything_outside_the_list_is_refused(obj):
    model = sequential(dense(1))
    model["config"]["layers"][1]["config"]["activation"] = obj
    text = refused(model)
    assert "Your model" in text or "not" in text


def test_custom_activation_functions_are_named_in_the_message():
    fn = {"module": "keras_models", "class_name": "function", "config": "my_sigmoid", "registered_name": "function"}
    text = refused(sequential(dense(1, fn)))
    assert "'my_sigmoid'" in text and "built-in" in text


def test_a_nested_model_is_refused():
    inner = sequential(dense(1))
    assert "contains another model" in refused(sequential(dense(3), inner))


def test_a_top_level_that_is_not_a_model_is_refused():
    assert "did not return a keras.Sequential" in refused(dense(1))


@pytest.mark.parametrize("units", [10**9, 0, -1, 2.5, "8"])
def test_layer_sizes_are_bounded_before_loading(units):
    assert "units" in refused(sequential(dense(units)))


def test_a_config_with_too_many_parameters_is_refused():
    wide = [dense(4096, "relu", width=4096) for _ in range(3)]
    assert "too large" in refused(sequential(*wide, width=4096))


def test_unexpected_archive_members_are_refused():
    assert "unexpected contents" in refused(sequential(dense(1)), {"evil.py": b"import os"})


def test_bytes_that_are_not_a_zip_are_refused():
    with pytest.raises(Feedback, match="could not be saved"):
        read_config(b"PK not really", CALL)


def test_invalid_json_is_refused():
    assert "not valid JSON" in refused(b"{not json")


def test_deeply_nested_json_is_refused():
    text = json.dumps(sequential(dense(1)))
    deep = '{"x": ' * 5000 + "{}" + "}" * 5000
    message = refused(text[:-1].encode() + b', "deep": ' + deep.encode() + b"}")
    assert "nested too deeply" in message or "not valid JSON" in message


def test_the_refusal_does_not_depend_on_where_the_object_hides():
    base = sequential(dense(1))
    for path in (["compile_config", "optimizer", "config"], ["config"], ["config", "layers", 1, "config", "kernel_initializer"]):
        model = copy.deepcopy(base)
        node = model
        for key in path:
            node = node[key]
        node["sneaky"] = {"module": "subprocess", "class_name": "Popen", "config": {}}
        assert "'Popen'" in refused(model)


def test_loss_and_metric_names_are_canonical():
    assert canonical("mae") == canonical("mean_absolute_error") == "mean_absolute_error"
    assert canonical({"module": "keras.losses", "class_name": "BinaryCrossentropy"}) == "binary_crossentropy"
    assert canonical({"module": "builtins", "class_name": "function", "config": "mse"}) == "mean_squared_error"


def test_learning_curves_must_be_a_dict_of_numbers():
    assert clean_curves({"loss": [1, 0.5], "val_loss": (0.9, 0.7)}, "f()") == {"loss": [1.0, 0.5], "val_loss": [0.9, 0.7]}
    with pytest.raises(Feedback, match="History.history"):
        clean_curves([0.5, 0.4], "f()")
    with pytest.raises(Feedback, match="expected numbers"):
        clean_curves({"loss": ["0.5"]}, "f()")
    with pytest.raises(Feedback, match="return statement|None"):
        clean_curves(None, "f()")


# --- the weights file (HDF5) ---------------------------------------------------------------


def h5_archive(build) -> bytes:
    """A .keras archive whose weights file is an HDF5 file made by build(file, h5py)."""
    h5py = pytest.importorskip("h5py")
    weights = io.BytesIO()
    with h5py.File(weights, "w") as f:
        build(f, h5py)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("config.json", json.dumps(sequential(dense(1))))
        zf.writestr("model.weights.h5", weights.getvalue())
    return buf.getvalue()


def weights_refused(build) -> str:
    from grader.grading.keras_archive import check_weights

    with pytest.raises(Feedback) as info:
        check_weights(h5_archive(build), CALL)
    return str(info.value)


def test_plain_weights_pass():
    import numpy as np

    from grader.grading.keras_archive import check_weights

    def build(f, h5py):
        f.create_group("layers/dense/vars").create_dataset("0", data=np.zeros((3, 1), "float32"))

    check_weights(h5_archive(build), CALL)


def test_a_huge_dataset_that_compresses_to_nothing_is_refused():
    def build(f, h5py):
        f.create_dataset("bomb", shape=(50_000_000,), dtype="float32", chunks=(1_000_000,), compression="gzip")

    assert "more weights" in weights_refused(build)


def test_links_to_other_files_are_refused(tmp_path):
    def build(f, h5py):
        f["elsewhere"] = h5py.ExternalLink(str(tmp_path / "solutions.h5"), "/secret")

    assert "link" in weights_refused(build)


def test_data_kept_in_external_raw_files_is_refused(tmp_path):
    def build(f, h5py):
        f.create_dataset("raw", shape=(4,), dtype="uint8", external=[(str(tmp_path / "any.bin"), 0, 4)])

    assert "outside the file" in weights_refused(build)


def flatten() -> dict:
    return {"module": "keras.layers", "class_name": "Flatten", "config": {"name": "flatten"}, "registered_name": None}


@pytest.mark.parametrize("declared", ["model", "input_layer"])
def test_a_flatten_into_a_dense_counts_every_input_value(declared):
    """A (1000, 1000) input flattened into Dense(1000) is a billion weights (4 GB), though no
    single dimension is wide: the size check multiplies through the Flatten, and reads the
    input shape wherever the config declares it (the model's own build_config too)."""
    config = sequential(flatten(), dense(1000, width=1))
    if declared == "model":
        config["config"]["layers"] = config["config"]["layers"][1:]  # no InputLayer
        config["build_config"] = {"input_shape": [None, 1000, 1000]}
    else:
        config["config"]["layers"][0]["config"]["batch_shape"] = [None, 1000, 1000]
    config["config"]["layers"][-1]["build_config"] = {"input_shape": [None, 1]}  # a lie
    assert "too large" in refused(config)
