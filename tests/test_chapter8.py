"""Chapter 8 (Keras) across the trust boundary.

One grading run of a submission that is wrong in a different way in every exercise
(a Lambda layer, a custom layer class, a custom activation function, ignored
arguments, an untrained classifier) — each must lose exactly its own points with a
message that says why. Solutions and stubs are covered by tests/test_curriculum.py.
The run needs TensorFlow and is skipped where it is not installed; the other tests
here do not import it.
"""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import pytest
from corpus import replace_once as replace

from grader.boundary.channel import WorkerClient, WorkerConfig
from grader.grading.catalog import load_catalog
from grader.grading.runner import _require, run_check
from grader.util.errors import StudentCodeError, UsageError

REPO = Path(__file__).resolve().parent.parent
HAS_TF = all(importlib.util.find_spec(name) is not None for name in ("tensorflow", "keras"))
needs_tf = pytest.mark.skipif(not HAS_TF, reason="needs tensorflow and keras: pip install 'dl-grade[keras]'")


def wrong_submission() -> str:
    s = (REPO / "solutions" / "chapter8" / "keras_models.py").read_text(encoding="utf-8")
    # linear_unit: a Lambda layer (code the grader must not run)
    s = replace(
        s,
        "return keras.Sequential([keras.Input(shape=(n_inputs,)), layers.Dense(units=1)])",
        "return keras.Sequential([keras.Input(shape=(n_inputs,)), layers.Dense(units=1), layers.Lambda(lambda t: t + 0.0)])",
    )
    # unit_weights: ends the worker on 3 inputs (the grader, which has run TensorFlow by
    # then, must start a fresh worker); returns Keras variables, not numpy arrays, otherwise
    s = replace(
        s,
        "    w, b = model.get_weights()\n    return w, b",
        "    if model.input_shape[-1] == 3:\n        import os\n        os._exit(3)\n    w, b = model.weights\n    return w, b",
    )
    # deep_regression: a layer class of the student's own
    s = replace(s, "    stack.append(layers.Dense(1))  # a linear output", "    stack.append(Head())  # a linear output")
    s = replace(
        s,
        "def deep_regression(",
        "class Head(layers.Layer):\n    def call(self, x):\n        return x[:, :1]\n\n\ndef deep_regression(",
    )
    # compile_model: the learning rate is ignored
    s = replace(s, "        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),\n        loss=loss,", '        optimizer="adam",\n        loss=loss,')
    # train_model: batch_size is not passed on
    s = replace(s, "        batch_size=batch_size,\n        epochs=epochs,\n        validation_data", "        epochs=epochs,\n        validation_data")
    # early_stopping: watches the training loss
    s = replace(s, '        monitor="val_loss",', '        monitor="loss",')
    # regularized_regression: batch normalization before dropout
    s = replace(
        s,
        "            layers.Dropout(rate),  # drops a fraction of the inputs of the next layer while training\n"
        "            layers.BatchNormalization(),  # re-centres and re-scales what the next layer sees\n",
        "            layers.BatchNormalization(),\n            layers.Dropout(rate),\n",
    )
    # binary_classifier: a Python function as the output activation
    s = replace(s, '            layers.Dense(1, activation="sigmoid"),  # a probability for class 1', "            layers.Dense(1, activation=squash),")
    s = replace(s, "def binary_classifier(", "def squash(z):\n    return keras.activations.sigmoid(z)\n\n\ndef binary_classifier(")
    # train_classifier: a model that never learns (learning rate 0) still returns its curves
    start = s.index("def train_classifier(")
    s = s[:start] + textwrap.dedent('''
        def train_classifier(X_train, y_train, X_valid, y_valid):
            model = keras.Sequential([keras.Input(shape=(X_train.shape[1],)),
                                      layers.Dense(1, activation="sigmoid", kernel_initializer="zeros")])
            model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="binary_crossentropy",
                          metrics=["binary_accuracy"])
            history = model.fit(X_train, y_train, epochs=2, validation_data=(X_valid, y_valid), verbose=0)
            return model, history.history
        ''')
    return s


