"""Red team: points only for behaviour the grader observed.

A test about a side effect ("leaves x as it found it") must not pay a function that does
nothing: the book's numerical_gradient nudges x and puts it back, so one that returns None
leaves x untouched too. And an argument synced back from the worker (``Synced``) that the
student's code changed and then reshaped (or gave another dtype) could not be copied back into
the test's array, which then looked untouched: the wrapper now says it changed.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from grader.boundary.proxy import Synced
from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check
from tests.conftest import REPO

CATALOG = load_catalog()


def grade(make_target, chapter_id: str, overrides: dict[str, str], **kwargs):
    files = {}
    for module, override in overrides.items():
        source = (REPO / "solutions" / chapter_id / f"{module}.py").read_text(encoding="utf-8")
        files[f"{module}.py"] = source + "\n\n" + textwrap.dedent(override)
    return run_check(CATALOG.chapter(chapter_id), make_target(chapter_id, files), **kwargs)


def scores(report, *names: str) -> dict[str, float]:
    return {t.name: t.score for t in report.tests if t.name in names}


DOES_NOTHING = {
    "gradients": """
    def numerical_gradient(f, x):
        return None  # x is left exactly as it was
    """,
    "two_layer_net": """
    class TwoLayerNet(TwoLayerNet):
        def numerical_gradient(self, x, t):
            return None  # the params are left exactly as they were
    """,
}


def test_a_function_that_does_nothing_earns_no_points_for_leaving_its_input_alone(make_target):
    report = grade(make_target, "chapter4", DOES_NOTHING)
    names = (
        "test_numerical_gradient_puts_x_back",
        "test_numerical_gradient_leaves_x_as_it_found_it",
        "test_numerical_gradient_leaves_the_params_unchanged",
    )
    got = scores(report, *names)
    assert set(got) == set(names)
    assert all(score == 0 for score in got.values()), got


EDITS_THEN_RESHAPES = {
    "gradients": """
    _solution_numerical_gradient = numerical_gradient


    def numerical_gradient(f, x):
        grad = _solution_numerical_gradient(f, x.copy())  # the right answer
        x += 1.0  # then the caller's x changed in place
        x.shape = (1, x.size)  # and reshaped, so the changed x was not copied back
        return grad
    """,
}

RELU_EDITS_THEN_RESHAPES = {
    "layers": """
    class Relu(Relu):
        def forward(self, x):
            out = super().forward(x.copy())  # the right answer
            x[x < 0] = 0  # then the caller's x changed in place
            x.shape = (x.size,)  # and reshaped
            return out
    """,
}


def test_an_argument_changed_then_reshaped_counts_as_changed(make_target):
    report = grade(make_target, "chapter4", EDITS_THEN_RESHAPES)
    got = scores(report, "test_numerical_gradient_puts_x_back", "test_numerical_gradient_leaves_x_as_it_found_it")
    assert len(got) == 2 and all(score == 0 for score in got.values()), got
    report = grade(make_target, "chapter5", RELU_EDITS_THEN_RESHAPES)
    got = scores(report, "test_relu_forward_leaves_its_input_alone", "test_relu_on_3d_input")
    assert len(got) == 2 and all(score == 0 for score in got.values()), got


SGD_TO_FLOAT32 = {
    "optimizers": """
    class SGD(SGD):
        def update(self, params, grads):
            for key in params:  # the right values, in another dtype: they used to be cast back unseen
                params[key] = (params[key] - self.lr * grads[key]).astype(np.float32)
    """,
}


def test_an_optimizer_that_changes_the_params_dtype_earns_nothing(make_target):
    report = grade(make_target, "chapter6", SGD_TO_FLOAT32, public_only=True)
    sgd = [t for t in report.tests if t.exercise == "chapter6.SGD"]
    assert sgd and all(t.score == 0 for t in sgd), [(t.name, t.message) for t in sgd]
    assert any("another shape or dtype" in t.message for t in sgd)


@pytest.mark.parametrize(
    "after",
    [
        lambda x: x,  # nothing changed
        lambda x: x.reshape(1, -1),  # another shape
        lambda x: x.astype(np.float32),  # another dtype
        lambda x: np.where(x > 0, x, 0.0),  # other bytes
    ],
)
def test_synced_says_what_changed(after):
    from grader.boundary.proxy import compare, snapshot

    x = np.array([0.5, -1.0, 2.0])
    changed, reshaped = compare(snapshot(x), after(x.copy()))
    same = after(x.copy())
    assert changed == (same.shape != x.shape or same.dtype != x.dtype or same.tobytes() != x.tobytes())
    assert reshaped == (same.shape != x.shape or same.dtype != x.dtype)
    assert Synced(x).changed is None  # nothing is known before the call
