"""Issue 21, item 1: every mistake of the wrong corpus that a hidden test catches, a public test
shows too: a student with the release (public tests only) sees each one in ``grade check``.

Each numpy chapter's cases are graded in one batch session with the public suites only (the
way ``grade collect`` grades a class), so the whole corpus takes about half a minute. Before
issue 21, 20 of the 119 cases failed no public test at all (softmax without the max shift,
``step`` firing at 0, Adam without ``eps``, pooling ignoring its stride...)."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import cases

from grader.grading.catalog import load_catalog
from grader.instructor.batch import run_batch

CATALOG = load_catalog()
NUMPY_CHAPTERS = [c for c in CATALOG.chapters if c != "chapter8" and any(k.chapter == c for k in cases("wrong"))]


@pytest.mark.parametrize("chapter", NUMPY_CHAPTERS)
def test_every_wrong_case_fails_a_public_test_of_each_exercise_it_breaks(chapter: str, tmp_path: Path) -> None:
    wrong = [case for case in cases("wrong") if case.chapter == chapter]
    targets = [(case.name, case.target(tmp_path / case.name)) for case in wrong]
    reports = run_batch(CATALOG.chapter(chapter), targets, public_only=True)
    hidden_only, partly = [], []
    for case in wrong:
        report = reports[case.name]
        assert report.tests and all(t.visibility == "public" for t in report.tests)
        losing = {t.exercise for t in report.tests if t.status != "passed"}
        if not losing:
            hidden_only.append(case.name)
        elif not set(case.breaks) <= losing:
            partly.append(f"{case.name}: {sorted(set(case.breaks) - losing)}")
    assert not hidden_only, f"caught by hidden tests only: {hidden_only}"
    assert not partly, f"an exercise the case breaks passes every public test: {partly}"
