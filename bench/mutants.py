"""Mutation check: mutate solutions/chapterN one site at a time and see whether the suites notice.

    python bench/mutants.py chapter3 [chapter4 ...]

Operators: swap + - * / (and ** -> *), swap > >= < <= == !=, change numeric constants (c+1 or 0 for
ints, 2c or -c for floats), flip booleans (keepdims), drop a unary minus (also turns axis=-1 into
axis=1). A mutant is killed when any test loses a point. Survivors are printed so that each can be
judged: an equivalent mutant (same behaviour, e.g. h -> -h in a central difference) cannot be killed.
Runs every mutant through grader.runner.run_check without the sandbox: about 1 s per mutant.
"""

import ast
import shutil
import sys
import tempfile
from pathlib import Path

from grader.catalog import load_catalog
from grader.runner import run_check

root = Path(__file__).resolve().parent.parent
SWAP_BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult}
SWAP_CMP = {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}


def sites(tree):
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) in SWAP_BIN:
            out.append((node, "binop"))
        elif isinstance(node, ast.Compare) and type(node.ops[0]) in SWAP_CMP:
            out.append((node, "cmp"))
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float) and not isinstance(node.value, bool):
            out.append((node, "const"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            out.append((node, "bool"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            out.append((node, "neg"))
    return out


def mutants(src):
    tree = ast.parse(src)
    n = len(sites(tree))
    for i in range(n):
        for variant in (0, 1):
            t = ast.parse(src)
            node, kind = sites(t)[i]
            desc = None
            if kind == "binop" and variant == 0:
                old = type(node.op).__name__
                node.op = SWAP_BIN[type(node.op)]()
                desc = f"{old}->{type(node.op).__name__}"
            elif kind == "cmp" and variant == 0:
                old = type(node.ops[0]).__name__
                node.ops = [SWAP_CMP[type(node.ops[0])]()]
                desc = f"{old}->{type(node.ops[0]).__name__}"
            elif kind == "const":
                v = node.value
                new = (
                    (v + 1 if variant == 0 else (0 if v != 0 else 2))
                    if isinstance(v, int)
                    else (v * 2 if variant == 0 else -v if v != 0 else 1.0)
                )
                node.value = new
                desc = f"{v!r}->{new!r}"
            elif kind == "bool" and variant == 0:
                node.value = not node.value
                desc = f"{not node.value}->{node.value}"
            elif kind == "neg" and variant == 0:
                desc = "drop unary minus"
                parent = [
                    p
                    for p in ast.walk(t)
                    for f, v in ast.iter_fields(p)
                    if v is node or (isinstance(v, list) and node in v)
                ]
                for p in parent:
                    for f, v in ast.iter_fields(p):
                        if v is node:
                            setattr(p, f, node.operand)
                        elif isinstance(v, list) and node in v:
                            v[v.index(node)] = node.operand
            if desc is None:
                continue
            yield f"line {node.lineno}: {desc}", ast.unparse(t)


def check(chapter_name):
    chap = load_catalog().chapter(chapter_name)
    total = killed = 0
    survivors = []
    for mod in chap.modules:
        src = (root / "solutions" / chap.id / f"{mod}.py").read_text()
        for desc, msrc in mutants(src):
            with tempfile.TemporaryDirectory() as tmp:
                dst = Path(tmp) / chap.id
                shutil.copytree(root / "solutions" / chap.id, dst)
                (dst / f"{mod}.py").write_text(msrc)
                rep = run_check(chap, Path(tmp), sandbox="none")
            total += 1
            if any(t.score < t.max_score for t in rep.tests):
                killed += 1
            else:
                survivors.append(f"{mod}.py {desc}")
    print(f"{chap.id}: {killed}/{total} killed")
    for s in survivors:
        print("  survived:", s)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        check(name)
