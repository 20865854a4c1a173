"""Issue 13, item 5: what the student's code prints during a test is captured per test (at
most 20 lines / 2 KB, control characters removed) and shown under the test when it fails;
``--show-output`` shows it for every test. Never for hidden tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader.cli import app

ROOT = Path(__file__).resolve().parent.parent

NOISY = '''

_solution_sigmoid = sigmoid
_solution_relu = relu


def sigmoid(x):
    print("sigmoid got", x.shape)
    for i in range(30):
        print("line", i, "\\x1b[2J\\x07bell")
    return 1 / (1 + np.exp(x))  # wrong


def relu(x):
    print("relu called with", x.shape, "x[0] =", float(x.reshape(-1)[0]))
    return _solution_relu(x)
'''


@pytest.fixture(scope="module")
def noisy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("noisy") / "exercises"
    shutil.copytree(ROOT / "solutions", target)
    path = target / "chapter3" / "activations.py"
    path.write_text(path.read_text(encoding="utf-8") + NOISY, encoding="utf-8")
    return target


def _run(target: Path, *extra: str) -> str:
    result = CliRunner().invoke(app, ["check", "chapter3", "--path", str(target), "--lang", "en", *extra], env={"COLUMNS": "120"})
    assert result.exit_code == 1
    return result.output


def _block(out: str, test: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(("✗", "✓", "!")) and f" {test}" in line)
    block = []
    for line in lines[start + 1 :]:
        if line.lstrip().startswith(("✗", "✓", "!", "⧗", "○", "hint:")) or not line.strip():
            break
        block.append(line)
    return block


def test_a_failing_test_shows_what_the_code_printed_capped_and_clean(noisy: Path) -> None:
    out = _run(noisy)
    block = _block(out, "test_sigmoid_values")
    assert "    your code printed:" in block
    printed = [line for line in block if line.startswith("    │ ")]
    assert printed[0] == "    │ sigmoid got (7,)"
    assert len(printed) == 21 and printed[-1] == "    │ … 11 more line(s) not shown"  # 20 lines, then the count
    assert "\x1b" not in out and "\x07" not in out
    # passing tests stay quiet without --show-output
    assert "relu called with" not in out


def test_hidden_tests_never_show_output(noisy: Path) -> None:
    out = _run(noisy, "--show-output")
    hidden = _block(out, "test_sigmoid_on_a_batch_over_a_wide_range")
    assert not any("│" in line for line in hidden)
    assert out.count("relu called with") == 2  # the public relu tests only; the hidden one prints too
    assert "relu called with (7,)" in out and "relu called with (2, 5)" in out
    assert "relu called with (3, 2, 4)" not in out  # the hidden test's input


def test_show_output_for_passing_tests_and_json(noisy: Path) -> None:
    out = _run(noisy, "--show-output")
    block = _block(out, "test_relu_keeps_positives_and_zeroes_negatives")
    assert any(line.startswith("    │ relu called with (7,)") for line in block)
    data = json.loads(CliRunner().invoke(app, ["check", "chapter3", "--path", str(noisy), "--json"]).output)
    outputs = [a for a in data["artifacts"] if a.get("kind") == "test_output"]
    assert {a["test"] for a in outputs} >= {"test_sigmoid_values", "test_relu_keeps_positives_and_zeroes_negatives"}
    for a in outputs:
        assert len(a["text"].encode()) <= 2048 and len(a["text"].splitlines()) <= 20


KERAS_BARS = '''

_solution_sigmoid = sigmoid


def sigmoid(x):
    # what keras' fit(..., verbose=1) writes to a file: colours, then backspaces over the line
    for step in (1, 2):
        bar = "\\x1b[32m" + "━" * 10 * step + "\\x1b[0m\\x1b[37m" + "━" * 10 * (2 - step) + "\\x1b[0m"
        print(f"\\x1b[1m{step}/2\\x1b[0m {bar} \\x1b[1m0s\\x1b[0m 14ms/step - loss: 0.{9 - step}", end="\\b" * 40)
        print()
    return 1 / (1 + np.exp(x))  # wrong
'''


@pytest.mark.parametrize("lang, nudge", [("en", "pass verbose=0 to fit"), ("zh", "传入 verbose=0")])
def test_keras_progress_bars_show_clean_with_a_nudge_to_verbose_0(tmp_path: Path, lang: str, nudge: str) -> None:
    target = tmp_path / "exercises"
    shutil.copytree(ROOT / "solutions" / "chapter3", target / "chapter3")
    path = target / "chapter3" / "activations.py"
    path.write_text(path.read_text(encoding="utf-8") + KERAS_BARS, encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "chapter3", "--path", str(target), "--lang", lang, "--public"],
                                env={"COLUMNS": "120"})
    out = result.output
    assert "│ 2/2 ━━━━━━━━━━━━━━━━━━━━ 0s 14ms/step - loss: 0.7" in out
    assert "[0m" not in out and "[1m" not in out and "[32m" not in out  # no escape fragments
    assert nudge in " ".join(out.split())
