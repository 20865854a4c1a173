"""The layers of grader/ are enforced, not described.

The import contracts in pyproject.toml ([tool.importlinter]) must hold; a boundary module
that imports a command module must break them (shown on a copy of the package); there is
no import cycle anywhere in grader/; the suites import only the check helpers; every
package says what it owns, may import and must never do; the README's Layout lists what
``ls grader`` shows.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp")
pytest.importorskip("importlinter")

REPO = Path(__file__).resolve().parent.parent
GRADER = REPO / "grader"
PACKAGES = ["cli", "grading", "notebook", "boundary", "instructor", "quiz", "reports", "suites", "util"]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the package found first on the path from ``root``, with the
    contracts of ``root/pyproject.toml``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
    return subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=300)


def import_cycles(graph) -> list[set[str]]:  # noqa: ANN001 - a grimp ImportGraph
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_the_import_contracts_hold():
    done = lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"Contracts: (\d+) kept, 0 broken", done.stdout), done.stdout
    assert "Layers: commands > reports" in done.stdout


def test_a_boundary_module_importing_a_command_module_breaks_the_contracts(tmp_path):
    copy = tmp_path / "grader"
    shutil.copytree(GRADER, copy, ignore=shutil.ignore_patterns("__pycache__", "data", "catalog"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    sandbox = copy / "boundary" / "sandbox.py"
    sandbox.write_text(sandbox.read_text(encoding="utf-8") + "\n\nfrom grader.cli import kit  # noqa: E402\n",
                       encoding="utf-8")
    done = lint_imports(tmp_path)
    out = " ".join(done.stdout.split())
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"Layers: commands > reports .* BROKEN", out), out
    assert "grader.boundary.sandbox -> grader.cli.kit" in out, out
    # the unchanged package, from the same copy, is clean again
    sandbox.write_text((GRADER / "boundary" / "sandbox.py").read_text(encoding="utf-8"), encoding="utf-8")
    assert lint_imports(tmp_path).returncode == 0


def test_no_import_cycles_in_grader():
    graph = grimp.build_graph("grader", cache_dir=None)
    assert [sorted(c) for c in import_cycles(graph)] == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for a, b in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d"), ("p.d", "p.e"), ("p.e", "p.d")]:
        graph.add_import(importer=a, imported=b)
    graph.add_module("p.alone")
    assert sorted(map(sorted, import_cycles(graph))) == [["p.a", "p.b", "p.c"], ["p.d", "p.e"]]


ALLOWED_IN_SUITES = ("grader.grading.checks", "grader.grading.gradcheck", "grader.grading.keras_checks", "grader.grading.keras_archive",
                     "grader.util.i18n", "grader.boundary.proxy", "grader.suites.")


def test_the_suites_import_only_the_check_helpers():
    """The suites are loaded by pytest from files (grimp does not see them): they may use the
    check helpers, the messages, proxies' type names and their own references, nothing that
    keeps state or talks to the student."""
    bad = []
    for path in sorted((GRADER / "suites").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                if name.split(".")[0] == "grader" and not name.startswith(ALLOWED_IN_SUITES):
                    bad.append(f"{path.relative_to(REPO)}: {name}")
    assert bad == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_says_what_it_owns_may_import_and_must_never_do(package):
    doc = ast.get_docstring(ast.parse((GRADER / package / "__init__.py").read_text(encoding="utf-8"))) or ""
    for part in ("Owns:", "May import:", "Must never:"):
        assert part in doc, f"grader/{package}/__init__.py: no {part!r}"


def test_the_readme_layout_lists_what_is_in_grader():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    listed = set(re.findall(r"^  (\S+?)/?\s", block, flags=re.M))  # the entries under grader/
    present = {p.name for p in GRADER.iterdir() if p.name != "__pycache__" and not p.name.endswith(".egg-info")}
    assert present - listed == set(), "in grader/ but not in the README's Layout"
    assert listed - present == set(), "in the README's Layout but not in grader/"


def test_no_module_in_grader_is_over_600_lines():
    long = {str(p.relative_to(REPO)): n for p in sorted(GRADER.rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert long == {}
