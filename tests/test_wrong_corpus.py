"""Known-wrong implementations lose points on the exercise they break — and only there.

Layout: ``tests/wrong/chapterN/<case>/<module>.py`` is a solution module with one
plausible student mistake; ``breaks.txt`` beside it lists the exercise ids that must
lose points. Each case is graded on a copy of the chapter's solutions with the wrong
module(s) laid over it."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from grader.catalog import load_catalog
from grader.runner import run_check

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "wrong"
CATALOG = load_catalog()


def _cases():
    for case in sorted(CORPUS.glob("chapter*/*/")):
        chapter = CATALOG.chapters.get(case.parent.name)
        marks = []
        if chapter is None:
            marks.append(pytest.mark.skip(reason="chapter not in the catalog"))
        elif not all(importlib.util.find_spec(n) for n in chapter.needs):
            marks.append(pytest.mark.skip(reason=f"needs {', '.join(chapter.needs)}"))
        yield pytest.param(case, id=f"{case.parent.name}/{case.name}", marks=marks)


@pytest.mark.parametrize("case", list(_cases()))
def test_wrong_implementation_loses_points_only_where_it_is_wrong(case, tmp_path):
    chapter = CATALOG.chapter(case.parent.name)
    breaks = {line.strip() for line in (case / "breaks.txt").read_text().splitlines() if line.strip()}
    assert breaks, "breaks.txt must name at least one exercise"
    assert breaks <= set(CATALOG.exercises), f"unknown ids in breaks.txt: {breaks - set(CATALOG.exercises)}"
    target = tmp_path / "target"
    shutil.copytree(REPO / "solutions" / chapter.id, target / chapter.id)
    for module in case.glob("*.py"):
        shutil.copy(module, target / chapter.id / module.name)
    report = run_check(chapter, target)
    earned = {ex: (sum(t.score for t in ts), sum(t.max_score for t in ts)) for ex, ts in report.by_exercise().items()}
    survived = sorted(ex for ex in breaks if earned[ex][0] >= earned[ex][1])
    collateral = sorted(ex for ex, (got, full) in earned.items() if ex not in breaks and got < full)
    assert not survived, f"the mistake was not caught in {survived}"
    assert not collateral, f"correct exercises lost points: {collateral}"
    for t in report.tests:
        if t.status == "failed":
            assert t.message and "Traceback" not in t.message
