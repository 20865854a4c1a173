"""Grade one student's folder ALONE, chapter by chapter, in this fresh process: the reference
side of tests/test_batch_equals_alone.py.

    python tests/alone_check.py OUT.json FOLDER CHAPTER [CHAPTER ...]

Nothing of another student is in this process. The numpy chapters run pytest in this process
(``run_check(in_process=True)``: each chapter has its own suite modules, so no suite module is
reused); chapters that need TensorFlow run in a fresh pytest process as ``grade check`` does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    from grader.grading.catalog import load_catalog
    from grader.grading.runner import run_check

    out, folder, chapters = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    verdicts = {}
    for cid in chapters:
        chapter = load_catalog().chapter(cid)
        report = run_check(chapter, folder, in_process=not chapter.needs)
        verdicts[cid] = [[t.exercise, t.name, t.status, t.score] for t in report.tests]
    out.write_text(json.dumps(verdicts), encoding="utf-8")


if __name__ == "__main__":
    main()
