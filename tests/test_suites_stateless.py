"""A target is a unit: the suites keep no state at module level.

In a batch (``grade collect``) one pytest session grades many students, so a suite module is
imported once and lives through every target. Anything it keeps at module level (a cache of a
training run, a list of results, an ``lru_cache``) would carry one student's work into the next
student's grade — chapter 8 once kept ``train_classifier``'s run in a module-level ``_RUN`` dict
and graded a whole class on the first student's classifier. What a suite computes once per
student goes in the plugin's ``target_state`` fixture, which is dropped with the target.

This lint parses every file of ``grader/suites/`` with ``ast`` and reads as an allow-list: a
module-level (or class-level) value must be built from constants, tuples, ``frozen(...)``,
``MappingProxyType(...)`` and the like; ``global``/``nonlocal``, caching decorators, fixtures of
a wider scope than a test and mutable default arguments are refused anywhere in a suite.
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SUITES = REPO / "grader" / "suites"

# Calls whose result cannot be changed afterwards (or, for ``frozen``, whose arrays cannot).
IMMUTABLE_CALLS = frozenset({
    "frozen", "tuple", "frozenset", "MappingProxyType", "types.MappingProxyType", "float", "int", "str",
    "bytes", "bool", "complex", "range", "re.compile", "TypeVar", "typing.TypeVar", "NamedTuple",
    "Formula",  # a test's function as text: its text and read-only constants fixed when it is made
})
CACHING_DECORATORS = frozenset({"cache", "lru_cache", "cached_property"})


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def _immutable(node: ast.AST | None) -> bool:
    """Is a module-level value one that nothing can change later?"""
    if node is None or isinstance(node, (ast.Constant, ast.Name, ast.Attribute, ast.Lambda)):
        return True
    if isinstance(node, ast.Tuple):
        return all(_immutable(e) for e in node.elts)
    if isinstance(node, ast.Subscript):  # a type alias: Callable[[...], None]
        return True
    if isinstance(node, (ast.UnaryOp,)):
        return _immutable(node.operand)
    if isinstance(node, ast.BinOp):
        return _immutable(node.left) and _immutable(node.right)
    if isinstance(node, ast.Call):
        name = _name(node.func)
        return name in IMMUTABLE_CALLS or name.startswith("pytest.mark.")
    return False  # dict/list/set literals and comprehensions, dict(), list(), defaultdict(), np.array(), ...


def state_problems(source: str, filename: str = "<suite>") -> list[str]:
    """Every place ``source`` keeps state beyond one call of one test, as 'file:line: what'."""
    tree = ast.parse(source, filename)
    problems: list[str] = []

    def flag(node: ast.AST, what: str) -> None:
        problems.append(f"{filename}:{getattr(node, 'lineno', 0)}: {what}")

    def top_level(body: list[ast.stmt], where: str) -> None:
        for node in body:
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if isinstance(node, ast.AugAssign):
                    flag(node, f"{where} {ast.unparse(node.target)} is changed in place")
                elif not all(isinstance(t, (ast.Name, ast.Tuple)) for t in targets):
                    flag(node, f"{where} assignment into {ast.unparse(targets[0])} (state kept on an object)")
                elif not _immutable(node.value):
                    shown = ast.unparse(node.value) if node.value is not None else ""
                    flag(node, f"{where} mutable value {ast.unparse(targets[0])} = {shown[:60]}")
            elif isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
                flag(node, f"{where} statement {ast.unparse(node)[:60]} runs at import")
            elif isinstance(node, ast.ClassDef):
                top_level(node.body, "class-level")
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for block in ("body", "orelse", "finalbody"):
                    top_level(getattr(node, block, []) or [], where)
                for handler in getattr(node, "handlers", []):
                    top_level(handler.body, where)

    top_level(tree.body, "module-level")
    for node in ast.walk(tree):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            flag(node, f"{type(node).__name__.lower()} {', '.join(node.names)}")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for deco in node.decorator_list:
                if _name(deco).rsplit(".", 1)[-1] in CACHING_DECORATORS:
                    flag(deco, f"@{_name(deco)} on {node.name} keeps results across tests")
                scope = [k.value for k in getattr(deco, "keywords", []) if k.arg == "scope"]
                if _name(deco).endswith("fixture") and scope and not (
                        isinstance(scope[0], ast.Constant) and scope[0].value == "function"):
                    flag(deco, f"fixture {node.name} with scope {ast.unparse(scope[0])} outlives a target")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for default in [*node.args.defaults, *node.args.kw_defaults]:
                if default is not None and not _immutable(default):
                    flag(default, f"mutable default argument {ast.unparse(default)[:40]}")
    return problems


def suite_sources() -> list[Path]:
    return sorted(SUITES.rglob("*.py"))


def test_there_are_suites_to_check():
    names = {p.parent.name for p in suite_sources()}
    assert {f"chapter{n}" for n in range(2, 9)} <= names


@pytest.mark.parametrize("path", suite_sources(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_suite_keeps_no_state_at_module_level(path):
    assert state_problems(path.read_text(encoding="utf-8"), str(path.relative_to(REPO))) == []


# The chapter-8 cache that graded a class on its first student's classifier (as it was).
OLD_RUN = '''
import pytest

_RUN: dict[str, object] = {}
SEED = 8


def trained_classifier(student):
    if "error" in _RUN:
        raise _RUN["error"]
    if "result" not in _RUN:
        _RUN["result"] = student.load("keras_models").train_classifier()
    return _RUN["result"]
'''


def test_the_old_chapter8_cache_is_refused():
    (problem,) = state_problems(OLD_RUN)
    assert "_RUN" in problem and "mutable" in problem


def test_the_old_chapter8_suite_from_git_is_refused():
    """The suite as committed before target_state, if this checkout has that history."""
    old = subprocess.run(
        ["git", "show", "e2ec9ee:grader/suites/chapter8/test_keras_models.py"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    if old.returncode != 0:
        pytest.skip("the old suite is not in this checkout's history")
    assert any("_RUN" in p for p in state_problems(old.stdout))


@pytest.mark.parametrize(
    "source",
    [
        "SEEN = []",
        "SEEN = set()",
        "CACHE = dict()",
        "import collections\nCACHE = collections.defaultdict(list)",
        "import numpy as np\nX = np.zeros(3)",  # writable: one test could change the next one's input
        "RESULTS = {k: 0 for k in 'ab'}",
        "COUNT = 0\ndef f():\n    global COUNT\n    COUNT += 1",
        "import functools\n@functools.lru_cache(maxsize=None)\ndef run(student):\n    return student",
        "from functools import cache\n@cache\ndef run(x):\n    return x",
        "def f(seen=[]):\n    return seen",
        "def f(): pass\nf.memo = {}",
        "class Keep:\n    runs = []",
        "try:\n    import keras\nexcept ImportError:\n    KEPT = {}",
        "SEEN = []\nSEEN.append(1)",
        "import pytest\n@pytest.fixture(scope='module')\ndef trained(student):\n    return student",
        "import pytest\n@pytest.fixture(scope='session')\ndef data():\n    return 1",
    ],
)
def test_kinds_of_module_state_are_refused(source):
    assert state_problems(source), source


@pytest.mark.parametrize(
    "source",
    [
        "SEED = 8\nPASS_MARK = 0.90\nNAME = 'x'\nNOTHING = None",
        "GATES = ('AND', 'OR')\nINPUTS = tuple(range(4))",
        "import numpy as np\nfrom grader.grading.checks import frozen\nW = frozen(np.array([1.0, 2.0]))",
        "from types import MappingProxyType\nSHAPES = MappingProxyType({'W': (2, 3)})",
        "from typing import Callable\nStep = Callable[[int], None]",
        "import pytest\nslow = pytest.mark.timeout_s(60)",
        "def f(x, shape=(7,), key=None):\n    cache = {}\n    return cache",
        "import pytest\n@pytest.fixture\ndef model(student):\n    return student",
    ],
)
def test_constants_and_local_state_are_fine(source):
    assert state_problems(source) == []
