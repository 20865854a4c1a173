"""Benchmark: grade collect throughput (submission-chapters per second).

Generates N submissions (default 200) for the numpy chapters present in the catalog
(chapters 2-7; chapters that need tensorflow are left out): a mix of correct (a copy of
solutions/), wrong (solutions with a mutation) and not attempted (the stubs). Then:

  * collect with --workers 1 and --workers 2 (batch mode: one pytest session per chapter
    and batch, workers forked from a fork server), each into a fresh gradebook;
  * the naive baseline: one fresh ``run_check`` (a new pytest process and worker) per
    submission-chapter, 2 in parallel, on a sample of the submissions (its rate does not
    depend on how many there are); the floor of the ratio batch (2 workers) / naive;
  * absent chapters: the same submissions collected for the chapters none of them holds
    (chapter 8 and any other chapter with suites outside the mix), each recorded as not
    submitted; the cost per absent submission-chapter (whole collect: reading, hashing,
    gradebook writes), against the budget of 0.05 s and one graded submission-chapter.

The graded collects ask for the mix's chapters only, so their rate is the grading's.

CPU seconds are this process's and its finished descendants' (getrusage). Under
bubblewrap the sandboxed processes are reaped inside their PID namespace and do not
show up there, so compare CPU costs with ``--sandbox none`` (same work, same limits,
seccomp and a private mount namespace instead of bwrap); wall-clock rates are honest
either way but depend on how busy the machine is (the load average is printed).

Run: python bench/bench_collect.py [--n 200] [--naive-sample 20] [--sandbox auto|none]

Targets (issue 22): 2 workers >= 40 submission-chapters/s and >= 10x naive; absent <= 0.05 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grader.grading.catalog import load_catalog  # noqa: E402
from grader.grading.runner import run_check, suite_files  # noqa: E402
from grader.instructor.collect import collect  # noqa: E402

MUTATIONS = [(" + ", " - "), ("> 0", "> 5"), (" * ", " + "), ("np.max", "np.min"), ("np.exp", "np.abs"),
             ("np.sum", "np.mean"), ("1e-7", "1.0")]


def chapters_absent(present: list[str]) -> list[str]:
    """Chapters with suites that no generated submission holds (chapter 8)."""
    return [c.id for c in load_catalog().chapters.values() if suite_files(c) and c.id not in present]


def chapters_present() -> list[str]:
    return [
        c.id for c in load_catalog().chapters.values()
        if 2 <= c.number <= 7 and not c.needs and suite_files(c) and (REPO / "solutions" / c.id).is_dir()
    ]


def mutate(text: str, rng: random.Random) -> str:
    options = [m for m in MUTATIONS if m[0] in text]
    if not options:
        return text + "\n\ndef _unused():\n    return 0\n"
    a, b = rng.choice(options)
    return text.replace(a, b)


def generate(root: Path, n: int, chapters: list[str], seed: int = 0) -> dict[str, int]:
    rng = random.Random(seed)
    kinds = {"correct": 0, "wrong": 0, "stub": 0}
    for i in range(n):
        kind = rng.choices(["correct", "wrong", "stub"], weights=[40, 35, 25])[0]
        kinds[kind] += 1
        for ch in chapters:
            src = REPO / ("exercises" if kind == "stub" else "solutions") / ch
            dst = root / f"s{i:03d}" / "exercises" / ch
            dst.mkdir(parents=True)
            for f in src.glob("*.py"):
                text = f.read_text(encoding="utf-8")
                if kind == "wrong":
                    text = mutate(text, rng)
                (dst / f.name).write_text(text + f"\n# submission {i}\n", encoding="utf-8")
    return kinds


def cpu_seconds() -> float:
    """CPU time of this process and every finished descendant (pytest sessions, workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def naive(subs: list[Path], chapters: list[str], workers: int, sandbox: str) -> tuple[float, float]:
    catalog = load_catalog()
    jobs = [(catalog.chapter(ch), s / "exercises") for s in subs for ch in chapters]
    started, cpu = time.monotonic(), cpu_seconds()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda job: run_check(job[0], job[1], sandbox=sandbox), jobs))
    return len(jobs) / (time.monotonic() - started), (cpu_seconds() - cpu) / len(jobs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--naive-sample", type=int, default=20)
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--sandbox", default="auto")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    chapters = chapters_present()
    tmp = Path(tempfile.mkdtemp(prefix="bench-collect-"))
    results: dict[str, object] = {"chapters": chapters, "submissions": args.n}
    try:
        subs = tmp / "subs"
        results["kinds"] = generate(subs, args.n, chapters)
        print(f"{args.n} submissions × {len(chapters)} chapters ({', '.join(chapters)}): {results['kinds']}")
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        for w in args.workers:
            cpu = cpu_seconds()
            summary = collect([subs], tmp / f"gb-{w}.sqlite", workers=w, sandbox=args.sandbox, chapters=chapters)
            assert summary.graded == args.n and not summary.failed, summary
            n_sc = args.n * len(chapters)
            rate = n_sc / summary.elapsed
            cpu_per = (cpu_seconds() - cpu) / n_sc
            results[f"batch_workers_{w}"] = {"rate": round(rate, 2), "cpu_s_per_submission_chapter": round(cpu_per, 4)}
            print(f"batch collect, {w} worker(s): {summary.elapsed:6.1f} s  {rate:6.1f} submission-chapters/s"
                  f"  ({1000 * cpu_per:.0f} ms CPU each; 2 idle cores would give {2 / cpu_per:.0f}/s)"
                  f"  load {os.getloadavg()[0]:.1f}")
            iso = summary.isolation
        results["isolation"] = iso
        sample = sorted(subs.iterdir())[: args.naive_sample]
        rate, cpu_per = naive(sample, chapters, 2, args.sandbox)
        results["naive_2_workers"] = {"rate": round(rate, 2), "cpu_s_per_submission_chapter": round(cpu_per, 4)}
        print(f"naive (fresh run_check per submission-chapter, 2 in parallel, {len(sample)} submissions): "
              f"{rate:6.1f} submission-chapters/s  ({1000 * cpu_per:.0f} ms CPU each; "
              f"2 idle cores would give {2 / cpu_per:.1f}/s)  load {os.getloadavg()[0]:.1f}")
        if 2 in args.workers:
            batch2 = results["batch_workers_2"]["rate"]  # type: ignore[index]
            ratio = batch2 / rate
            results["batch_2_over_naive"] = round(ratio, 2)
            print(f"batch (2 workers) / naive: {ratio:.1f}x  (target >= 10x; batch target >= 40/s: "
                  f"{'met' if batch2 >= 40 else 'not met'} at {batch2:.1f}/s)")
        absent = chapters_absent(chapters)
        if absent:
            from grader.instructor.collect import plan_chapters

            gradable, not_here = plan_chapters(absent)
            started = time.monotonic()
            summary = collect([subs], tmp / "gb-absent.sqlite", workers=2, sandbox=args.sandbox, chapters=absent)
            elapsed = time.monotonic() - started
            n_abs = args.n * len(absent)
            per = elapsed / n_abs
            graded_one = 1 / results[f"batch_workers_{min(args.workers)}"]["rate"]  # type: ignore[index]
            results["absent"] = {"chapters": absent, "s_per_submission_chapter": round(per, 5),
                                 "not_graded_here": sorted(not_here)}
            how = ("recorded as not submitted" if gradable else
                   f"not installed here ({', '.join(not_here.values())}): recorded as not graded")
            print(f"absent chapters ({', '.join(absent)}; {how}): {n_abs} submission-chapters in {elapsed:.2f} s = "
                  f"{1000 * per:.1f} ms each (budget 50 ms; a graded one costs {1000 * graded_one:.0f} ms "
                  f"with {min(args.workers)} worker(s))  load {os.getloadavg()[0]:.1f}")
        print("isolation:", ", ".join(iso))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