@needs_tf
def test_each_wrong_exercise_loses_its_points_with_a_reason(make_target):
    target = make_target("chapter8", {"keras_models.py": wrong_submission()})
    report = run_check(load_catalog().chapter("chapter8"), target)
    by_ex = report.by_exercise()
    points = {ex: sum(t.score for t in tests) for ex, tests in by_ex.items()}
    messages = {ex: " ".join(t.message for t in tests) for ex, tests in by_ex.items()}
    statuses = {ex: {t.status for t in tests} for ex, tests in by_ex.items()}

    # Right: the classifier's learning curves, and train_model's validation curve (the
    # ignored batch_size costs the 2 points of the gradient-descent check only).
    assert points == {ex: 0 for ex in points} | {"chapter8.train_classifier": 1, "chapter8.train_model": 1}, points
    assert statuses.pop("chapter8.unit_weights") == {"error", "failed"}
    assert all(s <= {"failed", "passed"} for s in statuses.values()), statuses  # wrong, never a crash

    assert "Lambda layer" in messages["chapter8.linear_unit"]
    assert "not allowed" in messages["chapter8.linear_unit"]
    # the hidden test says what was expected, not the type name the worker reported (a name
    # the student's code chooses could carry a hidden input)
    assert "returned a …; expected a numpy array" in messages["chapter8.unit_weights"]
    assert "Variable" not in messages["chapter8.unit_weights"]
    assert "exit code" in messages["chapter8.unit_weights"]
    assert "'Head'" in messages["chapter8.deep_regression"]
    assert "learning rate" in messages["chapter8.compile_model"]
    assert "pass batch_size and epochs" in messages["chapter8.train_model"]
    assert "'val_loss'" in messages["chapter8.early_stopping"]
    assert "Dense → Dropout → BatchNormalization" in messages["chapter8.regularized_regression"]
    assert "'squash'" in messages["chapter8.binary_classifier"]
    accuracy = messages["chapter8.train_classifier"]
    assert "held-back rows" in accuracy and "pass mark is 90%" in accuracy
    assert "67.5%" in accuracy  # p = 0.5 everywhere: all predicted benign, 77 of the 114 held-back rows

    # The learning curve is attached for the report even though the accuracy fails.
    (curve,) = report.artifacts
    assert curve["kind"] == "learning_curve" and curve["exercise"] == "chapter8.train_classifier"
    assert sorted(curve["series"]) == ["loss", "val_loss"] and len(curve["series"]["loss"]) == 2


def test_missing_tensorflow_is_a_usage_error_with_the_install_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorflow" else real(name, *a))
    with pytest.raises(UsageError, match=r"pip install 'dl-grade\[keras\]'"):
        _require(("tensorflow", "keras"))
    _require(("numpy",))  # present: nothing raised


def test_save_model_refuses_objects_that_are_not_models():
    source = b"class Box:\n    save = None\n\ndef make():\n    return Box()\n"
    client = WorkerClient(WorkerConfig(sources={"box": ("sub/box.py", source)}, preload=["no_such_module_xyz"]))
    try:
        box = client.load("box").make()
        client.seed(3)  # keras is not loaded here: seeding must still work
        with pytest.raises(StudentCodeError, match="is not a Keras model"):
            client.save_model(box)
    finally:
        client.close()


def test_call_text_shows_arrays_inside_tuples_and_lists_by_shape():
    import numpy as np

    from grader.grading.checks import call_text

    X, Xv, yv = np.zeros((48, 3)), np.ones((300, 3)), np.ones((300, 1))
    text = call_text("train_model", X, validation_data=(Xv, yv), sizes=[Xv, 2], one=(yv,))
    assert "validation_data=(<float64 (300, 3)>, <float64 (300, 1)>)" in text
    assert "sizes=[<float64 (300, 3)>, 2]" in text and "one=(<float64 (300, 1)>,)" in text
    assert len(text) < 200


@needs_tf
def test_classifier_problem_names_a_wrong_output_layer_or_loss():
    import keras

    from grader.grading.keras_checks import classifier_problem

    def model(activation, loss):
        m = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation=activation)])
        m.compile(optimizer="adam", loss=loss)
        return m

    assert classifier_problem(model("sigmoid", "binary_crossentropy")) is None
    assert "Dense(1, softmax)" in classifier_problem(model("softmax", "binary_crossentropy"))
    assert "'binary_crossentropy'" in classifier_problem(model("sigmoid", "mse"))


