"""Mutation check: do the suites catch small mistakes in the reference solutions?

Every reference module of a chapter (``solutions/chapterN/*.py``) is mutated one small change at
a time with ``ast``: operator swaps (+ -, * /, // -> /, ** -> *, comparisons, and/or), numeric
constants (floats -> 0, 1 and -x, e.g. 1e-7 -> 0, 0.5 -> 1; ints n -> n+1 and n-1), ``axis=``
changes (0 -> 1/-1, 1 -> 0, -1 -> 0), off-by-one slice bounds and ``range`` arguments, removed
unary minus / ``not``, ``return x`` -> ``return`` and -> ``return abs(x)``, an argument of the
function negated at one place it is read (``x`` -> ``-x``), removed ``keepdims``, swapped neighbouring call
arguments, ``+=`` -> ``=``, True <-> False, and a few numpy function swaps (max/min,
argmax/argmin, sum/mean). Docstrings, annotations, imports and ``if __name__`` blocks are left
alone; mutants producing identical code are counted once. Each mutant is written into a temporary
copy of the chapter's solutions and graded with ``grader.grading.runner.run_check`` (public + hidden
suites, in a fresh process each); it is *killed* when the score drops below the maximum.

    python bench/mutation.py --chapter chapter7 --jobs 2
    python bench/mutation.py --chapter chapter2 --chapter chapter7 --list-survivors
    python bench/mutation.py                 # every catalog chapter (ones that need TensorFlow only
                                             # when named with --chapter)

Mutants judged equivalent (no behaviour any test could see) go in ``bench/equivalent_mutants.txt``,
one per line, as printed by ``--list-survivors``, with a reason after the last `` | ``; they are
left out of the kill rate. The unmodified solutions are graded first: any lost point there is a
false fail and is reported (exit status 2).
"""

from __future__ import annotations

import argparse
import ast
import copy
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

EQUIVALENTS_FILE = Path(__file__).resolve().parent / "equivalent_mutants.txt"
PLACEHOLDER = "REASON (write why no test can tell this mutant apart, or strengthen the suite)"

BINOP_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Add: (ast.Sub,),
    ast.Sub: (ast.Add,),
    ast.Mult: (ast.Div,),
    ast.Div: (ast.Mult, ast.FloorDiv),
    ast.FloorDiv: (ast.Div,),
    ast.Pow: (ast.Mult,),
    ast.Mod: (ast.FloorDiv,),
    ast.MatMult: (ast.Mult,),
}
CMP_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Gt: (ast.GtE, ast.Lt),
    ast.GtE: (ast.Gt,),
    ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt,),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
FUNC_SWAPS = {"max": "min", "min": "max", "argmax": "argmin", "argmin": "argmax", "sum": "mean", "mean": "sum"}
AXIS_SWAPS = {0: (1, -1), 1: (0,), -1: (0,), 2: (1,), 3: (2,)}

OP_SYMBOL = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Pow: "**",
    ast.Mod: "%", ast.MatMult: "@", ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=",
    ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    path: str  # "chapter7/conv.py", relative to the solutions folder
    line: int
    col: int
    scope: str  # enclosing function, e.g. "Pooling.backward" ("<module>" at top level)
    description: str  # e.g. "+ -> -"
    code: str  # the original source line, stripped
    source: str  # the whole mutated module

    @property
    def key(self) -> str:
        """Stable across edits elsewhere in the file: no line number, the line's text instead."""
        return f"{self.path} | {self.scope} | {self.description} @{self.col} | {self.code}"

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


# -- generating mutants ---------------------------------------------------------------------

Edit = Callable[[ast.AST, dict[int, ast.AST]], None]


