"""Issue 13, item 9: public tests, named for what they catch, catch these mistakes already in
``grade check`` of a student release (not only at collection, with the hidden tests)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import corpus
import pytest
from typer.testing import CliRunner

from grader.cli import app
from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("case", "exercise", "test"),
    [
        (
            "chapter4/numerical_diff_absolute_value",
            "chapter4.numerical_diff",
            "test_numerical_diff_keeps_the_sign_of_a_negative_slope",
        ),
        ("chapter4/numerical_gradient_1d_only", "chapter4.numerical_gradient", "test_numerical_gradient_of_a_matrix"),
        (
            "chapter4/numerical_gradient_does_not_restore_x",
            "chapter4.numerical_gradient",
            "test_numerical_gradient_puts_x_back",
        ),
        ("chapter5/relu_forward_edits_its_input", "chapter5.Relu", "test_relu_forward_leaves_its_input_alone"),
    ],
)
def test_a_public_test_catches_the_mistake(tmp_path: Path, case: str, exercise: str, test: str) -> None:
    wrong = corpus.case("wrong", case)
    target = wrong.target(tmp_path / "target")
    # what a student with the release (public tests only) sees from `grade check`
    result = CliRunner().invoke(app, ["check", wrong.chapter, "--path", str(target), "--public", "--json"])
    assert result.exit_code == 1, result.output
    tests = json.loads(result.output)["tests"]
    failing = {t["name"] for t in tests if t["status"] != "passed" and t["exercise"] == exercise}
    assert test in failing, failing
    assert all(t["visibility"] == "public" for t in tests)


def test_a_vectors_only_gradient_fails_only_the_tests_named_for_matrices(tmp_path: Path) -> None:
    """A numerical_gradient that handles only 1-D arrays used to fail the 'h value' and
    'leaves x unchanged' tests too, whose names sent the student looking elsewhere."""
    wrong = corpus.case("wrong", "chapter4/numerical_gradient_1d_only")
    report = run_check(load_catalog().chapter(wrong.chapter), wrong.target(tmp_path / "target"))
    failing = {t.name for t in report.tests if t.status != "passed" and t.exercise == "chapter4.numerical_gradient"}
    assert "test_numerical_gradient_of_a_matrix" in failing
    assert failing and all(re.search(r"matrix|2d|3d", name) for name in failing), failing
