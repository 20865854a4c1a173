"""The course is consistent: for every chapter in the catalog, stubs score 0 as
"not attempted", solutions score 100 %, and catalog, stubs, solutions and suites agree."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.grading.catalog import SUITES_DIR, load_catalog
from grader.grading.runner import run_check

REPO = Path(__file__).resolve().parent.parent
CATALOG = load_catalog()


def _available(chapter) -> bool:
    return all(importlib.util.find_spec(n) is not None for n in chapter.needs)


def _chapter_params():
    for chapter in CATALOG.chapters.values():
        marks = [] if _available(chapter) else [pytest.mark.skip(reason=f"needs {', '.join(chapter.needs)}")]
        yield pytest.param(chapter, id=chapter.id, marks=marks)


CHAPTERS = list(_chapter_params())


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_stubs_score_zero_all_not_attempted(chapter):
    report = run_check(chapter, REPO / "exercises")
    assert report.tests, "the chapter has no tests"
    assert report.score == 0
    wrong = [(t.exercise, t.name, t.status) for t in report.tests if t.status != "not_attempted"]
    assert not wrong


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solutions_score_full_and_points_match_catalog(chapter):
    report = run_check(chapter, REPO / "solutions")
    failing = [(t.exercise, t.name, t.status, t.message) for t in report.tests if t.status != "passed"]
    assert not failing
    assert report.score == report.max_score > 0
    per_exercise = {ex_id: sum(t.max_score for t in tests) for ex_id, tests in report.by_exercise().items()}
    catalog_points = {e.id: float(e.points) for e in chapter.exercises}
    assert per_exercise == catalog_points


@pytest.mark.parametrize("chapter", list(CATALOG.chapters.values()), ids=lambda c: c.id)
def test_exercises_solutions_and_suites_mirror_each_other(chapter):
    stubs = {p.name for p in (REPO / "exercises" / chapter.id).glob("*.py")}
    sols = {p.name for p in (REPO / "solutions" / chapter.id).glob("*.py")}
    assert stubs == sols
    assert {f"{m}.py" for m in chapter.modules} <= stubs
    suite_modules = {p.stem.removeprefix("test_").removesuffix("_hidden") for p in (SUITES_DIR / chapter.id).glob("test_*.py")}
    assert suite_modules == set(chapter.modules)
    for e in chapter.exercises:
        assert e.module in chapter.modules, e.id
        assert e.id == f"{chapter.id}.{e.name}"
        assert e.hints and all(h.en and h.zh for h in e.hints), f"{e.id} needs hints in en and zh"


def _definitions(path: Path) -> dict[str, ast.AST]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


@pytest.mark.parametrize("chapter", list(CATALOG.chapters.values()), ids=lambda c: c.id)
def test_every_stub_has_a_todo_and_raises_not_implemented(chapter):
    for e in chapter.exercises:
        path = REPO / "exercises" / chapter.id / f"{e.module}.py"
        node = _definitions(path).get(e.name)
        assert node is not None, f"{path.name} lacks {e.name}"
        source = ast.get_source_segment(path.read_text(encoding="utf-8"), node) or ""
        assert "# TODO" in source, f"{e.id}: no TODO at the edit site"
        assert "raise NotImplementedError" in source, f"{e.id}: stub must raise NotImplementedError"
        assert ast.get_docstring(node), f"{e.id}: stub needs a docstring"
    module_doc = ast.get_docstring(ast.parse((REPO / "exercises" / chapter.id / f"{chapter.modules[0]}.py").read_text()))
    assert module_doc and f"grade check {chapter.id}" in module_doc


DOCTEST_SCRIPT = """
import ast, doctest, importlib.util, sys
from pathlib import Path
repo, chapter, modules = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
folder = repo / "solutions" / chapter
sys.path.insert(0, str(folder))
failed = examples = 0
for module in modules:
    # The stub's examples are the ones students read: run them against the solution.
    stub = (repo / "exercises" / chapter / f"{module}.py").read_text(encoding="utf-8")
    spec = importlib.util.spec_from_file_location(module, folder / f"{module}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    count = 0
    for node in ast.walk(ast.parse(stub)):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(node):
            test = parser.get_doctest(ast.get_docstring(node), dict(mod.__dict__), node.name, str(folder), 0)
            count += len(test.examples)
            runner.run(test)
    if count == 0:
        print(f"{module}: stubs have no doctest examples")
        failed += 1
    failed += runner.summarize(verbose=False).failed
sys.exit(1 if failed else 0)
"""


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solution_doctests_pass(chapter):
    # In a fresh process: a chapter may import TensorFlow, which must not run in a process
    # that later forks (other tests start process pools).
    proc = subprocess.run(
        [sys.executable, "-c", DOCTEST_SCRIPT, str(REPO), chapter.id, *chapter.modules],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
