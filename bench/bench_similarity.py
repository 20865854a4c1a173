"""Similarity benchmark: planted copies among the corpus's independent students.

    python bench/bench_similarity.py [--n 30] [--copydetect]

Builds the class of ``tests/similarity_class.py`` (independent students from the
correctness corpus, five planted pairs disguised by renaming, reordering independent
statements and re-commenting), ranks the student pairs with dl-grade's comparison and,
with ``--copydetect`` (``pip install copydetect``), with copydetect 0.5.0 on the same files
(one file per student and module, ``same_name_only``, the stubs and solutions as
boilerplate), and prints the planted pairs' ranks, the best-scored independent pairs and
the CPU time of each against a floor (tokenizing every file once) measured in the same run.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
import tokenize
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.similarity_class import planted_class, write_class  # noqa: E402


def show(name: str, ranked: list[tuple[str, str, float]], planted: set[frozenset[str]], cpu: float) -> None:
    ranks = [i + 1 for i, (a, b, _s) in enumerate(ranked) if frozenset((a, b)) in planted]
    scores = [s for a, b, s in ranked if frozenset((a, b)) in planted]
    independent = [(a, b, s) for a, b, s in ranked if frozenset((a, b)) not in planted]
    above = sum(1 for a, b, s in independent if scores and s >= min(scores))
    print(f"{name}: planted pairs' ranks {ranks} of {len(ranked)} listed pairs (scores {scores}); "
          f"{len(planted) - len(ranks)} planted pair(s) not listed; independent pairs at or above the lowest "
          f"planted one: {above}; best independent: {independent[:3]}; CPU {cpu:.2f} s")


def ours(students: dict[str, dict[str, str]]) -> tuple[list[tuple[str, str, float]], float]:
    from grader.grading.catalog import load_catalog
    from grader.instructor.similarity import build_similarity, find_references

    src = {s: {k: v.encode() for k, v in files.items()} for s, files in students.items()}
    exercises = [(e.id, f"{e.chapter}/{e.module}.py", e.name) for e in load_catalog().exercises.values()]
    t = time.process_time()
    rep = build_similarity(src, exercises, find_references())
    cpu = time.process_time() - t
    return [(a, b, float(s)) for a, b, s, _ps in rep.ranked_pairs()], cpu


def _units(files: dict[str, str]) -> dict[str, str]:
    """Each exercise's definition as its own file (``chapter3.relu.py``), cut the way dl-grade cuts it."""
    from grader.grading.catalog import load_catalog
    from grader.instructor.similarity import read_module

    out = {}
    for e in load_catalog().exercises.values():
        text = files.get(f"{e.chapter}/{e.module}.py")
        if text is None:
            continue
        module = read_module(text.encode())
        unit = module.units.get(e.name)
        if unit is not None:
            out[f"{e.id}.py"] = "\n".join(module.lines[unit.first_line - 1:unit.last_line]) + "\n"
    return out


def copydetect_ranks(students: dict[str, dict[str, str]], units: bool = False
                     ) -> tuple[list[tuple[str, str, float]], float]:
    """copydetect on one file per student and module (``units``: per exercise), the stubs and
    solutions (cut the same way) as boilerplate; a pair's score is its token overlap summed."""
    from copydetect import CopyDetector

    with tempfile.TemporaryDirectory() as tmp:
        reference = {f"{d}-{k}": v for d in ("exercises", "solutions")
                     for k, v in {f"{p.parent.name}/{p.name}": p.read_text(encoding="utf-8")
                                  for p in sorted((REPO / d).glob("chapter*/*.py"))}.items()}
        if units:
            students = {s: {f"u/{k}": v for k, v in _units(f).items()} for s, f in students.items()}
            boiler = {}
            for d in ("exercises", "solutions"):
                files = {k.split("-", 1)[1]: v for k, v in reference.items() if k.startswith(d)}
                boiler.update({f"{d}/{k}": v for k, v in _units(files).items()})
        else:
            boiler = {k.replace("-", "/", 1): v for k, v in reference.items()}
        root = write_class(students, Path(tmp) / "class")
        for rel, text in boiler.items():
            (Path(tmp) / "boiler" / rel).parent.mkdir(parents=True, exist_ok=True)
            (Path(tmp) / "boiler" / rel).write_text(text, encoding="utf-8")
        dirs = [str(root / s / "exercises") for s in sorted(students)]
        t = time.process_time()
        det = CopyDetector(test_dirs=dirs, ref_dirs=dirs, boilerplate_dirs=[str(Path(tmp) / "boiler")],
                           extensions=["py"], same_name_only=True, autoopen=False, silent=True,
                           out_file=str(Path(tmp) / "report.html"))
        det.run()
        cpu = time.process_time() - t
        total: dict[tuple[str, str], float] = defaultdict(float)
        for i, f1 in enumerate(det.test_files):
            for j, f2 in enumerate(det.ref_files):
                overlap = det.token_overlap_matrix[i, j]
                a = Path(f1).relative_to(root).parts[0]
                b = Path(f2).relative_to(root).parts[0]
                if a < b and overlap > 0:
                    total[(a, b)] += float(overlap)
    ranked = sorted(((a, b, s) for (a, b), s in total.items()), key=lambda r: -r[2])
    return ranked, cpu


def floor(students: dict[str, dict[str, str]]) -> float:
    t = time.process_time()
    for files in students.values():
        for text in files.values():
            for _tok in tokenize.generate_tokens(io.StringIO(text).readline):
                pass
    return time.process_time() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=30, help="independent students (five copiers are added)")
    ap.add_argument("--copydetect", action="store_true", help="also run copydetect (if installed)")
    args = ap.parse_args()
    students, planted = planted_class(args.n)
    print(f"load average {os.getloadavg()}; {len(students)} students, planted pairs "
          f"{sorted(tuple(sorted(p)) for p in planted)}")
    print(f"floor (tokenize every file once): CPU {floor(students):.2f} s")
    ranked, cpu = ours(students)
    show("dl-grade", ranked, planted, cpu)
    if args.copydetect:
        ranked, cpu = copydetect_ranks(students)
        show("copydetect 0.5.0 (per module file)", ranked, planted, cpu)
        ranked, cpu = copydetect_ranks(students, units=True)
        show("copydetect 0.5.0 (per exercise, cut as dl-grade cuts)", ranked, planted, cpu)


if __name__ == "__main__":
    main()