def _num(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _plus(node: ast.expr, delta: int) -> ast.expr:
    return ast.BinOp(left=node, op=ast.Add() if delta > 0 else ast.Sub(), right=ast.Constant(abs(delta)))


def _replace(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for name, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, name, new)
            return
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is old:
                    value[i] = new
                    return
    raise ValueError("node not found in its parent")


def _set_attr(attr: str, value_fn: Callable[[ast.AST], object]) -> Edit:
    def edit(node: ast.AST, parents: dict[int, ast.AST]) -> None:
        setattr(node, attr, value_fn(node))

    return edit


def _mutations(
    node: ast.AST,
    infer_dims: frozenset[int] | set[int] = frozenset(),
    arg_uses: frozenset[int] | set[int] = frozenset(),
) -> Iterator[tuple[str, Edit]]:
    """(description, edit) for every mutation of this node; edits work on a copy of the tree.
    ``infer_dims``: ids of the 1 in ``reshape(-1, ...)``, which is not turned into -2 (numpy reads
    every negative size as "infer this one", so that mutant could never be caught).
    ``arg_uses``: ids of the names that read an argument of the enclosing function (see
    ``_arg_uses``); each one is negated on its own (``x -> -x``)."""
    if isinstance(node, ast.Name) and id(node) in arg_uses:

        def negate(n: ast.AST, parents: dict[int, ast.AST]) -> None:
            _replace(parents[id(n)], n, ast.UnaryOp(op=ast.USub(), operand=n))

        yield f"{node.id} -> -{node.id}", negate
    elif isinstance(node, ast.BinOp) and type(node.op) in BINOP_SWAPS:
        for new in BINOP_SWAPS[type(node.op)]:
            yield f"{OP_SYMBOL[type(node.op)]} -> {OP_SYMBOL[new]}", _set_attr("op", lambda n, new=new: new())
    elif isinstance(node, ast.AugAssign):
        sym = OP_SYMBOL.get(type(node.op), "?")
        for new in BINOP_SWAPS.get(type(node.op), ()):
            yield f"{sym}= -> {OP_SYMBOL[new]}=", _set_attr("op", lambda n, new=new: new())

        def to_assign(n: ast.AST, parents: dict[int, ast.AST]) -> None:
            assert isinstance(n, ast.AugAssign)
            new_node = ast.Assign(targets=[n.target], value=n.value, lineno=n.lineno)
            _replace(parents[id(n)], n, new_node)

        yield f"{sym}= -> =", to_assign
    elif isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for new in CMP_SWAPS.get(type(op), ()):

                def edit(n: ast.AST, parents: dict[int, ast.AST], i: int = i, new: type = new) -> None:
                    n.ops[i] = new()  # type: ignore[attr-defined]

                yield f"{OP_SYMBOL[type(op)]} -> {OP_SYMBOL[new]}", edit
    elif isinstance(node, ast.BoolOp):
        new_op = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield ("and -> or" if new_op is ast.Or else "or -> and"), _set_attr("op", lambda n: new_op())
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        label = "-x -> x" if isinstance(node.op, ast.USub) else "not x -> x"

        def drop(n: ast.AST, parents: dict[int, ast.AST]) -> None:
            _replace(parents[id(n)], n, n.operand)  # type: ignore[attr-defined]

        yield label, drop
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        flipped = not node.value
        yield f"{node.value} -> {flipped}", _set_attr("value", lambda n: flipped)
    elif isinstance(node, ast.Constant) and _num(node.value):
        v = node.value
        new_values: list[object] = []
        if isinstance(v, int):
            new_values += [v - 1] if id(node) in infer_dims else [v + 1, v - 1]
        else:
            new_values += [0.0, 1.0, -v]
        for new_v in dict.fromkeys(x for x in new_values if x != v):
            yield f"{v!r} -> {new_v!r}", _set_attr("value", lambda n, new_v=new_v: new_v)
    elif isinstance(node, ast.Return) and node.value is not None:
        yield "return x -> return", _set_attr("value", lambda n: None)
        if not (isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name) and node.value.func.id == "abs"):
            yield "return x -> return abs(x)", _set_attr(
                "value", lambda n: ast.Call(func=ast.Name("abs", ast.Load()), args=[n.value], keywords=[])
            )
    elif isinstance(node, ast.Slice):
        for bound in ("lower", "upper"):
            if getattr(node, bound) is not None:
                for delta in (1, -1):
                    yield (
                        f"slice {bound} {'+' if delta > 0 else '-'}1",
                        _set_attr(bound, lambda n, b=bound, d=delta: _plus(getattr(n, b), d)),
                    )
    elif isinstance(node, ast.Call):
        yield from _call_mutations(node)


