"""Correct implementations written differently from the reference keep full points.

Layout: ``tests/right/chapterN/<case>/<module>.py`` is a correct module that differs from
the solution in ways the book's readers really choose (textbook Adam with m_hat/v_hat, the
compact BatchNorm backward, a list of layers instead of an OrderedDict, numpy scalars as
return values, ...). Graded over a copy of the chapter's solutions, nothing may lose points:
the suites judge behaviour, not one way of writing it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.catalog import load_catalog
from grader.runner import run_check

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "right"
CATALOG = load_catalog()
CASES = sorted(CORPUS.glob("chapter*/*/"))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_correct_variant_keeps_full_points(case, tmp_path):
    chapter = CATALOG.chapter(case.parent.name)
    target = tmp_path / "target"
    shutil.copytree(REPO / "solutions" / chapter.id, target / chapter.id)
    modules = list(case.glob("*.py"))
    assert modules, "a case holds at least one module"
    for module in modules:
        shutil.copy(module, target / chapter.id / module.name)
    report = run_check(chapter, target)
    lost = [(t.exercise, t.name, t.status, t.message) for t in report.tests if t.status != "passed"]
    assert not lost
    assert report.score == report.max_score > 0
