"""A pytest plugin that only counts: hidden tests and points per chapter (for a release).

Loaded with ``-p grader.instructor.counting --collect-only``; writes
``{"chapter3": {"tests": 12, "points": 15.0}, ...}`` to ``--grader-count-out``.
Counts only: no names, no code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("grader").addoption("--grader-count-out", help="where to write the hidden-test counts")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    out = config.getoption("grader_count_out")
    if not out:
        return
    counts: dict[str, dict[str, float]] = {}
    for item in items:
        path = Path(str(item.path))
        if not path.stem.endswith("_hidden"):
            continue
        entry = counts.setdefault(path.parent.name, {"tests": 0, "points": 0.0})
        marker = item.get_closest_marker("points")
        entry["tests"] += 1
        entry["points"] += float(marker.args[0]) if marker else 1.0
    Path(out).write_text(json.dumps(counts, sort_keys=True), encoding="utf-8")
