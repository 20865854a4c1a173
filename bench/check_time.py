"""Wall and CPU time of `grade check CHAPTER --solutions`, median of N runs.

    python bench/check_time.py chapter3 chapter4 [--runs 5]

Each run is a fresh `grade` process, as a student would start it. The budget is 1 s wall per
numpy chapter on a 2-core machine (DESIGN.md); CPU time (user + sys of the whole process tree)
is printed too because wall time on a shared machine also measures the neighbours.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time


def one_run(chapter: str) -> tuple[float, float]:
    grade = shutil.which("grade")
    command = (
        [grade, "check", chapter, "--solutions"]
        if grade
        else [sys.executable, "-m", "grader", "check", chapter, "--solutions"]
    )
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = os.times()
    if proc.returncode != 0:
        raise SystemExit(f"grade check {chapter} --solutions exited with {proc.returncode}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for chapter in args.chapters:
        runs = [one_run(chapter) for _ in range(args.runs)]
        walls = [w for w, _ in runs]
        cpus = [c for _, c in runs]
        print(
            f"{chapter}: wall median {statistics.median(walls):.2f} s (runs {' '.join(f'{w:.2f}' for w in walls)}), "
            f"cpu median {statistics.median(cpus):.2f} s, load {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
