"""Batch equals alone: a class graded in one batch gets, test for test, the grades each student
gets on their own.

``grade collect`` grades a class chapter by chapter in ONE pytest session per batch (every
suite test parametrized over the students). Batching is only a way to go faster, so nothing
the trusted side computes for one student may reach the next (a suite's cache, plugin state,
a wider-scoped fixture). This differential test builds a class from the correctness corpus —
wrong and right implementations (tests/wrong, tests/right applied to solutions/), stubs,
students missing chapters (not submitted in the batch, 0 points alone), and broken submissions (syntax errors, import-time exceptions, a
``train_classifier`` that raises) sorted FIRST so that their state would leak into everyone
after them if it could — collects it, grades every student alone in a fresh process
(tests/alone_check.py), and requires the same status and score for every test of every
student in every chapter.

Chapters 2-7: 32 students, collected with --workers 1 (one batch) and --workers 2 (two).
Chapter 8 (only where TensorFlow is installed; each student costs seconds): 4 students, the
first of which raises in train_classifier.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from corpus import SOLUTIONS, cases

from grader.instructor.collect import collect
from grader.instructor.gradebook import Gradebook

REPO = Path(__file__).resolve().parent.parent
NUMPY_CHAPTERS = ("chapter2", "chapter3", "chapter4", "chapter5", "chapter6", "chapter7")
HAS_TF = all(importlib.util.find_spec(n) is not None for n in ("tensorflow", "keras"))
TIMES: dict[str, float] = {}  # what each part took (printed with -s; see the module's tests)


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _copy_chapter(dst: Path, chapter: str, base: Path = SOLUTIONS) -> Path:
    folder = dst / "exercises" / chapter
    shutil.copytree(base / chapter, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def _first_module(folder: Path) -> Path:
    return sorted(folder.glob("*.py"))[0]


def build_numpy_class(root: Path) -> dict[str, list[str]]:
    """{student folder name: chapters it has}; the broken students sort first."""
    wrong = {c: [k for k in cases("wrong") if k.chapter == c] for c in NUMPY_CHAPTERS}
    right = {c: [k for k in cases("right") if k.chapter == c] for c in NUMPY_CHAPTERS}
    has: dict[str, list[str]] = {}

    def student(name: str, chapters=NUMPY_CHAPTERS, base: Path = SOLUTIONS) -> Path:
        for c in chapters:
            _copy_chapter(root / name, c, base)
        has[name] = list(chapters)
        return root / name / "exercises"

    ex = student("a00-syntax-error")
    for c in NUMPY_CHAPTERS:
        module = _first_module(ex / c)
        module.write_text(module.read_text(encoding="utf-8") + "\ndef broken(:\n    pass\n", encoding="utf-8")
    ex = student("a01-raises-on-import")
    for c in NUMPY_CHAPTERS:
        module = _first_module(ex / c)
        module.write_text(module.read_text(encoding="utf-8") + "\nraise RuntimeError('broken at import')\n",
                          encoding="utf-8")
    ex = student("a02-half-broken")  # a wrong case in one module, an import error in another
    for c in NUMPY_CHAPTERS:
        wrong[c][-1].lay_over(ex / c)
        modules = sorted((ex / c).glob("*.py"))
        if len(modules) > 1:
            modules[-1].write_text("import numpy_that_does_not_exist\n", encoding="utf-8")
    student("a03-stubs", base=REPO / "exercises")
    student("a04-only-chapters-2-3", chapters=("chapter2", "chapter3"))
    student("a05-only-chapter-7", chapters=("chapter7",))
    for i in range(20):  # one plausible mistake per chapter, a different mix for each student
        ex = student(f"b{i:02d}-wrong-mix")
        for c in NUMPY_CHAPTERS:
            wrong[c][(i * 7 + len(c)) % len(wrong[c])].lay_over(ex / c)
    for i in range(3):
        ex = student(f"c{i:02d}-right-written-differently")
        for c in NUMPY_CHAPTERS:
            if right[c]:
                right[c][i % len(right[c])].lay_over(ex / c)
    student("d00-solutions")
    ex = student("d01-solutions-and-stubs")
    for c in ("chapter4", "chapter6"):
        shutil.rmtree(ex / c)
        _copy_chapter(root / "d01-solutions-and-stubs", c, REPO / "exercises")
    return has


def build_keras_class(root: Path) -> dict[str, list[str]]:
    """A small chapter-8 class; the first student's train_classifier raises."""
    folder = _copy_chapter(root / "k00-classifier-raises", "chapter8")
    module = folder / "keras_models.py"
    module.write_text(module.read_text(encoding="utf-8") + "\n\ndef train_classifier(X_train, y_train, X_valid, y_valid):\n"
                      "    raise ValueError('no classifier today')\n", encoding="utf-8")
    _copy_chapter(root / "k01-solutions", "chapter8")
    folder = _copy_chapter(root / "k02-fixed-epochs", "chapter8")
    next(k for k in cases("wrong") if k.id == "chapter8/train_classifier_without_early_stopping").lay_over(folder)
    _copy_chapter(root / "k03-stubs", "chapter8", REPO / "exercises")
    return {name: ["chapter8"] for name in sorted(p.name for p in root.iterdir())}


