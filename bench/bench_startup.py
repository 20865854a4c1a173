"""Start-up time of the CLI: `grade --help` and `grade` (the welcome) against `python -c pass`.

Budget (DESIGN.md): `grade --help` <= 0.3 s. Run from the repository root with the package installed:

    python bench/bench_startup.py            # 20 runs each, medians
    python bench/bench_startup.py --runs 50 --json

Each command runs in a fresh process (like a student typing it), in a scratch copy of
exercises/ so the welcome reads a real workspace without touching yours. Output is discarded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_HELP_S = 0.3


def grade_command() -> list[str]:
    """The installed `grade` script next to this interpreter, else `python -m grader`."""
    script = Path(sys.executable).with_name("grade")
    return [str(script)] if script.exists() else [sys.executable, "-m", "grader"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_runs(command: list[str], runs: int, cwd: Path, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Wall seconds and CPU seconds (user + sys) of each run. On a busy machine the CPU time is
    the steadier number: wall time also counts waiting for a core."""
    subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)  # warm the page cache
    walls, cpus = [], []
    for _ in range(runs):
        cpu0 = _children_cpu()
        start = time.perf_counter()
        proc = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        walls.append(time.perf_counter() - start)
        cpus.append(_children_cpu() - cpu0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed: {proc.stderr.decode(errors='replace')}")
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    grade = grade_command()
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "grade --help": [*grade, "--help"],
        "grade (welcome)": grade,
        "grade status": [*grade, "status"],
    }
    env = dict(os.environ, GRADE_LANG="en", COLUMNS="100")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        shutil.copytree(ROOT / "exercises", Path(tmp) / "exercises")
        for name, command in cases.items():
            times, cpus = time_runs(command, args.runs, Path(tmp), env)
            results[name] = {
                "median_s": statistics.median(times),
                "min_s": min(times),
                "max_s": max(times),
                "cpu_median_s": statistics.median(cpus),
                "runs": len(times),
            }

    base = results["python -c pass"]["median_s"]
    if args.json:
        print(json.dumps({"results": results, "budget_help_s": BUDGET_HELP_S}, indent=2))
    else:
        print(f"{'command':<18} {'median':>8} {'min':>8} {'max':>8} {'over python':>12} {'cpu median':>11}")
        for name, r in results.items():
            print(
                f"{name:<18} {r['median_s']:8.3f} {r['min_s']:8.3f} {r['max_s']:8.3f}"
                f" {r['median_s'] - base:+12.3f} {r['cpu_median_s']:11.3f}"
            )
        verdict = "within" if results["grade --help"]["median_s"] <= BUDGET_HELP_S else "OVER"
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(
            f"grade --help is {verdict} the {BUDGET_HELP_S} s budget (median wall; {args.runs} runs each, "
            f"{sys.platform}, python {sys.version.split()[0]}, {os.cpu_count()} cpus, load average {load:.1f})"
        )


if __name__ == "__main__":
    main()
