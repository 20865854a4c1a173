"""Shared fixtures for the grader's own tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytest_plugins = ["pytester"]


@pytest.fixture
def make_target(tmp_path: Path):
    """Build a folder laid out like exercises/: start from stubs or solutions, then override files."""

    def make(chapter: str, files: dict[str, str] | None = None, base: str = "solutions") -> Path:
        target = tmp_path / f"target-{len(list(tmp_path.iterdir()))}"
        (target / chapter).mkdir(parents=True)
        src = REPO / base / chapter
        if src.is_dir():
            for f in src.glob("*.py"):
                shutil.copy(f, target / chapter / f.name)
        for name, text in (files or {}).items():
            (target / chapter / name).write_text(text, encoding="utf-8")
        return target

    return make


def has_bwrap() -> bool:
    from grader.boundary.sandbox import bwrap_works

    return bwrap_works()
