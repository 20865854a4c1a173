"""Benchmark ``grade watch``: the time from a save to the verdict, against a floor.

For each chapter, ``grade watch chapterN`` runs on a copy of the workspace (stdout a pipe:
no terminal, no keys). After its first check, one of the chapter's modules is saved again
and again, alternating between the reference solution and the stub (written to a temporary
file and renamed over, as editors do), and each time we wait for the report's last line.
``save→verdict`` is from the rename to that line: file event, debounce, check, report.

``check only`` times the same edits through the warm session's API alone
(``grader.grading.warmcheck.WarmChecker.check``: no file event, debounce or drawing), and the floor
``python -c "import numpy, pytest"`` is measured in the same run, interleaved.

    python bench/bench_watch.py                  # chapters 2-7
    python bench/bench_watch.py chapter5 -n 9
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grader.grading.catalog import load_catalog  # noqa: E402 - after the path tweak above

FOOTER = "save a file to re-check"  # the report's last line (without a terminal: "· Ctrl-C to stop")


def floor_once() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import numpy, pytest"], check=True)
    return time.perf_counter() - start


def workspace_copy(into: Path) -> Path:
    shutil.copytree(REPO / "exercises", into / "exercises", ignore=shutil.ignore_patterns("*.ipynb", "*.whl"))
    return into


def module_of(chapter: str) -> str:
    """The chapter's first module that has a solution (the file the bench saves)."""
    for path in sorted((REPO / "exercises" / chapter).glob("*.py")):
        if (REPO / "solutions" / chapter / path.name).is_file():
            return path.name
    raise SystemExit(f"{chapter}: no module with a reference solution")


def save(path: Path, text: str) -> float:
    """Write ``text`` as an editor does (temporary file, then rename); the time of the rename."""
    tmp = path.with_name("." + path.name + ".bench")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return time.perf_counter()


class Lines:
    """A process's stdout lines, each with the time it was read."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:  # type: ignore[no-untyped-def]
        for line in iter(stream.readline, ""):
            self.lines.put((time.perf_counter(), line))
        self.lines.put((time.perf_counter(), ""))

    def until(self, text: str, timeout: float = 120.0) -> tuple[float, list[str]]:
        seen: list[str] = []
        end = time.monotonic() + timeout
        while True:
            at, line = self.lines.get(timeout=max(0.1, end - time.monotonic()))
            if not line:
                raise SystemExit("grade watch ended early:\n" + "".join(seen[-30:]))
            seen.append(line)
            if text in line:
                return at, seen


def bench_chapter(chapter: str, runs: int, floors: list[float]) -> dict[str, float]:
    name = module_of(chapter)
    stub = (REPO / "exercises" / chapter / name).read_text(encoding="utf-8")
    solution = (REPO / "solutions" / chapter / name).read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        ws = workspace_copy(Path(tmp))
        for other in (REPO / "solutions" / chapter).glob("*.py"):  # the rest of the chapter solved
            if other.name != name:
                shutil.copy(other, ws / "exercises" / chapter / other.name)
        target = ws / "exercises" / chapter / name
        env = dict(os.environ, GRADE_LANG="en", COLUMNS="120")
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        proc = subprocess.Popen(
            [sys.executable, "-m", "grader", "watch", chapter], cwd=ws, env=env, text=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        verdicts: list[float] = []
        try:
            out = Lines(proc.stdout)
            first_at, _ = out.until(FOOTER)
            for i in range(runs):
                floors.append(floor_once())
                time.sleep(0.3)  # the watch is idle, as between two saves
                saved = save(target, solution if i % 2 == 0 else stub)
                at, seen = out.until(FOOTER)
                if not any("score" in line for line in seen):
                    raise SystemExit(f"{chapter}: no verdict after a save:\n" + "".join(seen[-20:]))
                verdicts.append(at - saved)
        finally:
            proc.terminate()
            proc.wait(timeout=10)

        # the same edits through the warm session's API alone
        from grader.grading.warmcheck import WarmChecker

        checker = WarmChecker(load_catalog().chapter(chapter), ws / "exercises")
        checks: list[float] = []
        try:
            checker.check(ws / "exercises")  # the first (the server's start-up and collection)
            for i in range(runs):
                save(target, solution if i % 2 == 0 else stub)
                start = time.perf_counter()
                checker.check(ws / "exercises")
                checks.append(time.perf_counter() - start)
        finally:
            checker.close()
    return {"verdict": statistics.median(verdicts), "best": min(verdicts), "check": statistics.median(checks)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*")
    parser.add_argument("-n", "--runs", type=int, default=7)
    args = parser.parse_args()
    catalog = load_catalog()
    # Byte code for the grader as an installed wheel has it: an editable install run with
    # PYTHONDONTWRITEBYTECODE set (as here) would compile every module on every run.
    import compileall

    compileall.compile_dir(str(REPO / "grader"), quiet=1)
    chapters = args.chapters or [c.id for c in catalog.chapters.values() if not c.needs and (REPO / "solutions" / c.id).is_dir()]
    floors: list[float] = []
    rows = {ch: bench_chapter(ch, args.runs, floors) for ch in chapters}
    floor = statistics.median(floors)
    print(f"floor: python -c 'import numpy, pytest'  median {floor:.3f} s over {len(floors)} runs")
    print(f"{'chapter':<10} {'save→verdict s':>15} {'best s':>7} {'× floor':>8} {'check only s':>13} {'target':>7}")
    for ch, row in rows.items():
        ok = "ok" if row["verdict"] <= 0.2 else "over"
        print(f"{ch:<10} {row['verdict']:>15.3f} {row['best']:>7.3f} {row['verdict'] / floor:>8.2f} {row['check']:>13.3f} {ok:>7}")
    print(f"target: save→verdict ≤ 0.2 s; load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
