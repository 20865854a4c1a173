"""Issue 13, item 7: targeted nudges for common mistakes, each triggered by a wrong
implementation from the corpus (tests/wrong), in public and hidden tests alike (hidden ones
never give a number computed from the expected values)."""

from __future__ import annotations

import json
from pathlib import Path

import corpus
import pytest
from typer.testing import CliRunner

from grader.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _messages(tmp_path: Path, case: str, lang: str = "en") -> list[tuple[str, str, str]]:
    """What a student running ``grade check`` on this mistake reads (public and hidden tests,
    as in the course repository; --json for the exact message texts)."""
    wrong = corpus.case("wrong", case)
    target = wrong.target(tmp_path / "target")
    result = CliRunner().invoke(app, ["check", wrong.chapter, "--path", str(target), "--json", "--lang", lang])
    assert result.exit_code == 1, result.output
    tests = json.loads(result.output)["tests"]
    return [(t["name"], t["visibility"], t["message"]) for t in tests if t["status"] != "passed"]


@pytest.mark.parametrize(
    ("case", "nudge"),
    [
        ("chapter4/numerical_gradient_nudges_a_copy", "did you nudge a copy of x?"),
        ("chapter3/forward_softmax_output", "the output layer is the identity (book §3.4.3)"),
        ("chapter4/gradient_descent_wrong_default_lr", "uses the defaults of gradient_descent"),
        ("chapter6/adam_wrong_default_lr", "uses the defaults of Adam: check that your signature has lr=0.001"),
        ("chapter6/rmsprop_history_subtracts", "nan often comes from the square root of a negative number"),
        ("chapter5/softmax_loss_not_divided_by_batch", "did you forget to divide by the batch size"),
        ("chapter3/softmax_no_max_shift", "np.exp of a large score is inf, and inf / inf is nan"),
    ],
)
def test_the_mistake_gets_its_nudge(tmp_path: Path, case: str, nudge: str) -> None:
    messages = _messages(tmp_path, case)
    assert any(nudge in message for _, _, message in messages), messages


def test_batch_size_factor_is_named_in_public_tests_only(tmp_path: Path) -> None:
    messages = _messages(tmp_path, "chapter5/softmax_loss_not_divided_by_batch")
    public = [m for _, vis, m in messages if vis == "public" and "batch size" in m]
    hidden = [m for _, vis, m in messages if vis == "hidden" and "batch size" in m]
    assert any("exactly 4 times" in m for m in public)
    assert hidden and not any("times the expected" in m for m in hidden)


def test_no_backward_pass_is_blamed_for_a_numerical_gradient(tmp_path: Path) -> None:
    messages = _messages(tmp_path, "chapter4/numerical_gradient_nudges_a_copy")
    assert messages
    assert not any("backward" in message for _, _, message in messages), messages


def test_nudges_speak_chinese(tmp_path: Path) -> None:
    messages = _messages(tmp_path, "chapter3/forward_softmax_output", lang="zh")
    assert any("输出层是恒等函数" in message for _, _, message in messages)


def test_a_naive_softmax_is_told_about_overflow_not_square_roots(tmp_path: Path) -> None:
    messages = [m for _, _, m in _messages(tmp_path, "chapter3/softmax_no_max_shift")]
    nan = [m for m in messages if "nan" in m]
    assert nan and all("square root" not in m and "variance" not in m for m in nan), nan
    zh = [m for _, _, m in _messages(tmp_path / "zh", "chapter3/softmax_no_max_shift", lang="zh")]
    assert any("inf / inf 是 nan" in m for m in zh), zh
