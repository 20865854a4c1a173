"""Which wrong-corpus cases only a hidden test catches: each chapter's cases graded in one batch
with the public suites only (as a student release sees them). Prints per chapter the cases that
fail no public test, those where some exercise they break passes every public test, and any
exercise losing points that the case does not break.

    python bench/hidden_only.py                  # chapters 2-7
    python bench/hidden_only.py chapter3 chapter7
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import corpus  # noqa: E402

from grader.grading.catalog import load_catalog  # noqa: E402
from grader.instructor.batch import run_batch  # noqa: E402


def main(chapters: list[str]) -> int:
    catalog = load_catalog()
    total = 0
    for chapter in chapters:
        wrong = [c for c in corpus.cases("wrong") if c.chapter == chapter]
        with tempfile.TemporaryDirectory() as tmp:
            targets = [(c.name, c.target(Path(tmp) / c.name)) for c in wrong]
            started = time.monotonic()
            reports = run_batch(catalog.chapter(chapter), targets, public_only=True)
            elapsed = time.monotonic() - started
        hidden_only, partly, collateral = [], [], []
        for case in wrong:
            losing = {t.exercise for t in reports[case.name].tests if t.status != "passed"}
            if not losing:
                hidden_only.append(case.name)
            elif not set(case.breaks) <= losing:
                partly.append((case.name, sorted(set(case.breaks) - losing)))
            if losing - set(case.breaks):
                collateral.append((case.name, sorted(losing - set(case.breaks))))
        total += len(hidden_only)
        print(f"{chapter}: {len(wrong)} cases, {len(hidden_only)} caught only by hidden tests {hidden_only}; "
              f"exercises passing every public test {partly}; collateral {collateral}; {elapsed:.1f} s")
    print(f"caught only by hidden tests: {total}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or [f"chapter{n}" for n in range(2, 8)]))
