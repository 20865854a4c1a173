"""Public checks for chapter 8: Keras models built in the worker, judged on the trusted side.

Models cross as ``.keras`` archives (``grader.grading.keras_checks.fetch_model``: whitelisted
classes, then ``safe_mode=True``); everything else crosses as plain data. Models the
checks hand to the student (to compile, train or read) are built by the suite in the
worker with its own copy of keras (``student.library("keras")``), so one exercise does
not depend on another.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.boundary.proxy import type_name
from grader.grading.checks import Feedback, assert_close, call_text, expect_array, expect_number
from grader.grading.keras_checks import (
    check_classifier,
    check_compiled,
    check_regularized,
    classifier_problem,
    clean_curves,
    dense_params,
    drive_callback,
    expect_dense,
    expect_layers,
    expect_params,
    expect_shapes,
    fetch_model,
    finite,
    gradient_descent,
    load_shared,
    predict,
    tensorflow_settings,  # noqa: F401 - an autouse fixture: TensorFlow's settings in the worker
    wdbc_splits,
    worker_linear_unit,
    worker_sgd_unit,
)
from grader.util.i18n import t, tr

PASS_MARK = 0.90  # accuracy on the held-back rows for chapter8.train_classifier


# --- linear_unit / unit_weights ------------------------------------------------------------


@pytest.mark.exercise("chapter8.linear_unit")
def test_linear_unit_is_one_dense_unit_on_three_inputs(student):
    call = call_text("linear_unit", 3)
    model = fetch_model(student, student.load("keras_models").linear_unit(3), call)
    expect_layers(model, ["Dense"], call)
    expect_dense(model, 0, 1, "linear", call)
    expect_shapes(model, 3, call)
    expect_params(model, 4, call)


@pytest.mark.exercise("chapter8.unit_weights")
def test_unit_weights_returns_kernel_and_bias(student):
    mod = student.load("keras_models")
    model = worker_linear_unit(student, 3)
    w = np.array([[2.5], [-1.0], [0.5]])
    b = np.array([90.0])
    model.set_weights([w, b])
    call = call_text("unit_weights", model)
    result = mod.unit_weights(model)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise Feedback(tr("k8.weights_pair", call=call, type=type_name(result)))
    got_w = expect_array(result[0], call + " [w]", shape=(3, 1))
    got_b = expect_array(result[1], call + " [b]", shape=(1,))
    assert_close(got_w, w, call + " [w]", rtol=1e-6)
    assert_close(got_b, b, call + " [b]", rtol=1e-6)


# --- deep_regression -----------------------------------------------------------------------


@pytest.mark.exercise("chapter8.deep_regression")
def test_deep_regression_matches_the_spec(student):
    call = call_text("deep_regression", [4, 3], [2])
    model = fetch_model(student, student.load("keras_models").deep_regression([4, 3], [2]), call)
    expect_layers(model, ["Dense", "Dense", "Dense"], call)
    for i, (units, act) in enumerate([(4, "relu"), (3, "relu"), (1, "linear")]):
        expect_dense(model, i, units, act, call)
    expect_shapes(model, 2, call)
    expect_params(model, dense_params([2, 4, 3, 1]), call)


# --- compile_model -------------------------------------------------------------------------


@pytest.mark.exercise("chapter8.compile_model")
def test_compile_uses_adam_learning_rate_loss_and_metrics(student):
    check_compiled(student, 0.01, "mse", ["mae"])


# --- train_model ---------------------------------------------------------------------------


@pytest.mark.exercise("chapter8.train_model")
@pytest.mark.points(2)
@pytest.mark.timeout_s(60)
def test_full_batch_epochs_match_gradient_descent(student):
    rng = np.random.default_rng(81)
    X = rng.normal(size=(64, 3))
    y = X @ np.array([[1.5], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.normal(size=(64, 1))
    model = worker_sgd_unit(student, 3, learning_rate=0.1)
    call = call_text("train_model", model, X, y, batch_size=64, epochs=3, seed=81)
    curves = clean_curves(student.load("keras_models").train_model(model, X, y, batch_size=64, epochs=3), call)
    if "loss" not in curves:
        raise Feedback(tr("k8.train.no_loss", call=call, names=sorted(curves)))
    if len(curves["loss"]) != 3:
        raise Feedback(tr("k8.train.loss_length", call=call, n=len(curves["loss"]), epochs=3))
    w, b = gradient_descent(X, y, lr=0.1, steps=3)
    weights = model.get_weights()
    try:
        assert_close(weights[0], w, call + tr("k8.ctx.weights_after_training"), rtol=1e-4, atol=1e-5)
        assert_close(weights[1], b, call + tr("k8.ctx.bias_after_training"), rtol=1e-4, atol=1e-5)
    except Feedback as exc:
        raise Feedback(tr("k8.train.one_step_per_epoch", feedback=exc)) from None


# --- early_stopping ------------------------------------------------------------------------


@pytest.mark.exercise("chapter8.early_stopping")
@pytest.mark.timeout_s(60)
def test_early_stopping_watches_val_loss_with_the_settings(student):
    call = call_text("early_stopping", min_delta=0.01, patience=3, restore_best_weights=True)
    stop = student.load("keras_models").early_stopping(min_delta=0.01, patience=3, restore_best_weights=True)
    if type_name(stop) != "EarlyStopping":
        raise Feedback(tr("k8.early.type", call=call, type=type_name(stop)))
    if stop.monitor != "val_loss":
        raise Feedback(tr("k8.early.monitor", call=call, got=stop.monitor))
    if stop.patience != 3:
        raise Feedback(tr("k8.early.patience", call=call, got=repr(stop.patience), want=3))
    assert_close(abs(expect_number(stop.min_delta, call + " [min_delta]")), 0.01, call + " [min_delta]", rtol=1e-9)
    if stop.restore_best_weights is not True:
        raise Feedback(tr("k8.early.restore", call=call, got=repr(stop.restore_best_weights)))
    check_stops_where_the_grader_expects(student, stop, call)


def check_stops_where_the_grader_expects(student, stop, call: str) -> None:
    """The callback at work, judged on what the grader computes itself (a class name and
    attributes are the student's to choose): full-batch gradient descent on a linear unit is
    replayed here epoch by epoch, so the grader knows the validation curve, the epoch at which
    EarlyStopping(val_loss, min_delta=0.01, patience=3) ends training and the weights it restores.
    The data make every other setting (monitoring 'loss', patience 2 or 4, min_delta 0 or 0.001,
    not restoring) end at another epoch or with other weights. The callback is driven through
    ``fit``'s hooks over that run (``drive_callback``), on a linear unit in the worker."""
    X, y, Xv, yv, steps = stopping_problem()
    epochs = len(steps)
    val = [float(np.mean((Xv @ w + b - yv) ** 2)) for w, b in steps]
    n_want, best = early_stopping_replay(val, min_delta=0.01, patience=3)
    ran, (w, b) = drive_callback(student, stop, 6, steps, X, y, Xv, yv)
    if len(ran) != n_want:
        raise Feedback(tr("k8.early.stopped_after", call=call, n=len(ran), want=n_want, epochs=epochs))
    final = float(np.mean((Xv @ w + b - yv) ** 2))
    if abs(final - val[best]) > 1e-4 * max(1.0, val[best]):
        raise Feedback(tr("k8.early.not_restored", call=call, final=f"{final:.4g}", best=f"{val[best]:.4g}"))


STOP_LR = 0.05


def stopping_problem(epochs: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list]:
    """Noisy linear data (24 training and 24 validation rows, 6 features) and the weights of
    full-batch gradient descent after each of ``epochs`` epochs, from zero weights."""
    rng = np.random.default_rng(4)
    X, Xv = rng.normal(size=(24, 6)), rng.normal(size=(24, 6))
    true_w = 0.3 * rng.normal(size=(6, 1))
    y, yv = X @ true_w + rng.normal(size=(24, 1)), Xv @ true_w + rng.normal(size=(24, 1))
    return X, y, Xv, yv, [gradient_descent(X, y, lr=STOP_LR, steps=k) for k in range(1, epochs + 1)]


def early_stopping_replay(curve: list[float], min_delta: float, patience: int) -> tuple[int, int]:
    """(epochs run, best epoch) of keras.callbacks.EarlyStopping(monitor on ``curve``, mode min)
    over ``curve``: an epoch improves when it beats the best by more than ``min_delta``;
    training ends once ``patience`` epochs in a row did not."""
    best, best_epoch, wait = float("inf"), 0, 0
    for epoch, value in enumerate(curve):
        wait += 1
        if value < best - min_delta:
            best, best_epoch, wait = value, epoch, 0
        elif wait >= patience and epoch > 0:
            return epoch + 1, best_epoch
    return len(curve), best_epoch


# --- regularized_regression ----------------------------------------------------------------


@pytest.mark.exercise("chapter8.regularized_regression")
@pytest.mark.points(2)
def test_dropout_and_batchnorm_follow_each_hidden_layer(student):
    check_regularized(student, [8, 4], 11, 0.3)


# --- binary_classifier ---------------------------------------------------------------------


@pytest.mark.exercise("chapter8.binary_classifier")
@pytest.mark.points(2)
def test_sigmoid_output_with_cross_entropy_and_accuracy(student):
    check_classifier(student, 30)


# --- train_classifier: one training run per target, shared by the two checks ----------------

SEED = 8


def trained_classifier(student, target_state) -> tuple[bytes, dict[str, list[float]], str]:
    """Train the student's classifier once (seeded) and keep plain data: archive + curves.
    Kept in ``target_state`` (this submission's, dropped when its grading ends), never at
    module level: in a batch the next student must be graded on their own classifier."""
    if "classifier_error" in target_state:
        raise target_state["classifier_error"]
    if "classifier" not in target_state:
        data = wdbc_splits()
        call = call_text(
            "train_classifier", data["X_train"], data["y_train"], data["X_valid"], data["y_valid"], seed=SEED
        )
        try:
            student.seed(SEED)
            value = student.load("keras_models").train_classifier(
                data["X_train"], data["y_train"], data["X_valid"], data["y_valid"]
            )
            if not isinstance(value, (tuple, list)) or len(value) != 2:
                raise Feedback(tr("k8.tc.pair", call=call, type=type_name(value)))
            model, history = value
            curves = clean_curves(history, call)
            if model is None or type_name(model) not in ("Sequential", "Functional"):
                fetch_model(student, model, call)  # raises the right message
            archive = student.save_model(model)
        except BaseException as exc:
            target_state["classifier_error"] = exc
            raise
        target_state["classifier"] = (archive, curves, call)
    return target_state["classifier"]


@pytest.mark.exercise("chapter8.train_classifier")
@pytest.mark.points(3)
@pytest.mark.timeout_s(90)
def test_classifier_reaches_90_percent_on_held_back_rows(student, target_state):
    archive, _, call = trained_classifier(student, target_state)
    model = load_shared(target_state, "classifier_model", archive, call)
    data = wdbc_splits()
    probs = predict(model, data["X_test"])
    if probs.shape != (len(data["X_test"]), 1) or not finite(probs.ravel().tolist()):
        raise Feedback(tr("k8.tc.not_probabilities", call=call))
    accuracy = float(np.mean((probs[:, 0] > 0.5) == (data["y_test"] == 1)))
    if accuracy < PASS_MARK:
        score = {"call": call, "accuracy": f"{accuracy:.1%}", "n": len(probs), "mark": f"{PASS_MARK:.0%}"}
        problem = classifier_problem(model)
        if problem:
            raise Feedback(tr("k8.tc.accuracy_model", problem=problem, **score))
        raise Feedback(tr("k8.tc.accuracy_curves", **score))


@pytest.mark.exercise("chapter8.train_classifier")
@pytest.mark.timeout_s(150)
def test_classifier_returns_its_learning_curves(student, target_state):
    archive, curves, call = trained_classifier(student, target_state)
    for key in ("loss", "val_loss"):
        if key not in curves:
            raise Feedback(tr("k8.tc.missing_curve", call=call, names=sorted(curves), key=key))
    n = len(curves["loss"])
    if n == 0 or len(curves["val_loss"]) != n or not finite(curves["loss"] + curves["val_loss"]):
        raise Feedback(tr("k8.tc.curve_lengths", call=call))
    shown = {k: v for k, v in curves.items() if k in ("loss", "val_loss")}
    student.attach({
        "kind": "learning_curve",
        "exercise": "chapter8.train_classifier",
        "title": t("k8.tc.curve_title", "en"),
        "title_zh": t("k8.tc.curve_title", "zh"),
        "series": shown,
    })
    data = wdbc_splits()
    model = load_shared(target_state, "classifier_model", archive, call)
    final = validation_loss(model, data["X_valid"], data["y_valid"])
    # The curves must be this model's history: its validation loss, recomputed here, is one of
    # the epochs' (the restored one). A history written by the student's code is not evidence.
    if not any(abs(final - v) <= 1e-3 * max(1.0, abs(v)) for v in curves["val_loss"]):
        raise Feedback(tr("k8.tc.curve_not_this_model", call=call, final=f"{final:.4g}"))
    best = min(curves["val_loss"])
    if final > best + 0.005 and final > 1.25 * best:
        raise Feedback(tr("k8.tc.not_best_epoch", call=call, final=f"{final:.4g}", best=f"{best:.4g}"))
    check_validation_rows_only_validate(student, curves["loss"])


def validation_loss(model, X: np.ndarray, y: np.ndarray) -> float:
    """The returned model's loss on (X, y) computed here, as Keras computes ``val_loss`` during
    fit: its compiled loss (from the checked archive; for a sigmoid output, from the logits)
    plus any weight penalties, in inference mode. A model that was never compiled could not
    have been trained: its binary cross-entropy is computed directly."""
    loss = model.compiled_loss(X, y, call_text("evaluate", X, y))
    if loss is not None:
        return loss
    # not compiled (or no usable loss): the plain cross-entropy
    probs = np.clip(predict(model, X)[:, 0], 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(probs) + (1 - y) * np.log(1 - probs)))


def check_validation_rows_only_validate(student, losses: list[float]) -> None:
    """The same seeded run with the validation labels flipped: training on X_train alone gives
    the same training loss, epoch by epoch, until early stopping ends one of the two runs."""
    data = wdbc_splits()
    flipped = 1.0 - data["y_valid"]
    call = call_text("train_classifier", data["X_train"], data["y_train"], data["X_valid"], flipped, seed=SEED)
    student.seed(SEED)
    value = student.load("keras_models").train_classifier(data["X_train"], data["y_train"], data["X_valid"], flipped)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise Feedback(tr("k8.tc.pair", call=call, type=type_name(value)))
    again = clean_curves(value[1], call).get("loss", [])
    n = min(len(losses), len(again))
    if n and max(abs(a - b) for a, b in zip(losses[:n], again[:n], strict=True)) > 1e-4 * max(1.0, *losses[:n]):
        raise Feedback(tr("k8.tc.learned_from_validation", call=call))
