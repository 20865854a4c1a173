"""Benchmark `grade check` against the floor `python -c "import numpy, pytest"`.

Machines are noisy, so each command runs several times (interleaved) and we report
medians and the ratio to the floor measured in the same run.

    python bench/bench_check.py                 # every chapter without heavy needs
    python bench/bench_check.py chapter2 -n 9   # one chapter, 9 runs each
    python bench/bench_check.py --sandbox none  # CPU of the worker counted too (see below)

The summary gives, per chapter, the ratio of the median wall time of ``grade check`` to
the floor's, for the stubs and for the solutions (the target is at most 2), the same ratio
of CPU time, and the ratio of each command's fastest run to the floor's fastest (on a busy
machine a better guess at an idle one than the medians). CPU time is the process tree's as
the kernel reports it to its parent:
a worker inside bubblewrap is reaped in its own PID namespace and is not counted, so with
the default sandbox the CPU column is the grader's side alone; ``--sandbox none`` (the
worker's own namespaces, same limits and seccomp) counts the worker too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grader.grading.catalog import load_catalog  # noqa: E402 - after the path tweak above


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds (user + sys) of the command's whole process tree:
    on a shared machine wall time also measures the neighbours, CPU time much less."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*")
    parser.add_argument("-n", "--runs", type=int, default=5)
    parser.add_argument("--sandbox", default=None, choices=("auto", "bwrap", "none"))
    args = parser.parse_args()
    catalog = load_catalog()
    # Byte code for the grader as an installed wheel has it: an editable install run with
    # PYTHONDONTWRITEBYTECODE set (as here) would compile every module on every run.
    import compileall

    compileall.compile_dir(str(REPO / "grader"), quiet=1)
    chapters = args.chapters or [c.id for c in catalog.chapters.values() if not c.needs]
    grade = shutil.which("grade") or ""
    base = [grade] if grade else [sys.executable, "-m", "grader"]
    commands = {"floor: python -c 'import numpy, pytest'": [sys.executable, "-c", "import numpy, pytest"]}
    commands["grade --help"] = [*base, "--help"]
    extra = ["--sandbox", args.sandbox] if args.sandbox else []
    for ch in chapters:
        commands[f"grade check {ch} (stubs)"] = [*base, "check", ch, *extra]
        commands[f"grade check {ch} --solutions"] = [*base, "check", ch, "--solutions", *extra]
    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
    load_before = os.getloadavg()[0]
    for _ in range(args.runs):
        for name, cmd in commands.items():
            samples[name].append(timed(cmd))
    floor = statistics.median(w for w, _ in next(iter(samples.values())))
    floor_min = min(w for w, _ in next(iter(samples.values())))
    floor_cpu = statistics.median(c for _, c in next(iter(samples.values())))
    print(f"{'command':<44} {'median s':>9} {'min s':>7} {'× floor':>8} {'cpu s':>7} {'cpu × floor':>12}")
    ratios: dict[str, tuple[float, float, float]] = {}
    for name, values in samples.items():
        walls = [w for w, _ in values]
        med = statistics.median(walls)
        cpu = statistics.median(c for _, c in values)
        ratios[name] = (med / floor, cpu / floor_cpu, min(walls) / floor_min)
        print(f"{name:<44} {med:>9.3f} {min(walls):>7.3f} {med / floor:>8.2f} {cpu:>7.3f} {cpu / floor_cpu:>12.2f}")
    print()
    # On a busy machine the fastest run of each is the better guess at an idle one: "min" compares
    # each command's fastest run with the floor's fastest.
    print(f"{'chapter':<10} {'stubs × floor':>14} {'solutions × floor':>18} {'cpu: stubs':>11} {'solutions':>10}"
          f" {'min: stubs':>11} {'solutions':>10}  (target ≤ 2)")
    for ch in chapters:
        stubs, sols = ratios[f"grade check {ch} (stubs)"], ratios[f"grade check {ch} --solutions"]
        print(f"{ch:<10} {stubs[0]:>14.2f} {sols[0]:>18.2f} {stubs[1]:>11.2f} {sols[1]:>10.2f} {stubs[2]:>11.2f} {sols[2]:>10.2f}")
    print(f"sandbox: {args.sandbox or 'auto'}; load average (1 min) at the start: {load_before:.1f}, at the end: "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
