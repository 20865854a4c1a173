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


def write_batch_targets(root: Path, students: dict[str, str]) -> None:
    """A batch's targets under ``root``: a folder per key holding ``chapter2/perceptron.py`` with
    that source, and ``root/targets.json`` listing them (what ``--grader-targets`` reads)."""
    import json
    import textwrap

    listing = []
    for key, src in students.items():
        folder = root / key / "chapter2"
        folder.mkdir(parents=True)
        (folder / "perceptron.py").write_text(textwrap.dedent(src))
        listing.append({"key": key, "path": str(folder.parent)})
    (root / "targets.json").write_text(json.dumps(listing))
