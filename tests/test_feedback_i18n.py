"""Issue 13, item 1: per-test feedback comes from the message catalogue, in the student's
language, and ``--lang`` works before or after any command."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner
from zhcheck import english_sentences

from grader.cli import app
from grader.util.i18n import catalogue

ROOT = Path(__file__).resolve().parent.parent

BROKEN_CHAPTER3 = '''

def sigmoid(x):
    return 1 / (1 + np.exp(x))  # the sign of the exponent is wrong: values off


def relu(x):
    raise NotImplementedError  # not attempted


def tanh(x):
    if x.shape == (7,):  # the public test's input: loops until the grader stops it
        while True:
            pass
    return np.tanh(x)


def softmax(x):
    return _helper(x)


def _helper(x):
    return 1 // 0  # a crash
'''


@pytest.fixture(scope="module")
def broken_chapter3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("broken3") / "exercises"
    shutil.copytree(ROOT / "solutions", target)
    path = target / "chapter3" / "activations.py"
    source = path.read_text(encoding="utf-8")
    for name in ("sigmoid", "relu", "tanh", "softmax"):  # keep the originals out of the way
        source = re.sub(rf"^def {name}\(", f"def _solution_{name}(", source, count=1, flags=re.M)
    path.write_text(source + BROKEN_CHAPTER3, encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def zh_report(broken_chapter3: Path) -> str:
    # --lang before the command, as `grade --lang zh check chapter3` is typed
    result = CliRunner().invoke(
        app, ["--lang", "zh", "check", "chapter3", "--path", str(broken_chapter3)], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 1, result.output
    return result.output


def test_a_failing_chapter3_report_is_chinese_in_every_sentence(zh_report: str) -> None:
    out = zh_report
    # the four kinds of problem, each said in Chinese
    assert "个值中有" in out and "个不对" in out and "相对误差" in out  # values off
    assert "每个测试限时 10 秒" in out and "超时" in out  # timeout
    assert "softmax(<float64 (5,)>) 时你的代码抛出了异常 ZeroDivisionError" in out  # crash, naming the call
    assert "出错" in out
    assert "未作答" in out and "从这里开始" in out  # not attempted
    # the isolation line in Chinese, whichever sandbox this machine gives (bubblewrap, or namespaces)
    assert "隔离方式：" in out and ("沙箱" in out or "白名单根目录" in out)
    sentences = english_sentences(out)
    assert sentences == [], sentences


def test_the_same_report_in_english_after_the_command(broken_chapter3: Path) -> None:
    result = CliRunner().invoke(app, ["check", "chapter3", "--path", str(broken_chapter3), "--lang", "en", "--public"])
    out = result.output
    assert "value(s) are off" in out and "did not finish in time (the limit is 10 s per test" in out and "raised ZeroDivisionError" in out
    assert not re.search(r"[\u4e00-\u9fff]", out)


def test_lang_before_the_command_reaches_the_feedback(tmp_path: Path) -> None:
    target = tmp_path / "exercises"
    shutil.copytree(ROOT / "solutions", target)
    (target / "chapter2" / "perceptron.py").write_text(
        "def AND(x1, x2):\n    return 2\n\ndef NAND(x1, x2):\n    return 1.0\n\n"
        "def OR(x1, x2):\n    raise NotImplementedError\n\ndef XOR(x1, x2):\n    return None\n",
        encoding="utf-8",
    )
    out = CliRunner().invoke(app, ["--lang", "zh", "check", "chapter2", "--path", str(target)], env={"COLUMNS": "200"}).output
    assert "感知机只输出 0 或 1" in out  # AND returns 2
    assert "请返回 Python 整数 0 或 1" in out  # NAND returns a float
    assert "是不是忘了写 `return` 语句" in out  # XOR returns None
    # and the language does not stick to the next command of the same process
    again = CliRunner().invoke(app, ["check", "chapter2", "--path", str(target), "--public"], env={"GRADE_LANG": "en"}).output
    assert "a perceptron outputs only 0 or 1" in again and "感知机" not in again


def test_every_feedback_id_used_by_the_grader_and_the_suites_exists() -> None:
    pattern = re.compile(r"""\btr\(\s*["']([a-z_0-9]+(?:\.[a-z_0-9]+)+)["']""")
    used = set()
    for path in (ROOT / "grader").rglob("*.py"):
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert len(used) > 20
    assert sorted(used - set(catalogue())) == []


def test_usage_errors_of_the_core_speak_chinese(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["--lang", "zh", "check", "chapter2", "--path", str(tmp_path / "missing")])
    assert out.exit_code == 2 and "不是文件夹" in out.output and "is not a folder" not in out.output
    both = CliRunner().invoke(app, ["check", "chapter2", "--path", str(tmp_path), "--solutions", "--lang", "zh"])
    assert "只能选一个" in both.output
    ambiguous = CliRunner().invoke(app, ["hint", "sigmoid", "--lang", "zh"])
    assert ambiguous.exit_code == 0 or "请使用完整编号" in ambiguous.output


def test_an_unknown_quiz_name_is_said_whole_in_chinese() -> None:
    """'No quiz bank named ...' used to lose its noun in Chinese ("没有名为 'x' 的。")."""
    result = CliRunner().invoke(app, ["quiz", "nosuch"], env={"GRADE_LANG": "zh"})
    assert result.exit_code == 2
    assert "没有名为 'nosuch' 的测验题库。" in result.output and "的。" not in result.output
    assert "已有的测验题库：chapter1" in result.output
