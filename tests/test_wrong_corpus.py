"""Known-wrong implementations lose points on the exercise they break — and only there.

The cases live in ``tests/wrong/chapterN.toml`` as patches against the reference solutions
(see ``tests/corpus.py``): each is one plausible student mistake, with ``breaks`` naming the
exercise ids that must lose points. Each case is graded on a copy of the chapter's solutions
with the patched module laid over it."""

from __future__ import annotations

import pytest
from corpus import SOLUTIONS, cases, params

from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check

CATALOG = load_catalog()
CASES = cases("wrong")


def test_every_case_applies_to_the_current_solutions():
    """A patch whose old text left the solution would quietly test the solution itself."""
    assert len(CASES) >= 100
    for case in CASES:
        assert case.breaks, f"{case.id}: breaks must name at least one exercise"
        assert set(case.breaks) <= set(CATALOG.exercises), (
            f"{case.id}: unknown ids {set(case.breaks) - set(CATALOG.exercises)}"
        )
        assert case.source() != (SOLUTIONS / case.chapter / case.file).read_text(encoding="utf-8"), case.id
        compile(case.source(), f"{case.id}/{case.file}", "exec")  # a patch that breaks the syntax tests nothing


@pytest.mark.parametrize("case", params("wrong"))
def test_wrong_implementation_loses_points_only_where_it_is_wrong(case, tmp_path):
    chapter = CATALOG.chapter(case.chapter)
    report = run_check(chapter, case.target(tmp_path / "target"))
    earned = {ex: (sum(t.score for t in ts), sum(t.max_score for t in ts)) for ex, ts in report.by_exercise().items()}
    survived = sorted(ex for ex in case.breaks if earned[ex][0] >= earned[ex][1])
    collateral = sorted(ex for ex, (got, full) in earned.items() if ex not in case.breaks and got < full)
    assert not survived, f"the mistake was not caught in {survived}"
    assert not collateral, f"correct exercises lost points: {collateral}"
    for t in report.tests:
        if t.status == "failed":
            assert t.message and "Traceback" not in t.message
