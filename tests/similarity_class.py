"""A class for the similarity benchmark: independent students built from the correctness
corpus, plus planted copies disguised the way a student hides one.

Every student starts from the book's code (``solutions/``, which the comparison discounts)
and gets a few corpus cases of their own (``tests/right`` and ``tests/wrong`` patches; each
case goes to one student only, so two independent students never share a case). A planted
copier takes another student's modules of some chapters and disguises them: every comment
and docstring replaced, local names, parameters and the attributes the code assigns renamed,
and adjacent independent one-line assignments swapped.
"""

from __future__ import annotations

import ast
import io
import random
import tokenize
from pathlib import Path

from tests.corpus import SOLUTIONS, CorpusError, Patch, apply_patches, cases

CHAPTERS = ("chapter2", "chapter3", "chapter4", "chapter5", "chapter6", "chapter7", "chapter8")


def solution_files() -> dict[str, str]:
    return {f"{p.parent.name}/{p.name}": p.read_text(encoding="utf-8")
            for ch in CHAPTERS for p in sorted((SOLUTIONS / ch).glob("*.py"))}


def build_class(n: int = 30, seed: int = 7) -> tuple[dict[str, dict[str, str]], dict[str, list[str]]]:
    """``n`` independent students: student -> {"chapter5/layers.py": text}, and the corpus
    cases each one got (student -> case ids)."""
    base = solution_files()
    rng = random.Random(seed)
    pool = cases("right") + cases("wrong")
    rng.shuffle(pool)
    patches: dict[str, dict[str, list[Patch]]] = {f"s{i:02d}": {} for i in range(n)}
    got: dict[str, list[str]] = {s: [] for s in patches}
    names = sorted(patches)
    for j, case in enumerate(pool):
        key = f"{case.chapter}/{case.file}"
        for step in range(n):  # the first student (round robin) whose patches it does not collide with
            student = names[(j + step) % n]
            trial = patches[student].get(key, []) + list(case.patches)
            try:
                apply_patches(base[key], trial)
            except CorpusError:
                continue
            patches[student][key] = trial
            got[student].append(case.id)
            break
    students = {s: {k: (apply_patches(v, patches[s][k]) if k in patches[s] else v) for k, v in base.items()}
                for s in names}
    return students, got


# -- disguises -----------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    """Lines as Python reads them: ended by newlines only (not \x0c or \u2028, as splitlines has it)."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _strip_comments(text: str) -> str:
    lines = _lines(text)
    cuts: dict[int, int] = {}
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            cuts[tok.start[0] - 1] = tok.start[1]
    out = []
    for i, line in enumerate(lines):
        if i in cuts:
            kept = line[:cuts[i]].rstrip()
            if not kept:
                continue
            line = kept + "\n"
        out.append(line)
    return "".join(out)


def _redocument(text: str) -> str:
    """Every docstring replaced by a short one of the copier's own words."""
    tree = ast.parse(text)
    lines = _lines(text)
    spots = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Module)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                spots.append(first)
    for node in sorted(spots, key=lambda n: -n.lineno):
        indent = lines[node.lineno - 1][: node.col_offset]
        lines[node.lineno - 1: node.end_lineno] = [f'{indent}"""My version of this part."""\n']
    return "".join(lines)


def _names_read(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | \
           {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}


def _reorder(text: str) -> str:
    """Swap adjacent one-line assignments that neither read nor write each other's names."""
    tree = ast.parse(text)
    lines = _lines(text)
    swaps = []
    for node in ast.walk(tree):
        for body in (getattr(node, "body", None), getattr(node, "orelse", None)):
            if not isinstance(body, list):
                continue
            i = 0
            while i + 1 < len(body):
                x, y = body[i], body[i + 1]
                if (isinstance(x, (ast.Assign, ast.AugAssign)) and isinstance(y, (ast.Assign, ast.AugAssign))
                        and x.lineno == x.end_lineno and y.lineno == y.end_lineno and y.lineno == x.lineno + 1):
                    tx = set().union(*(_names_read(t) for t in getattr(x, "targets", [getattr(x, "target", None)])))
                    ty = set().union(*(_names_read(t) for t in getattr(y, "targets", [getattr(y, "target", None)])))
                    if not (tx & _names_read(y)) and not (ty & _names_read(x)):
                        swaps.append(x.lineno - 1)
                        i += 2
                        continue
                i += 1
    for at in swaps:
        lines[at], lines[at + 1] = lines[at + 1], lines[at]
    return "".join(lines)


def _rename(text: str, suffix: str) -> str:
    """Locals, parameters (not ``self``) and assigned attributes get new names."""
    tree = ast.parse(text)
    local: set[str] = set()
    attrs: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            local.update(a.arg for a in node.args.args + node.args.kwonlyargs if a.arg != "self")
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    local.add(sub.id)
                if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Store):
                    attrs.add(sub.attr)
    new = {name: f"{name}_{suffix}" if len(name) > 2 else f"{name}{name}{suffix}" for name in local | attrs}
    lines = _lines(text)
    edits = []
    toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    for i, tok in enumerate(toks):
        if tok.type != tokenize.NAME or tok.string not in new:
            continue
        after_dot = i > 0 and toks[i - 1].string == "."
        if after_dot and (tok.string not in attrs or i < 2 or toks[i - 2].string != "self"):
            continue  # np.pad stays np.pad; self.pad becomes self.pad_q
        edits.append((tok.start[0] - 1, tok.start[1], tok.end[1], new[tok.string]))
    for row, s, e, name in sorted(edits, reverse=True):
        lines[row] = lines[row][:s] + name + lines[row][e:]
    return "".join(lines)


