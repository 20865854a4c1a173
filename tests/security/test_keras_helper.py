"""Red team: a student's Keras archive is opened in a limited helper process, never in pytest's.

The archive's config passes an allow-list and a size check first; a hole in those checks (there
was one: the size check read neither the model's own build_config nor the product through a
Flatten) must not let a model cost the grader gigabytes or minutes. These tests open archives
the checks would refuse, with the checks switched off: the helper's memory cap or deadline stops
them, the test gets the model's error, pytest's own memory does not grow, and the next archive
opens in a fresh helper.
"""

from __future__ import annotations

import importlib.util
import io
import json
import resource
import time
import zipfile

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="needs keras")


def small_archive(tmp_path) -> bytes:
    import keras

    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    path = tmp_path / "m.keras"
    model.save(path)
    return path.read_bytes()


def widened(data: bytes, width: int, units: int) -> bytes:
    """The same archive with the first Dense declared ``width`` inputs wide and ``units`` units."""
    source = zipfile.ZipFile(io.BytesIO(data))
    config = json.loads(source.read("config.json"))
    layers = config["config"]["layers"]
    layers[0]["config"]["batch_shape"] = [None, width]
    layers[1]["config"]["units"] = units
    layers[1]["build_config"] = {"input_shape": [None, width]}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in source.namelist():
            zf.writestr(name, json.dumps(config) if name == "config.json" else source.read(name))
    return out.getvalue()


@pytest.fixture
def unchecked(monkeypatch):
    """The trusted side's checks switched off (as if they had a hole), and a fresh helper."""
    from grader.grading import keras_client

    keras_client.close_helpers()
    monkeypatch.setattr(keras_client, "read_config", lambda data, call: {})
    monkeypatch.setattr(keras_client, "check_weights", lambda data, call: None)
    yield keras_client
    keras_client.close_helpers()


def test_a_model_too_big_to_build_is_stopped_by_the_helpers_memory_cap(unchecked, tmp_path):
    from grader.grading.checks import Feedback
    from grader.grading.keras_checks import predict

    data = small_archive(tmp_path)
    assert unchecked.load_archive(data, "f()").count_params() == 11  # the helper works
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    huge = widened(data, 30_000, 30_000)  # 900 million weights: 3.6 GB to build
    with pytest.raises(Feedback) as caught:
        unchecked.load_archive(huge, "f()")
    assert "f()" in str(caught.value)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, grown_mb  # built (or not) in the helper, not here
    model = unchecked.load_archive(data, "f()")  # and the grader goes on
    assert predict(model, np.zeros((2, 3))).shape == (2, 1)


def test_a_build_that_takes_too_long_is_killed_at_its_deadline(unchecked, tmp_path, monkeypatch):
    from grader.grading.checks import Feedback

    data = small_archive(tmp_path)
    unchecked.load_archive(data, "f()")  # started and warm
    helper = unchecked._HELPERS["current"]
    monkeypatch.setattr(unchecked, "LOAD_SECONDS", 0.0005)  # any build is "too slow" now
    started = time.monotonic()
    with pytest.raises(Feedback) as caught:
        unchecked.load_archive(widened(data, 2000, 2000), "f()")
    assert time.monotonic() - started < 5
    assert "more time or memory" in str(caught.value)
    assert helper.proc.poll() is not None  # killed
    monkeypatch.setattr(unchecked, "LOAD_SECONDS", 30.0)
    assert unchecked.load_archive(data, "f()").count_params() == 11  # a fresh helper


def test_a_target_never_shares_a_helper_with_another(unchecked, tmp_path, monkeypatch):
    data = small_archive(tmp_path)
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "suite.py::test_x[__gt0__] (call)")
    unchecked.load_archive(data, "f()")
    first = unchecked._HELPERS["current"].proc
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "suite.py::test_x[__gt1__] (call)")
    unchecked.load_archive(data, "f()")
    second = unchecked._HELPERS["current"].proc
    assert second.pid != first.pid and first.poll() is not None
