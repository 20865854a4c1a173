"""Issue 13, item 8: a failing public test shows Python that rebuilds its inputs exactly;
hidden tests show shapes only, never values."""

from __future__ import annotations

import re
import shutil
import sys
import types
from pathlib import Path
from unittest.mock import patch

import numpy as np
from clirun import student_view

from grader.suites.chapter3._reference import random_array

ROOT = Path(__file__).resolve().parent.parent


def test_public_failures_rebuild_their_inputs_and_hidden_ones_do_not(tmp_path: Path) -> None:
    target = tmp_path / "target"
    shutil.copytree(ROOT / "solutions" / "chapter3", target / "chapter3")
    path = target / "chapter3" / "activations.py"
    path.write_text(path.read_text(encoding="utf-8") + "\n\ndef sigmoid(x):\n    return 1 / (1 + np.exp(x))\n", encoding="utf-8")
    tests = student_view("chapter3", target)
    public = tests["test_sigmoid_values"].message
    assert "To try it yourself (the inputs of test_sigmoid_values in grader/suites/chapter3/test_activations.py):" in public
    code = "\n".join(line[4:] for line in public.splitlines() if line.startswith("    "))
    assert code.splitlines()[:2] == ["import numpy as np", "from activations import sigmoid"]  # its imports too
    seen = {}
    student = types.ModuleType("activations")
    student.sigmoid = lambda x: seen.setdefault("x", x)
    with patch.dict(sys.modules, {"activations": student}):
        exec(code, {})  # the snippet runs as it is, in the chapter's folder
    assert np.array_equal(seen["x"], random_array(3))  # and rebuilds the test's input exactly
    hidden = tests["test_sigmoid_on_a_batch_over_a_wide_range"]
    assert hidden.visibility == "hidden" and hidden.status == "failed"
    assert "np.array" not in hidden.message and "To try it yourself" not in hidden.message
    assert not re.search(r"-?\d+\.\d{6,}", hidden.message)


def test_an_optimizer_step_is_rebuilt_with_the_params_from_before_the_step(tmp_path: Path) -> None:
    """The snippet used to show the params after the student's update had changed them."""
    import corpus

    from grader.suites.chapter6._reference import start

    SHAPES = {"W": (2, 3), "b": (3,)}  # as in test_momentum_three_steps

    wrong = corpus.case("wrong", "chapter6/momentum_sign_flipped")
    tests = student_view("chapter6", wrong.target(tmp_path / "t"), "--public")
    message = tests["test_momentum_three_steps"].message
    assert "step 1 of 3" in message and "To try it yourself" in message
    code = "\n".join(line[4:] for line in message.splitlines() if line.startswith("    "))
    seen = {}

    class Momentum:
        def __init__(self, **kwargs):
            pass

        def update(self, params, grads):
            seen["params"] = params

    student = types.ModuleType("optimizers")
    student.Momentum = Momentum
    with patch.dict(sys.modules, {wrong.file[:-3]: student}):
        exec(code, {})
    _, before = start(61, SHAPES)
    assert set(seen["params"]) == set(before)
    assert all(np.array_equal(seen["params"][k], before[k]) for k in before)


def test_a_long_snippet_is_cut_between_numbers_never_inside_one() -> None:
    from grader.grading.checks import REBUILD_MAX_CHARS, call_text, rebuild_snippet

    rng = np.random.default_rng(5)
    a, b, c = rng.normal(size=40), rng.normal(size=40), rng.normal(size=40)
    call_text("affine", a, b, c)
    snippet = rebuild_snippet()
    assert len(snippet) < REBUILD_MAX_CHARS + 200 and "cut here" in snippet
    numbers = {float(x) for x in np.concatenate([a, b, c])}
    literals = re.findall(r"(?<![\w.])-?\d+\.\d+(?:e-?\d+)?(?![\w.])", snippet.split("affine(")[0])
    assert literals and all(float(x) in numbers for x in literals)  # every number whole, as in the input
    assert snippet.splitlines()[-1] == "affine(x0, x1, x2)"