def _call_mutations(node: ast.Call) -> Iterator[tuple[str, Edit]]:
    func = node.func
    fname = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if isinstance(func, ast.Attribute) and fname in FUNC_SWAPS:
        new_name = FUNC_SWAPS[fname]

        def swap_func(n: ast.AST, parents: dict[int, ast.AST]) -> None:
            n.func.attr = new_name  # type: ignore[attr-defined]

        yield f".{fname}() -> .{new_name}()", swap_func
    if fname == "range":
        for i in range(len(node.args)):
            for delta in (1, -1):

                def edit(n: ast.AST, parents: dict[int, ast.AST], i: int = i, d: int = delta) -> None:
                    n.args[i] = _plus(n.args[i], d)  # type: ignore[attr-defined]

                yield f"range arg {i + 1} {'+' if delta > 0 else '-'}1", edit
    for i in range(len(node.args) - 1):
        if isinstance(node.args[i], ast.Starred) or isinstance(node.args[i + 1], ast.Starred):
            continue

        def swap(n: ast.AST, parents: dict[int, ast.AST], i: int = i) -> None:
            args = n.args  # type: ignore[attr-defined]
            args[i], args[i + 1] = args[i + 1], args[i]

        yield f"swap args {i + 1},{i + 2} of {fname or 'call'}()", swap
    for k, kw in enumerate(node.keywords):
        if kw.arg == "keepdims":

            def drop_kw(n: ast.AST, parents: dict[int, ast.AST], k: int = k) -> None:
                del n.keywords[k]  # type: ignore[attr-defined]

            yield "remove keepdims", drop_kw
        if kw.arg == "axis" and isinstance(kw.value, ast.Constant) and _num(kw.value.value):
            for new_axis in AXIS_SWAPS.get(kw.value.value, ()):

                def set_axis(n: ast.AST, parents: dict[int, ast.AST], k: int = k, a: int = new_axis) -> None:
                    n.keywords[k].value = ast.Constant(a)  # type: ignore[attr-defined]

                yield f"axis={kw.value.value} -> axis={new_axis}", set_axis


def _skipped(tree: ast.Module) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, imports, `if __name__ == ...` blocks,
    and the axis constants (the axis mutation handles those)."""
    skip: set[int] = set()

    def cover(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            cover(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            cover(node.returns)
            for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                cover(arg.annotation)
            for extra in (node.args.vararg, node.args.kwarg):
                if extra is not None:
                    cover(extra.annotation)
        elif isinstance(node, ast.AnnAssign):
            cover(node.annotation)
        elif isinstance(node, ast.If) and "__name__" in ast.unparse(node.test):
            cover(node)
        elif isinstance(node, ast.keyword) and node.arg == "axis":
            cover(node.value)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                cover(first)
    return skip


def _infer_dims(tree: ast.Module) -> set[int]:
    """ids of the constant 1 in `x.reshape(..., -1, ...)`."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "reshape":
            for arg in node.args:
                if (
                    isinstance(arg, ast.UnaryOp)
                    and isinstance(arg.op, ast.USub)
                    and isinstance(arg.operand, ast.Constant)
                ):
                    found.add(id(arg.operand))
    return found