def grade_alone(root: Path, has: dict[str, list[str]], chapters: tuple[str, ...], workers: int = 2) -> dict:
    """{(student, chapter): sorted verdicts}, each student graded alone in a fresh process
    (every chapter asked for, the ones it lacks too: 0 points alone, not submitted in a collect)."""
    out_dir = root.parent / f"alone-{root.name}"
    out_dir.mkdir()

    def one(name: str) -> dict:
        out = out_dir / f"{name}.json"
        folder = root / name / "exercises"
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(REPO / "tests" / "alone_check.py"), str(out), str(folder), *chapters],
                       check=True, cwd=out_dir, capture_output=True, timeout=1800)
        return json.loads(out.read_text(encoding="utf-8"))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        found = dict(zip(has, pool.map(one, has), strict=True))
    return {(name, c): sorted(map(tuple, v)) for name, per in found.items() for c, v in per.items()}


def chapter_statuses(db: Path) -> dict:
    """{(student, chapter): (status, score)} of a gradebook's chapter results."""
    with Gradebook(db) as gb:
        names = {r["hash"]: Path(r["source"]).name for r in gb.submissions()}
        return {(names[h], c): (r["status"], r["score"]) for h, per in gb.chapter_scores().items()
                for c, r in per.items()}


def grade_batch(root: Path, db: Path, chapters: tuple[str, ...], workers: int) -> dict:
    """{(student, chapter): sorted verdicts} from one ``grade collect`` of the whole class."""
    summary = collect([root], db, workers=workers, chapters=list(chapters), quiz_chapters=list(chapters))
    assert not summary.failed and not summary.rejected, (summary.failed, summary.rejected)
    assert summary.submission_chapters == len(list(root.iterdir())) * len(chapters)
    with Gradebook(db) as gb:
        names = {r["hash"]: Path(r["source"]).name for r in gb.submissions()}
        verdicts: dict = {}
        for r in gb.tests():
            verdicts.setdefault((names[r["hash"]], r["chapter"]), []).append(
                (r["exercise"], r["name"], r["status"], r["score"]))
    return {k: sorted(v) for k, v in verdicts.items()}


def differences(batch: dict, alone: dict) -> list[str]:
    out = []
    for key in sorted(set(batch) | set(alone)):
        b, a = dict(((e, n), (s, p)) for e, n, s, p in batch.get(key, [])), dict(
            ((e, n), (s, p)) for e, n, s, p in alone.get(key, []))
        for test in sorted(set(b) | set(a)):
            if b.get(test) != a.get(test):
                out.append(f"{key[0]} {key[1]} {test[1]}: batch {b.get(test)} alone {a.get(test)}")
    return out


@pytest.fixture(scope="module")
def numpy_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("class") / "subs"
    has = build_numpy_class(root)
    started = time.monotonic()
    alone = grade_alone(root, has, NUMPY_CHAPTERS)
    TIMES["alone, chapters 2-7"] = time.monotonic() - started
    return root, has, alone


def test_the_class_is_big_and_mixed(numpy_class):
    root, has, alone = numpy_class
    assert len(has) >= 30
    assert sorted(has)[:3] == ["a00-syntax-error", "a01-raises-on-import", "a02-half-broken"]  # first in the batch
    statuses = {s for verdicts in alone.values() for _, _, s, _ in verdicts}
    assert {"passed", "failed", "error", "not_attempted"} <= statuses, statuses
    full = [k for k, v in alone.items() if all(s == "passed" for _, _, s, _ in v)]
    zero = [k for k, v in alone.items() if all(p == 0 for *_, p in v)]
    assert len(full) >= 10 and len(zero) >= 10  # neither side of the class is empty


@pytest.mark.parametrize("workers", [1, 2])
def test_a_batch_grades_every_student_as_alone(numpy_class, tmp_path, workers):
    root, has, alone = numpy_class
    started = time.monotonic()
    batch = grade_batch(root, tmp_path / "gb.sqlite", NUMPY_CHAPTERS, workers)
    TIMES[f"batch --workers {workers}, chapters 2-7"] = time.monotonic() - started
    held = {(name, c) for name in has for c in has[name]}
    assert set(batch) == held
    assert differences(batch, {k: v for k, v in alone.items() if k in held}) == []
    # a chapter a student lacks is not submitted in the batch (no test run), and 0 points alone
    lacking = {(name, c) for name in has for c in NUMPY_CHAPTERS} - held
    assert len(lacking) >= 8
    statuses = chapter_statuses(tmp_path / "gb.sqlite")
    for key in lacking:
        assert statuses[key] == ("not_submitted", 0.0), key
        assert alone[key] and all(p == 0 for *_, p in alone[key]), key
    print({k: round(v, 1) for k, v in TIMES.items()})


@pytest.mark.skipif(not HAS_TF, reason="needs tensorflow and keras: pip install 'dl-grade[keras]'")
def test_a_chapter8_batch_grades_every_student_as_alone(tmp_path):
    root = tmp_path / "subs"
    has = build_keras_class(root)
    started = time.monotonic()
    batch = grade_batch(root, tmp_path / "gb.sqlite", ("chapter8",), workers=1)
    TIMES["batch, chapter 8"] = time.monotonic() - started
    started = time.monotonic()
    alone = grade_alone(root, has, ("chapter8",))
    TIMES["alone, chapter 8"] = time.monotonic() - started
    assert differences(batch, alone) == []
    # the student after the one whose train_classifier raised is graded on their own classifier
    solution = dict(((n, (s, p)) for _, n, s, p in alone[("k01-solutions", "chapter8")]))
    assert solution["test_classifier_reaches_90_percent_on_held_back_rows"][0] == "passed"
    print({k: round(v, 1) for k, v in TIMES.items()})
