"""Chapter 8: points only for behaviour the grader observed.

Two lies a student's module can tell about Keras objects, each a real student file graded
with ``run_check``:

* ``train_classifier`` trains an honest model but returns learning curves of its own
  making. The grader recomputes the returned model's validation loss; it must be one of the
  reported ``val_loss`` values (the restored epoch's), so an invented history earns nothing.
* ``early_stopping`` returns a look-alike: a class named ``EarlyStopping`` with the asked-for
  ``monitor``, ``patience``, ``min_delta`` and ``restore_best_weights`` and no behaviour. The
  grader uses the callback in a short fit whose stopping epoch and restored weights it
  computes itself, so a name and four attributes earn nothing.

The honest parts of the same file (the classifier's accuracy, every other exercise) keep
their points. Needs TensorFlow (skipped without it).
"""

from __future__ import annotations

import importlib.util
import textwrap

import pytest

from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check
from tests.conftest import REPO

HAS_TF = all(importlib.util.find_spec(name) is not None for name in ("tensorflow", "keras"))
pytestmark = pytest.mark.skipif(not HAS_TF, reason="needs tensorflow and keras: pip install 'dl-grade[keras]'")

LIES = '''
class EarlyStopping:
    """A look-alike: the class name and the settings the grader asks for, no behaviour."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, restore_best_weights=False):
        self.monitor, self.min_delta = monitor, min_delta
        self.patience, self.restore_best_weights = patience, restore_best_weights


def early_stopping(min_delta=0.001, patience=20, restore_best_weights=True):
    return EarlyStopping("val_loss", min_delta, patience, restore_best_weights)


def train_classifier(X_train, y_train, X_valid, y_valid):
    model = binary_classifier(X_train.shape[1])
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0.001, patience=4, restore_best_weights=True)
    history = train_model(model, X_train, y_train, batch_size=64, epochs=30,
                          validation_data=(X_valid, y_valid), callbacks=[stop])
    n = len(history["loss"])
    # curves of its own making: smooth, falling, and nothing to do with the model returned
    return model, {"loss": [0.7 / (k + 1) for k in range(n)], "val_loss": [0.8 / (k + 1) + 0.3 for k in range(n)]}
'''


@pytest.fixture(scope="module")
def lying_report(tmp_path_factory):
    target = tmp_path_factory.mktemp("liar")
    (target / "chapter8").mkdir()
    for f in (REPO / "solutions" / "chapter8").glob("*.py"):
        (target / "chapter8" / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    module = target / "chapter8" / "keras_models.py"
    module.write_text(module.read_text(encoding="utf-8") + "\n\n" + textwrap.dedent(LIES), encoding="utf-8")
    return run_check(load_catalog().chapter("chapter8"), target)


def _test(report, name):
    (test,) = [t for t in report.tests if t.name == name]
    return test


def test_invented_learning_curves_earn_nothing(lying_report):
    curves = _test(lying_report, "test_classifier_returns_its_learning_curves")
    assert curves.score == 0 and curves.status == "failed", (curves.status, curves.message)
    assert "not on the 'val_loss' curve you return" in curves.message
    # the model itself is honest: its accuracy keeps its points
    assert _test(lying_report, "test_classifier_reaches_90_percent_on_held_back_rows").status == "passed"


def test_a_look_alike_early_stopping_earns_nothing(lying_report):
    early = [t for t in lying_report.tests if t.exercise == "chapter8.early_stopping"]
    assert early and all(t.score == 0 and t.status in ("failed", "error") for t in early), [
        (t.name, t.status, t.message) for t in early
    ]


def test_the_honest_exercises_of_the_lying_file_keep_their_points(lying_report):
    for exercise, tests in lying_report.by_exercise().items():
        if exercise not in ("chapter8.early_stopping", "chapter8.train_classifier"):
            assert all(t.status == "passed" for t in tests), [(t.name, t.message) for t in tests]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")  # the suite's marks: the plugin's
def test_the_stopping_data_tell_every_other_setting_apart():
    """The public early-stopping check replays full-batch gradient descent on its data: with
    monitor 'val_loss', min_delta 0.01 and patience 3 training ends at one epoch; every other
    plausible setting (the training loss, another patience or min_delta, no restoring) ends at
    another epoch or leaves other weights, so only the asked-for behaviour passes."""
    import numpy as np

    from grader.suites.chapter8.test_keras_models import early_stopping_replay, stopping_problem

    X, y, Xv, yv, steps = stopping_problem()
    val = [float(np.mean((Xv @ w + b - yv) ** 2)) for w, b in steps]
    train = [float(np.mean((X @ w + b - y) ** 2)) for w, b in [(np.zeros((6, 1)), np.zeros(1)), *steps[:-1]]]
    ran, best = early_stopping_replay(val, min_delta=0.01, patience=3)
    assert 5 <= ran < len(steps) and best < ran - 1
    others = [early_stopping_replay(val, 0.0, 3), early_stopping_replay(val, 0.001, 3),
              early_stopping_replay(val, 0.01, 2), early_stopping_replay(val, 0.01, 4),
              early_stopping_replay(train, 0.01, 3)]  # Keras' 'loss' is measured before each step
    assert all(n != ran for n, _ in others), (ran, others)
    last, kept = steps[ran - 1][0], steps[best][0]  # not restoring keeps the last epoch's weights
    assert np.max(np.abs(last - kept)) > 1e-2 * np.max(np.abs(kept))
    # each decision is clear of float32 rounding in Keras: no value sits near a threshold
    reference, margins = val[0], []
    for v in val[1:ran]:
        margins.append(abs(v - (reference - 0.01)))
        reference = v if v < reference - 0.01 else reference
    assert min(margins) > 1e-3, margins