def _recomment(text: str) -> str:
    """A comment of the copier's own above every third indented line."""
    out = []
    for i, line in enumerate(_lines(text)):
        body = line.lstrip()
        if i % 3 == 0 and line.startswith("    ") and body and not body.startswith(("else", "elif", "except",
                                                                                           "finally", ")", "]")):
            out.append(line[: len(line) - len(body)] + "# next step\n")
        out.append(line)
    return "".join(out)


def disguise(text: str, suffix: str = "q") -> str:
    text = _strip_comments(text)
    text = _redocument(text)
    text = _reorder(text)
    text = _rename(text, suffix)
    text = _recomment(text)
    ast.parse(text)  # still Python
    return text


def plant(students: dict[str, dict[str, str]], source: str, copier: str, files: list[str],
          suffix: str = "q") -> None:
    """``copier`` hands in ``source``'s ``files``, disguised (the rest is their own)."""
    for f in files:
        students[copier][f] = disguise(students[source][f], suffix)


def _definition(text: str, name: str) -> tuple[int, int]:
    """0-based line range [first, end) of the top-level def or class ``name`` (decorators too)."""
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            return first, node.end_lineno or node.lineno
    raise KeyError(name)


def plant_definitions(students: dict[str, dict[str, str]], source: str, copier: str, rel: str,
                      names: list[str], suffix: str = "q") -> None:
    """``copier`` keeps their own module but replaces the definitions ``names`` by ``source``'s,
    disguised (a partial copy: a function or two taken from a classmate)."""
    taken = disguise(students[source][rel], suffix)
    lines = _lines(students[copier][rel])
    copied = _lines(taken)
    for name in names:
        s, e = _definition("".join(lines), name)
        cs, ce = _definition("".join(copied), name)
        lines[s:e] = copied[cs:ce]
    students[copier][rel] = "".join(lines)


def planted_class(n: int = 30, seed: int = 7) -> tuple[dict[str, dict[str, str]], set[frozenset[str]]]:
    """The benchmark class: ``n`` independent students and five planted pairs (copiers are
    extra students who hand in a disguised copy of a classmate's module, or of two of its
    classes inside their own module)."""
    students, got = build_class(n, seed)
    right = {s: [c for c in ids if any(c == r.id for r in cases("right"))] for s, ids in got.items()}

    def owner(case_id: str) -> str:
        return next(s for s, ids in right.items() if case_id in ids)

    plan = [  # (copier, a classmate's corpus case whose module is copied)
        ("copier_a", "chapter7/loops"),
        ("copier_b", "chapter5/layers_written_differently"),
        ("copier_c", "chapter4/gradients"),
        ("copier_d", "chapter6/optimizers_textbook_forms"),
    ]
    solutions = solution_files()
    pairs = set()
    for i, (copier, case_id) in enumerate(plan):
        source = owner(case_id)
        case = next(c for c in cases("right") if c.id == case_id)
        students[copier] = dict(solutions)
        plant(students, source, copier, [f"{case.chapter}/{case.file}"], suffix="xyz"[i % 3])
        pairs.add(frozenset((source, copier)))
    # a partial copy: copier_e's own chapter 7, but for the two classes taken from a classmate
    source = owner("chapter7/sliding_windows")
    students["copier_e"] = dict(solutions)
    plant_definitions(students, source, "copier_e", "chapter7/conv.py", ["Convolution", "Pooling"], suffix="e")
    pairs.add(frozenset((source, "copier_e")))
    return students, pairs


def write_class(students: dict[str, dict[str, str]], root: Path) -> Path:
    """Each student as a folder ``root/<student>/exercises/chapterN/x.py``."""
    for s, files in students.items():
        for rel, text in files.items():
            p = root / s / "exercises" / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
    return root
