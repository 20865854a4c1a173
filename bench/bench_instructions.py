"""Benchmark: instructions the grader's side executes per submission-chapter in a batch.

Wall-clock rates on a shared virtual machine move by 15-30 % between identical runs, which
hides any change smaller than that. The number of instructions a process executes hardly
moves (well under 1 %), so this runs each chapter's batch session (``run_batch``, the unit of
``grade collect``) with the grader's pytest process under Valgrind's callgrind, twice: with
``--small`` submissions and with ``--n`` submissions of the collect benchmark's mix (correct,
wrong, stubs; generated with a fixed seed). The difference divided by the extra submissions
is the cost of one submission-chapter on the grader's side; the rest is the session's fixed
start. The floor is ``python -c "import numpy, pytest"`` under the same tool, in the same run.

Only the grader's process is counted: the workers are forked by the fork server and killed
when their submission is done, so callgrind never writes their counts (their share is
measured in wall-clock and CPU time by ``bench_collect.py``). Sandbox ``none`` (bubblewrap
cannot start under Valgrind); the grading is the same.

    python bench/bench_instructions.py                      # chapters 2-7, --small 2 --n 10
    python bench/bench_instructions.py chapter6 --n 20 --json out.json

Needs ``valgrind`` (Debian: ``apt-get install valgrind``); Valgrind runs code ~50x slower, so
the default run takes about five minutes.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import bench_collect  # noqa: E402 - after the path tweak above

import grader.instructor.batch as batch  # noqa: E402
from grader.grading.catalog import load_catalog  # noqa: E402

TOTAL = re.compile(r"^(?:summary|totals):\s+(\d+)", re.MULTILINE)
_run = subprocess.run  # (``session`` replaces ``subprocess.run`` for the batch it starts)


def callgrind(cmd: list[str], out: Path, **kwargs) -> tuple[int, subprocess.CompletedProcess]:  # type: ignore[type-arg]
    """Run ``cmd`` with its own process under callgrind; the instructions it executed."""
    out.unlink(missing_ok=True)
    proc = _run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd], **kwargs)
    match = TOTAL.search(out.read_text(encoding="utf-8", errors="replace")) if out.exists() else None
    if match is None:
        raise SystemExit(f"callgrind wrote no count for {cmd[:3]} (exit {proc.returncode})")
    return int(match.group(1)), proc


def session(chapter_id: str, subs: list[Path], out: Path) -> int:
    """Instructions of the grader's process in one batch session grading ``subs``."""
    counted: list[int] = []

    def run(cmd, **kwargs):  # type: ignore[no-untyped-def]
        count, proc = callgrind(list(cmd), out, **kwargs)
        counted.append(count)
        return proc

    batch.subprocess.run = run  # type: ignore[attr-defined]
    try:
        reports = batch.run_batch(load_catalog().chapter(chapter_id), [(s.name, s / "exercises") for s in subs],
                                  sandbox="none", timeout=3600)
    finally:
        batch.subprocess.run = _run  # type: ignore[attr-defined]
    if len(reports) != len(subs):
        raise SystemExit(f"{chapter_id}: {len(reports)} reports for {len(subs)} submissions")
    return counted[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("chapters", nargs="*")
    ap.add_argument("--small", type=int, default=2, help="submissions in the first session (default 2)")
    ap.add_argument("--n", type=int, default=10, help="submissions in the second session (default 10)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    if args.n <= args.small:
        raise SystemExit("--n must be larger than --small")
    chapters = args.chapters or bench_collect.chapters_present()
    with tempfile.TemporaryDirectory(prefix="bench-instr-") as tmp:
        root = Path(tmp)
        bench_collect.generate(root / "subs", args.n, bench_collect.chapters_present(), seed=7)
        subs = sorted((root / "subs").iterdir())
        out = root / "callgrind.out"
        floor, _ = callgrind([sys.executable, "-c", "import numpy, pytest"], out, capture_output=True)
        print(f"floor `python -c \"import numpy, pytest\"`: {floor / 1e6:.0f} M instructions")
        print(f"{'chapter':10} {'per submission-chapter':>24} {'session start':>16}")
        rows = {}
        for chapter_id in chapters:
            few = session(chapter_id, subs[: args.small], out)
            many = session(chapter_id, subs, out)
            marginal = (many - few) / (args.n - args.small)
            fixed = few - args.small * marginal
            rows[chapter_id] = {"marginal": marginal, "fixed": fixed}
            print(f"{chapter_id:10} {marginal / 1e6:15.1f} M ({marginal / floor:4.2f}x) "
                  f"{fixed / 1e6:9.0f} M ({fixed / floor:4.2f}x)", flush=True)
        mean = sum(r["marginal"] for r in rows.values()) / len(rows)
        print(f"mean over chapters: {mean / 1e6:.1f} M per submission-chapter ({mean / floor:.2f}x the floor)")
        if args.json:
            args.json.write_text(json.dumps({"floor": floor, "chapters": rows, "small": args.small, "n": args.n},
                                            indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
