"""A suite that fails to load is the grader's error, never a chapter of zero tests.

(A refactor once left a name a suite imports missing: every chapter-6 check then showed
0/0 and "all passed" style emptiness instead of an error.)"""

from __future__ import annotations

import pytest

from grader.grading import runner
from grader.grading.catalog import load_catalog
from grader.instructor import batch
from grader.util.errors import InternalError


def _broken_suites(tmp_path, monkeypatch):
    suites = tmp_path / "suites"
    (suites / "chapter2").mkdir(parents=True)
    (suites / "chapter2" / "test_broken.py").write_text("from grader.grading.checks import DoesNotExist\n")
    (suites / "pytest.ini").write_text((runner.SUITES_DIR / "pytest.ini").read_text())
    monkeypatch.setattr(runner, "SUITES_DIR", suites)
    monkeypatch.setattr(batch, "SUITES_DIR", suites)


def test_a_check_whose_suites_do_not_load_is_an_internal_error(tmp_path, monkeypatch, make_target):
    _broken_suites(tmp_path, monkeypatch)
    chapter = load_catalog().chapter("chapter2")
    with pytest.raises(InternalError, match="did not load"):
        runner.run_check(chapter, make_target("chapter2"), sandbox="none")
    with pytest.raises(InternalError, match="did not load"):
        batch.run_batch(chapter, [("a", make_target("chapter2"))], sandbox="none")
