"""Issue 13, item 6: a crash names the call that crashed (function, argument shapes and
dtypes, seed), in public and hidden tests; hidden ones show shapes only, never values."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from clirun import student_view

ROOT = Path(__file__).resolve().parent.parent


def _grade(tmp_path: Path, chapter: str, module: str, extra: str):
    target = tmp_path / "target"
    shutil.copytree(ROOT / "solutions" / chapter, target / chapter)
    path = target / chapter / module
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return student_view(chapter, target)


def test_a_crash_in_softmax_names_the_call_in_public_and_hidden_tests(tmp_path: Path) -> None:
    tests = _grade(tmp_path, "chapter3", "activations.py", "\n\ndef softmax(x):\n    return _helper(x)\n\n\ndef _helper(x):\n    return 1 // 0\n")
    public = tests["test_softmax_of_a_vector"].message
    assert public.startswith("softmax(<float64 (5,)>) raised ZeroDivisionError")
    assert "in _helper" in public and "return 1 // 0" in public  # the frames, with the student's lines
    hidden = tests["test_softmax_shifts_each_row_by_its_own_max"]
    assert hidden.visibility == "hidden"
    assert hidden.message.startswith("softmax(<float64 (3, 3)>) raised ZeroDivisionError")
    assert not re.search(r"\d\.\d{3}", hidden.message)  # shapes, no values
    assert "seed" not in public and "seed" not in hidden.message  # a seed nobody can rerun is noise


def test_a_crash_in_a_method_names_the_method_and_its_argument(tmp_path: Path) -> None:
    extra = '''

_Affine = Affine


class Affine(_Affine):
    def backward(self, dout):
        raise ValueError("shapes not aligned")
'''
    tests = _grade(tmp_path, "chapter5", "layers.py", extra)
    message = tests["test_affine_backward_gives_dx_dW_db"].message
    assert message.startswith("Affine.backward(<float64 (3, 2)>) raised ValueError: shapes not aligned")


def test_a_crash_elsewhere_than_the_described_call_names_the_function(tmp_path: Path) -> None:
    extra = '''

_MulLayer = MulLayer


class MulLayer(_MulLayer):
    def forward(self, x, y):
        raise RuntimeError("boom")
'''
    tests = _grade(tmp_path, "chapter5", "layers.py", extra)
    message = tests["test_mul_layer_forward_and_backward"].message if "test_mul_layer_forward_and_backward" in tests else next(
        t.message for t in tests.values() if t.exercise == "chapter5.MulLayer" and t.status == "error"
    )
    assert message.startswith(("forward(", "MulLayer.forward(")) and "raised RuntimeError: boom" in message