def _arg_uses(tree: ast.Module) -> set[int]:
    """ids of the names that read an argument of the enclosing function (not ``self``/``cls``), at
    the places where negating the name negates a value: not as a callee (``f(x)``), not as the
    object of an attribute (``x.shape``: ``(-x).shape`` is the same shape), not already negated."""
    found: set[int] = set()
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}

    def visit(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        a = fn.args
        names = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]} - {"self", "cls"}
        for stmt in fn.body:
            for node in ast.walk(stmt):
                if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names):
                    continue
                parent = parents.get(id(node))
                if isinstance(parent, ast.Call) and parent.func is node:
                    continue
                if isinstance(parent, ast.Attribute) or (
                    isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub)
                ):
                    continue
                found.add(id(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            visit(node)
    return found


def _scopes(tree: ast.Module) -> dict[int, str]:
    scopes: dict[int, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}.{child.name}" if prefix != "<module>" else child.name
            scopes[id(child)] = name
            visit(child, name)

    visit(tree, "<module>")
    return scopes


def generate_mutants(source: str, path: str) -> list[Mutant]:
    """Every single-change mutant of a module, deduplicated by the code it produces."""
    tree = ast.parse(source)
    lines = source.splitlines()
    baseline = ast.unparse(tree)
    skip = _skipped(tree)
    scopes = _scopes(tree)
    infer = _infer_dims(tree)
    uses = _arg_uses(tree)
    nodes = list(ast.walk(tree))
    seen = {baseline}
    mutants: list[Mutant] = []
    for index, node in enumerate(nodes):
        if id(node) in skip:
            continue
        for description, edit in _mutations(node, infer, uses):
            mutated = copy.deepcopy(tree)
            twin = list(ast.walk(mutated))[index]
            parents = {id(c): p for p in ast.walk(mutated) for c in ast.iter_child_nodes(p)}
            try:
                edit(twin, parents)
                ast.fix_missing_locations(mutated)
                text = ast.unparse(mutated)
                compile(text, path, "exec")
            except (SyntaxError, ValueError, TypeError, AttributeError, AssertionError):
                continue
            if text in seen:
                continue
            seen.add(text)
            line = getattr(node, "lineno", 0)
            mutants.append(
                Mutant(
                    path=path,
                    line=line,
                    col=getattr(node, "col_offset", 0),
                    scope=scopes.get(id(node), "<module>"),
                    description=description,
                    code=lines[line - 1].strip() if 0 < line <= len(lines) else "",
                    source=text + "\n",
                )
            )
    return mutants


def chapter_mutants(solutions: Path, chapter_id: str) -> list[Mutant]:
    folder = solutions / chapter_id
    mutants: list[Mutant] = []
    for file in sorted(folder.glob("*.py")):
        mutants += generate_mutants(file.read_text(encoding="utf-8"), f"{chapter_id}/{file.name}")
    return mutants


# -- grading mutants --------------------------------------------------------------------------


@dataclass
class Outcome:
    mutant: Mutant | None  # None: the unmodified solutions
    killed: bool
    score: float
    max_score: float
    note: str = ""  # e.g. the grader could not run
    failed_tests: list[str] = field(default_factory=list)


def grade_copy(chapter_id: str, solutions: Path, mutant: Mutant | None) -> Outcome:
    """Grade a temporary copy of solutions/<chapter> with the mutant (if any) written in."""
    from grader.grading.catalog import load_catalog
    from grader.grading.runner import run_check
    from grader.util.errors import GraderError

    chapter = load_catalog().chapter(chapter_id)
    with tempfile.TemporaryDirectory(prefix="grade-mutant-") as tmp:
        target = Path(tmp)
        shutil.copytree(solutions / chapter_id, target / chapter_id, ignore=shutil.ignore_patterns("__pycache__"))
        if mutant is not None:
            (target / mutant.path).write_text(mutant.source, encoding="utf-8")
        try:
            report = run_check(chapter, target)
        except GraderError as exc:
            return Outcome(mutant, True, 0.0, 0.0, note=f"grader could not run: {str(exc).splitlines()[0]}")
    failed = [f"{t.exercise}::{t.name} ({t.status})" for t in report.tests if t.score < t.max_score]
    killed = report.score < report.max_score or not report.tests
    return Outcome(mutant, killed, report.score, report.max_score, failed_tests=failed)


def load_equivalents(path: Path = EQUIVALENTS_FILE) -> dict[str, str]:
    """key -> reason. Lines: the key as --list-survivors prints it, ' | ', a one-line reason."""
    entries: dict[str, str] = {}
    if not path.exists():
        return entries
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, reason = line.rpartition(" | ")
        if not sep or not reason.strip() or reason.strip() == PLACEHOLDER:
            raise SystemExit(f"{path.name}: every entry needs a reason after ' | ': {line}")
        entries[key.strip()] = reason.strip()
    return entries


@dataclass
class ChapterResult:
    chapter: str
    baseline: Outcome
    outcomes: list[Outcome]
    equivalent: list[Outcome]
    seconds: float

    @property
    def killed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.killed]

    @property
    def survived(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.killed]

    @property
    def rate(self) -> float:
        return 100.0 * len(self.killed) / len(self.outcomes) if self.outcomes else 100.0


def run_chapter(
    chapter_id: str,
    solutions: Path,
    jobs: int = 1,
    equivalents: dict[str, str] | None = None,
    mutants: list[Mutant] | None = None,
    progress: Callable[[int, int], None] | None = None,
    check_baseline: bool = True,
) -> ChapterResult:
    started = time.monotonic()
    equivalents = equivalents if equivalents is not None else load_equivalents()
    if mutants is None:
        mutants = chapter_mutants(solutions, chapter_id)
    results: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:  # each check is its own process
        first = pool.submit(grade_copy, chapter_id, solutions, None) if check_baseline else None
        for done, outcome in enumerate(pool.map(lambda m: grade_copy(chapter_id, solutions, m), mutants), 1):
            results.append(outcome)
            if progress:
                progress(done, len(mutants))
        baseline = first.result() if first else Outcome(None, False, 0.0, 0.0, "not run")
    counted, excluded = split_equivalents(results, equivalents)
    return ChapterResult(chapter_id, baseline, counted, excluded, time.monotonic() - started)


def split_equivalents(results: list[Outcome], equivalents: dict[str, str]) -> tuple[list[Outcome], list[Outcome]]:
    """(outcomes that count towards the kill rate, outcomes of allow-listed equivalent mutants)."""
    counted = [o for o in results if o.mutant is not None and o.mutant.key not in equivalents]
    excluded = [o for o in results if o.mutant is not None and o.mutant.key in equivalents]
    return counted, excluded


# -- command line -----------------------------------------------------------------------------


def _default_chapters(explicit: list[str]) -> tuple[list[str], list[str]]:
    from grader.grading.catalog import load_catalog, normalize_chapter

    catalog = load_catalog()
    if explicit:
        return [catalog.chapter(normalize_chapter(c)).id for c in explicit], []
    chosen, skipped = [], []
    for chapter in catalog.chapters.values():
        if not list((REPO / "solutions" / chapter.id).glob("*.py")):
            continue
        (skipped if chapter.needs else chosen).append(chapter.id)
    return chosen, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapter", action="append", default=[], help="chapterN (repeatable); default: all")
    parser.add_argument("--jobs", type=int, default=1, help="checks to run in parallel (default 1)")
    parser.add_argument("--list-survivors", action="store_true", help="print survivors as allow-list lines")
    parser.add_argument("--solutions", type=Path, default=REPO / "solutions", help="solutions folder")
    parser.add_argument("--equivalents", type=Path, default=EQUIVALENTS_FILE, help="allow-list of equivalents")
    parser.add_argument("--min-rate", type=float, default=None, help="exit 1 if a chapter's kill rate is lower")
    args = parser.parse_args(argv)

    chapters, skipped = _default_chapters(args.chapter)
    for cid in skipped:
        print(f"{cid}: skipped (needs a heavy import; name it with --chapter {cid} to include it)")
    equivalents = load_equivalents(args.equivalents)
    status = 0
    total_started = time.monotonic()
    all_keys: set[str] = set()
    for cid in chapters:
        mutants = chapter_mutants(args.solutions, cid)
        all_keys.update(m.key for m in mutants)

        def progress(done: int, total: int, cid: str = cid) -> None:
            if sys.stderr.isatty():
                sys.stderr.write(f"\r{cid}: {done}/{total} mutants graded")
                sys.stderr.flush()

        result = run_chapter(cid, args.solutions, args.jobs, equivalents, mutants, progress)
        if sys.stderr.isatty():
            sys.stderr.write("\r" + " " * 60 + "\r")
        status = max(status, _print_result(result, args.list_survivors, args.min_rate))
    if chapters:
        stale = [k for k in equivalents if k.split(" | ", 1)[0].split("/", 1)[0] in chapters and k not in all_keys]
        for key in stale:
            print(f"note: allow-list entry matches no mutant any more (solution edited?): {key}")
        print(f"total: {time.monotonic() - total_started:.1f} s for {', '.join(chapters)} (--jobs {args.jobs})")
    return status


def _print_result(result: ChapterResult, list_survivors: bool, min_rate: float | None) -> int:
    status = 0
    base = result.baseline
    if base.killed:
        status = 2
        print(f"{result.chapter}: FALSE FAIL — the unmodified solutions score {base.score:g}/{base.max_score:g}")
        for name in base.failed_tests:
            print(f"    {name}")
        if base.note:
            print(f"    {base.note}")
    n_eq = len(result.equivalent)
    print(
        f"{result.chapter}: {len(result.outcomes) + n_eq} mutants, {len(result.killed)} killed, "
        f"{len(result.survived)} survived, {n_eq} equivalent (excluded) · kill rate {result.rate:.1f}% "
        f"· solutions {base.score:g}/{base.max_score:g} · {result.seconds:.1f} s"
    )
    for o in result.survived:
        m = o.mutant
        assert m is not None
        if list_survivors:
            print(f"{m.key} | {PLACEHOLDER}")
        else:
            print(f"  survived {m.where}:{m.col} [{m.scope}] {m.description}: {m.code}")
    for o in result.equivalent:
        if o.killed and o.mutant is not None:
            print(f"  note: listed as equivalent but killed (remove it from the allow-list): {o.mutant.key}")
    errors = [o for o in result.killed if o.note]
    for o in errors:
        assert o.mutant is not None
        print(f"  note: {o.mutant.where} {o.mutant.description}: {o.note}")
    if min_rate is not None and result.rate < min_rate:
        status = max(status, 1)
    return status


if __name__ == "__main__":
    sys.exit(main())
