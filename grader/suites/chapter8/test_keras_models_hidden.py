"""Hidden checks for chapter 8: other sizes, validation curves, and early stopping at work."""

from __future__ import annotations

import numpy as np
import pytest

from grader.boundary.proxy import type_name
from grader.grading.checks import Feedback, assert_close, call_text, expect_array
from grader.grading.keras_checks import (
    check_classifier,
    check_compiled,
    check_regularized,
    clean_curves,
    dense_params,
    drive_callback,
    expect_dense,
    expect_layers,
    expect_params,
    expect_shapes,
    fetch_model,
    gradient_descent,
    tensorflow_settings,  # noqa: F401 - an autouse fixture: TensorFlow's settings in the worker
    worker_linear_unit,
    worker_sgd_unit,
)
from grader.util.i18n import tr


@pytest.mark.exercise("chapter8.linear_unit")
def test_linear_unit_takes_any_number_of_inputs(student):
    call = call_text("linear_unit", 5)
    model = fetch_model(student, student.load("keras_models").linear_unit(5), call)
    expect_layers(model, ["Dense"], call)
    expect_dense(model, 0, 1, "linear", call)
    expect_shapes(model, 5, call)
    expect_params(model, 6, call)


@pytest.mark.exercise("chapter8.unit_weights")
def test_unit_weights_reads_other_values(student):
    rng = np.random.default_rng(82)
    w, b = rng.normal(size=(5, 1)), rng.normal(size=(1,))
    model = worker_linear_unit(student, 5)
    model.set_weights([w, b])
    call = call_text("unit_weights", model, seed=82)
    result = student.load("keras_models").unit_weights(model)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise Feedback(tr("k8.weights_pair", call=call, type=type_name(result)))
    assert_close(expect_array(result[0], call + " [w]", shape=(5, 1)), w, call + " [w]", rtol=1e-6, atol=1e-7)
    assert_close(expect_array(result[1], call + " [b]", shape=(1,)), b, call + " [b]", rtol=1e-6, atol=1e-7)


@pytest.mark.exercise("chapter8.deep_regression")
@pytest.mark.points(2)
def test_deep_regression_three_hidden_layers(student):
    call = call_text("deep_regression", [16, 8, 8], [5])
    model = fetch_model(student, student.load("keras_models").deep_regression([16, 8, 8], [5]), call)
    expect_layers(model, ["Dense"] * 4, call)
    for i, (units, act) in enumerate([(16, "relu"), (8, "relu"), (8, "relu"), (1, "linear")]):
        expect_dense(model, i, units, act, call)
    expect_shapes(model, 5, call)
    expect_params(model, dense_params([5, 16, 8, 8, 1]), call)


@pytest.mark.exercise("chapter8.compile_model")
def test_compile_other_settings(student):
    check_compiled(student, 0.0001, "mae", ["mse", "mae"])


@pytest.mark.exercise("chapter8.train_model")
@pytest.mark.timeout_s(60)
def test_validation_curve_is_measured_on_the_validation_data(student):
    rng = np.random.default_rng(83)
    X, Xv = rng.normal(size=(48, 3)), rng.normal(size=(24, 3))
    true_w = np.array([[1.0], [0.5], [-1.0]])
    y, yv = X @ true_w + 0.1 * rng.normal(size=(48, 1)), Xv @ true_w
    K = student.library("keras")
    model = worker_sgd_unit(student, 3, learning_rate=0.05)
    # a callback no epoch can satisfy (an improvement of a million): it ends training after 2 of 6
    # epochs, so passing callbacks through to fit is visible in the length of the curves
    stop = K.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=1e6)
    kwargs = {"batch_size": 16, "epochs": 6, "validation_data": (Xv, yv), "callbacks": [stop]}
    call = call_text("train_model", model, X, y, seed=83, **kwargs)
    curves = clean_curves(student.load("keras_models").train_model(model, X, y, **kwargs), call)
    if "val_loss" not in curves:
        raise Feedback(tr("k8.train.no_val_loss", call=call, names=sorted(curves)))
    n = len(curves.get("loss", []))
    if n != len(curves["val_loss"]) or n == 0:
        raise Feedback(tr("k8.train.val_lengths", call=call))
    if n >= 6:
        raise Feedback(tr("k8.train.callbacks_ignored", call=call, n=n))
    w, b = model.get_weights()
    final = float(np.mean((Xv @ w + b - yv) ** 2))
    assert_close(curves["val_loss"][-1], final, call + tr("k8.ctx.last_val_loss"), rtol=1e-3, atol=1e-6)


@pytest.mark.exercise("chapter8.early_stopping")
@pytest.mark.points(2)
@pytest.mark.timeout_s(60)
def test_training_stops_and_restores_the_best_weights(student):
    # Pure-noise targets: a model starting at zero can only fit noise, so the validation loss
    # is lowest early and then rises; patience 3 must stop long before 40 epochs.
    rng = np.random.default_rng(84)
    X, y = rng.normal(size=(16, 8)), rng.normal(size=(16, 1))
    Xv, yv = rng.normal(size=(16, 8)), rng.normal(size=(16, 1))
    call = call_text("early_stopping", min_delta=0.0, patience=3, restore_best_weights=True)
    stop = student.load("keras_models").early_stopping(min_delta=0.0, patience=3, restore_best_weights=True)
    if type_name(stop) != "EarlyStopping":
        raise Feedback(tr("k8.early.type", call=call, type=type_name(stop)))
    # full-batch SGD (learning rate 0.2) from zero weights, 40 epochs, replayed here
    steps = [gradient_descent(X, y, lr=0.2, steps=k) for k in range(1, 41)]
    val, (w, b) = drive_callback(student, stop, 8, steps, X, y, Xv, yv)
    if not val or len(val) >= 40:
        raise Feedback(tr("k8.early.ran_all", call=call, n=40))
    final = float(np.mean((Xv @ w + b - yv) ** 2))
    if abs(final - min(val)) > 1e-4 * max(1.0, min(val)):
        raise Feedback(tr("k8.early.not_restored", call=call, final=f"{final:.4g}", best=f"{min(val):.4g}"))


@pytest.mark.exercise("chapter8.regularized_regression")
def test_regularized_other_spec(student):
    check_regularized(student, [16], 5, 0.5)


@pytest.mark.exercise("chapter8.binary_classifier")
def test_classifier_for_other_feature_counts(student):
    check_classifier(student, 7)