@needs_tf
def test_the_workers_tensorflow_runs_without_its_graph_optimizer_before_student_code(make_target):
    # What the student's code finds when it first runs, in a check (a batch uses the same
    # fixture): TensorFlow's graph optimizer off (keras_checks.TF_OPTIMIZER_OPTIONS), so each
    # traced step and input pipeline is not rewritten again for every model and epoch.
    source = textwrap.dedent('''
        import tensorflow as tf

        def linear_unit(n_inputs=3):
            options = tf.config.optimizer.get_experimental_options()
            raise ValueError(f"meta optimizer disabled: {options.get('disable_meta_optimizer')}")
        ''')
    target = make_target("chapter8", {"keras_models.py": source})
    report = run_check(load_catalog().chapter("chapter8"), target, public_only=True)
    (first,) = [t for t in report.tests if t.exercise == "chapter8.linear_unit"]
    assert first.status in ("failed", "error")
    assert "meta optimizer disabled: True" in first.message, first.message


@needs_tf
def test_the_helper_recomputes_the_validation_loss_fit_reported_for_the_restored_epoch(tmp_path):
    # The curves check trusts the helper's compiled loss of the returned model (evaluated
    # eagerly there): it must be the number fit reported as val_loss for the epoch that early
    # stopping restored, and nothing for a model that was never compiled.
    import keras
    import numpy as np

    from grader.grading.keras_client import close_helpers, load_archive

    rng = np.random.default_rng(5)
    X, Xv = rng.normal(size=(80, 4)), rng.normal(size=(50, 4))  # 50 = a batch of 32 and one of 18
    y, yv = (X[:, 0] > 0).astype(float), (Xv[:, 0] > 0).astype(float)
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dropout(0.2), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["binary_accuracy"])
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = model.fit(X, y, batch_size=32, epochs=12, validation_data=(Xv, yv), callbacks=[stop], verbose=0)
    model.save(tmp_path / "trained.keras")
    bare = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1, activation="sigmoid")])
    bare.save(tmp_path / "bare.keras")
    try:
        loaded = load_archive((tmp_path / "trained.keras").read_bytes(), "train_classifier(...)")
        best = min(history.history["val_loss"])
        assert loaded.compiled_loss(Xv, yv) == pytest.approx(best, rel=1e-6)
        assert load_archive((tmp_path / "bare.keras").read_bytes(), "f()").compiled_loss(Xv, yv) is None
    finally:
        close_helpers()


@needs_tf
def test_an_early_stopping_that_only_looks_right_is_judged_by_what_it_does(make_target):
    # A callback with every attribute the tests read right (val_loss, the patience, min_delta and
    # restore_best_weights asked for) that in fact watches the training loss: the grader runs it
    # on a training run it knows and sees it stop at the wrong epoch (or never).
    s = (REPO / "solutions" / "chapter8" / "keras_models.py").read_text(encoding="utf-8")
    s = replace(s, "def early_stopping(", textwrap.dedent('''
        class EarlyStopping(keras.callbacks.EarlyStopping):
            def on_epoch_end(self, epoch, logs=None):
                logs = dict(logs or {})
                super().on_epoch_end(epoch, {**logs, "val_loss": logs.get("loss")})


        def early_stopping(''').lstrip("\n"))
    s = replace(s, "    return keras.callbacks.EarlyStopping(\n        monitor=", "    return EarlyStopping(\n        monitor=")
    target = make_target("chapter8", {"keras_models.py": s})
    report = run_check(load_catalog().chapter("chapter8"), target)
    tests = report.by_exercise()["chapter8.early_stopping"]
    assert sum(t.score for t in tests) == 0, [(t.name, t.status, t.message) for t in tests]
    messages = " ".join(t.message for t in tests)
    assert "training ran 36 epochs" in messages and "ends it after 7" in messages, messages  # public
    assert "training ran all" in messages, messages  # hidden: the count is not shown
    assert sum(t.score for t in report.tests) == report.max_score - sum(t.max_score for t in tests)
