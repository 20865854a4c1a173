"""The mutation check (bench/mutation.py) kills an obvious mutant and passes the real solution."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def mutation():
    spec = importlib.util.spec_from_file_location("bench_mutation", REPO / "bench" / "mutation.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_generates_the_promised_kinds_of_mutant(mutation):
    source = (
        "import numpy as np\n"
        "def f(x: np.ndarray, h: float = 1e-7) -> np.ndarray:\n"
        '    """doc 0.5"""\n'
        "    y = np.sum(x, axis=0, keepdims=True) * 0.5 + x[1:3]\n"
        "    y += -x\n"
        "    return np.maximum(y, h) if x.ndim > 1 else y\n"
    )
    mutants = mutation.generate_mutants(source, "chapterX/m.py")
    descriptions = {m.description for m in mutants}
    for expected in [
        "1e-07 -> 0.0",
        "0.5 -> 1.0",
        "axis=0 -> axis=1",
        "axis=0 -> axis=-1",
        "remove keepdims",
        "* -> /",
        "+ -> -",
        "slice lower +1",
        "slice upper -1",
        "-x -> x",
        "+= -> =",
        "return x -> return",
        "return x -> return abs(x)",
        "x -> -x",
        "h -> -h",
        "> -> >=",
        "swap args 1,2 of maximum()",
        ".sum() -> .mean()",
    ]:
        assert expected in descriptions, expected
    # docstrings, annotations and imports are left alone; every mutant compiles and differs
    assert all(m.line >= 2 and "doc" not in m.code for m in mutants)
    assert len({m.source for m in mutants}) == len(mutants)
    for m in mutants:
        compile(m.source, m.path, "exec")
    # an argument is negated at one read at a time, never as the object of an attribute (x.ndim)
    negated = [m for m in mutants if m.description == "x -> -x"]
    assert len(negated) == 2  # np.sum(x, ...) and x[1:3]; not -x, not x.ndim
    assert all("(-x).ndim" not in m.source and "--x" not in m.source for m in negated)


def test_kills_an_obvious_mutant_and_passes_the_solution(mutation):
    solutions = REPO / "solutions"
    mutants = mutation.chapter_mutants(solutions, "chapter2")
    # AND with the bias -0.7 turned into -0.0 fires on (1, 0): the suite must notice
    obvious = [m for m in mutants if m.scope == "AND" and m.description == "0.7 -> 0.0"]
    assert len(obvious) == 1
    result = mutation.run_chapter("chapter2", solutions, jobs=2, equivalents={}, mutants=obvious)
    assert not result.baseline.killed, result.baseline.failed_tests
    assert result.baseline.score == result.baseline.max_score > 0
    assert [o.killed for o in result.outcomes] == [True]
    assert result.rate == 100.0
    # the same outcome, once its mutant is on the allow-list, is left out of the rate
    counted, excluded = mutation.split_equivalents(result.outcomes, {obvious[0].key: "test"})
    assert counted == [] and excluded == result.outcomes


def test_equivalents_file_entries_need_a_reason(mutation, tmp_path):
    good = tmp_path / "eq.txt"
    good.write_text("# comment\nchapter2/perceptron.py | OR | 0.2 -> 0.0 @41 | return x | any OR weights work\n")
    assert mutation.load_equivalents(good) == {
        "chapter2/perceptron.py | OR | 0.2 -> 0.0 @41 | return x": "any OR weights work"
    }
    bad = tmp_path / "bad.txt"
    bad.write_text("chapter2/perceptron.py OR no reason\n")
    with pytest.raises(SystemExit):
        mutation.load_equivalents(bad)
    unedited = tmp_path / "unedited.txt"
    unedited.write_text(f"chapter2/perceptron.py | OR | 0.2 -> 0.0 @41 | return x | {mutation.PLACEHOLDER}\n")
    with pytest.raises(SystemExit):
        mutation.load_equivalents(unedited)
