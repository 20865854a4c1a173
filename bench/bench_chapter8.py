"""Benchmark `grade check chapter8` (the Keras chapter) against its budget of 25 s wall.

The floor is `python -c "import keras"` (TensorFlow's import alone); the check imports
keras twice in parallel (the Keras helper and the worker), builds and saves a dozen
small models and trains a few (the student's classifier on 341 rows with early stopping, twice).
Machines are noisy: commands run interleaved, several times, and we report medians,
the slowest tests of the median solutions run, and the load average.

    python bench/bench_chapter8.py          # 3 runs each
    python bench/bench_chapter8.py -n 5
    python bench/bench_chapter8.py --batch 4   # CPU per submission when grade collect grades
                                               # 4 copies of the solutions in one batch

``--batch N`` runs the batch session ``grade collect`` runs (one pytest session, a fresh
worker per submission forked from the fork server, a fresh Keras helper per submission) on
N copies of the reference solution with ``--sandbox none`` (bubblewrap's PID namespace hides
the workers' CPU from getrusage), and reports the CPU seconds of every process per
submission against the floor measured in the same run: the CPU of ``python -c "import
keras"`` (what one fresh process pays before any work). Budget: 6 s of CPU per submission.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUDGET_S = 25.0
BATCH_CPU_BUDGET_S = 6.0


def children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def batch_mode(n: int) -> None:
    """CPU per submission of chapter 8 graded in one batch (see the module's docstring)."""
    import tempfile

    sys.path.insert(0, str(REPO))
    from grader.grading.catalog import load_catalog
    from grader.instructor.batch import run_batch

    env_cpu = children_cpu()
    subprocess.run([sys.executable, "-c", "import keras"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), check=True)
    floor = children_cpu() - env_cpu
    chapter = load_catalog().chapter("chapter8")
    with tempfile.TemporaryDirectory(prefix="bench-ch8-") as tmp:
        targets = []
        for i in range(n):
            dst = Path(tmp) / f"s{i}" / "exercises"
            shutil.copytree(REPO / "solutions" / "chapter8", dst / "chapter8")
            targets.append((f"s{i}", dst))
        load = os.getloadavg()[0]
        cpu, started = children_cpu(), time.perf_counter()
        reports = run_batch(chapter, targets, sandbox="none")
        wall, cpu = time.perf_counter() - started, children_cpu() - cpu
    scores = sorted({f"{r.score:g}/{r.max_score:g}" for r in reports.values()})
    per = cpu / n
    verdict = "within" if per <= BATCH_CPU_BUDGET_S else "OVER"
    print(f"floor: python -c 'import keras'  {floor:6.2f} s CPU")
    print(f"chapter 8 batch of {n} solutions: {wall:6.1f} s wall, {cpu:6.1f} s CPU = {per:5.2f} s CPU per submission "
          f"({per / floor:.2f}x the floor); scores {', '.join(scores)}")
    print(f"budget {BATCH_CPU_BUDGET_S:g} s CPU per submission: {verdict} it")
    print(f"load average: {load:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs")


def timed(cmd: list[str]) -> tuple[float, str]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO, env=env)
    return time.perf_counter() - start, proc.stdout.decode("utf-8", "replace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, metavar="N", help="CPU per submission in a batch of N solutions")
    args = parser.parse_args()
    if args.batch:
        batch_mode(args.batch)
        return
    grade = shutil.which("grade")
    base = [grade] if grade else [sys.executable, "-m", "grader"]
    commands = {
        "floor: python -c 'import keras'": [sys.executable, "-c", "import keras"],
        "grade check chapter8 (stubs)": [*base, "check", "chapter8"],
        "grade check chapter8 --solutions": [*base, "check", "chapter8", "--solutions", "--json"],
    }
    samples: dict[str, list[float]] = {k: [] for k in commands}
    reports: list[tuple[float, dict]] = []
    loads = []
    for _ in range(args.runs):
        for name, cmd in commands.items():
            seconds, out = timed(cmd)
            samples[name].append(seconds)
            if name.endswith("--solutions"):
                try:
                    reports.append((seconds, json.loads(out)))
                except ValueError:
                    pass
        loads.append(os.getloadavg()[0])
    print(f"{'command':<36} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, values in samples.items():
        print(f"{name:<36} {statistics.median(values):>9.2f} {min(values):>7.2f} {max(values):>7.2f}")
    solutions = statistics.median(samples["grade check chapter8 --solutions"])
    verdict = "within" if solutions <= BUDGET_S else "OVER"
    print(f"\nbudget {BUDGET_S:.0f} s: the solutions check is {verdict} it ({solutions:.2f} s median)")
    print(f"load average during the runs: {', '.join(f'{x:.1f}' for x in loads)} on {os.cpu_count()} CPUs")
    if reports:
        reports.sort(key=lambda r: r[0])
        _, median_report = reports[len(reports) // 2]
        score = f"{median_report['score']:g}/{median_report['max_score']:g}"
        print(f"median solutions run: score {score}, tests took {sum(t['duration'] for t in median_report['tests']):.2f} s")
        for t in sorted(median_report["tests"], key=lambda t: -t["duration"])[:4]:
            print(f"  {t['duration']:6.2f} s  {t['name']}")


if __name__ == "__main__":
    main()
