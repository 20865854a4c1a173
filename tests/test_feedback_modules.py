"""Issue 13, item 3: a module that does not load is reported once, as Python prints the error
(file, line, the line with a caret, the message); its tests say they were blocked by it."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

from typer.testing import CliRunner

from grader.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _workspace(tmp_path: Path, chapter: str, module: str, edit) -> Path:
    target = tmp_path / "exercises"
    shutil.copytree(ROOT / "solutions", target)
    path = target / chapter / module
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return target


def _check(target: Path, chapter: str, *extra: str) -> str:
    result = CliRunner().invoke(app, ["check", chapter, "--path", str(target), "--lang", "en", *extra], env={"COLUMNS": "120"})
    assert result.exit_code == 1, result.output
    return result.output


def test_a_syntax_error_is_shown_once_with_its_caret(tmp_path: Path) -> None:
    target = _workspace(tmp_path, "chapter3", "activations.py", lambda s: s + "\n\ndef broken(x:\n    return x\n")
    out = _check(target, "chapter3")
    lines = out.splitlines()
    assert out.count("    SyntaxError: '(' was never closed") == 1  # the error block, once
    header = next(i for i, line in enumerate(lines) if "activations.py could not be loaded" in line)
    frame, code, caret = lines[header + 1 : header + 4]
    assert 'File "exercises/chapter3/activations.py", line' in frame
    assert code.strip() == "def broken(x:"
    assert caret.strip() == "^" and caret.index("^") == code.index("(")  # under the open parenthesis
    blocked = [line for line in lines if "Not run: activations.py could not be loaded (SyntaxError: '(' was never closed at line" in line]
    assert len(blocked) == 1  # said once, under the first test it blocks
    errors = [line for line in lines if re.match(r"  ! test_\w+( \(hidden\))?  error$", line)]
    assert len(errors) == 38  # every test is listed: 30 of activations, and 8 of network, which imports it
    assert "graded with Python" not in out  # ordinary syntax: no talk of versions
    assert "To try it yourself" not in out  # nothing ran, so no inputs to rebuild


def test_syntax_from_a_newer_python_names_the_python_that_grades(tmp_path: Path) -> None:
    target = _workspace(tmp_path, "chapter2", "perceptron.py", lambda s: s + "\n\ntype Bit = int\n")
    out = _check(target, "chapter2")
    version = ".".join(map(str, sys.version_info[:3]))
    assert f"graded with Python {version}" in out and out.count("type Bit = int") == 1


def test_an_import_error_blocks_only_the_module_that_imports(tmp_path: Path) -> None:
    target = _workspace(
        tmp_path, "chapter3", "network.py", lambda s: s.replace("import numpy as np\n", "import numpy as np\nimport torch\n", 1)
    )
    out = _check(target, "chapter3")
    assert out.count("    ModuleNotFoundError: No module named 'torch'") == 1
    assert "    import torch" in out and "Traceback (most recent call last):" in out
    assert out.count("Not run: loading network.py stopped at line 6 with ModuleNotFoundError: No module named 'torch'") == 1
    assert len(re.findall(r"^  ! test_forward\w*( \(hidden\))?  error$", out, flags=re.M)) == 8
    assert "chapter3.sigmoid" in out and "activations.py could not be loaded" not in out


def test_in_chinese_and_in_json(tmp_path: Path) -> None:
    target = _workspace(tmp_path, "chapter2", "perceptron.py", lambda s: s.replace("def AND(x1: float, x2: float)", "def AND(x1: float, x2: float", 1))
    zh = CliRunner().invoke(app, ["check", "chapter2", "--path", str(target), "--lang", "zh"], env={"COLUMNS": "120"}).output
    assert "perceptron.py 无法加载" in zh and "无法加载（第 14 行 SyntaxError" in zh
    data = json.loads(CliRunner().invoke(app, ["check", "chapter2", "--path", str(target), "--json"]).output)
    errors = [a for a in data["artifacts"] if a.get("kind") == "module_error"]
    assert len(errors) == 1 and errors[0]["syntax"] and "^" in errors[0]["text"]
