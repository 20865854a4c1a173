"""``python -m grader.cli.jail [--chapter chapterN ...] [--verify] [--prune]``: build, check
or prune the jails (``grader.boundary.jail``) ahead of time, for the chapters of the catalog.

A command over the boundary: it reads the catalog (which the boundary itself never imports)
and asks the jail for the runtimes the chapters need.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from grader.boundary import jail as jail_mod
from grader.grading.catalog import load_catalog


def main(argv: list[str]) -> int:
    """``python -m grader.cli.jail [--chapter chapterN ...] [--verify] [--prune]``: build
    (or check) the jails the chapters need; ``--verify`` hashes every file again, ``--prune``
    removes every other jail."""
    verify = "--verify" in argv
    prune = "--prune" in argv
    names = [argv[i + 1] for i, a in enumerate(argv) if a == "--chapter" and i + 1 < len(argv)]
    catalog = load_catalog()
    chapters = [catalog.chapter(n) for n in names] if names else list(catalog.chapters.values())
    status = 0
    kept = set()
    for needs in sorted({tuple(getattr(c, "needs", ()) or ()) for c in chapters}):
        root = jail_mod.ensure(needs)
        jail = Path(root).parent
        kept.add(jail.name)
        problem = jail_mod._load_and_check(jail, full=verify) if verify else None
        what = "content hashes checked" if verify else "ready"
        print(f"{jail}: {'needs ' + ', '.join(needs) if needs else 'base runtime'}: {problem or what}")
        status |= problem is not None
    if prune:  # jails of runtimes no longer in use (an upgraded package makes a new one)
        with jail_mod._lock(jail_mod.base_dir()):
            for old in sorted(jail_mod.base_dir().iterdir()):
                if old.is_dir() and not old.is_symlink() and old.name not in kept:
                    shutil.rmtree(old)
                    print(f"{old}: removed")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
