"""`grade --help`, every command's help, click's own words and the quiz CLI's errors in Chinese.

The language comes from GRADE_LANG=zh or from `--lang zh` anywhere on the command line (also
after the command, where click handles `--help` before any option callback has run). English
output stays as it was.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from quizfixtures import make_workspace, small_bank
from typer.testing import CliRunner

from grader.cli import app
from grader.quiz.session import present

ROOT = Path(__file__).resolve().parent.parent
ZH = {"GRADE_LANG": "zh", "COLUMNS": "100"}
EN = {"GRADE_LANG": "en", "COLUMNS": "100"}


def _tree() -> dict[tuple[str, ...], object]:
    """Every command and group of the app, by its path (enumerated, so a new command is covered)."""
    out: dict[tuple[str, ...], object] = {}

    def walk(cmd: object, path: tuple[str, ...]) -> None:
        out[path] = cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return out


TREE = _tree()
COMMANDS = sorted(p for p in TREE if p)
NAMES = {"grade"} | {name for path in COMMANDS for name in path}
# Argument names show in usage lines and argument rows, like metavars.
ARGUMENTS = {p.name for cmd in TREE.values() for p in getattr(cmd, "params", []) if p.param_type_name == "argument"}
# Proper names that stay as they are in a Chinese sentence (all-capital names such as CSV, JSON,
# TOML, GIFT, HTML are dropped with the other all-capital metavars).
PROPER_NAMES = {"Canvas", "Gradescope", "SQLite", "Dask", "Aiken", "Moodle"}


def english_runs(text: str) -> list[str]:
    """Runs of two or more English words left once options, metavars, code, command names,
    argument names, file names and proper names are taken out (each becomes a separator, so
    words on either side of one are not counted as a run)."""
    cut = " · "
    text = re.sub(r"`[^`]*`", cut, text)  # code (click may wrap it over two lines)
    text = re.sub(r"<[^<>\n]*>", cut, text)  # <path>, <en|zh>, <int range>
    text = re.sub(r"\{[\w.-]+\}", cut, text)  # {chapter}
    text = re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*", cut, text)  # --db, -j
    text = re.sub(r"[\w/-]*\.[A-Za-z][\w/.-]*", cut, text)  # results.json, .gift/.txt, grader.cli
    text = re.sub(r"[\w.-]*/[\w./-]*", cut, text)  # exercises/
    text = re.sub(r"\b[A-Z][A-Z_]+\b", cut, text)  # OPTIONS, COMMAND, OUT; CSV, JSON
    for name in sorted(NAMES | ARGUMENTS | PROPER_NAMES | {"python"}, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", cut, text)
    return re.findall(r"[A-Za-z][A-Za-z'-]*(?:[ \t]+[A-Za-z][A-Za-z'-]*)+", text)


def test_the_checker_finds_english_and_passes_chinese() -> None:
    assert english_runs("  --help  Show this message and exit.") == ["Show this message and exit"]
    assert english_runs("Try 'grade check --help' for help.") == ["for help"]
    assert english_runs("用法：grade check [OPTIONS] {chapter}\n  --db <path>  SQLite 成绩册文件。  [默认：gradebook.sqlite]") == []
    assert english_runs("与 --format canvas 一起使用：Canvas 作业列标题（chapter2 = \"Perceptrons (12345)\"）") == []


def _invoke(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, args, env=env)


CLICK_WORDS = ("Usage:", "Options:", "Commands:", "Arguments:", "Show this message", "[default:", "[required]",
               "Install completion", "Show completion")


def _assert_chinese_help(out: str) -> None:
    assert "用法：" in out and "选项：" in out and "显示此帮助信息并退出。" in out, out
    for word in CLICK_WORDS:
        assert word not in out, (word, out)
    assert english_runs(out) == [], out


def test_grade_help_is_chinese() -> None:
    result = _invoke(["--help"], ZH)
    assert result.exit_code == 0, result.output
    _assert_chinese_help(result.output)
    assert "命令：" in result.output and "为当前 shell 安装命令补全。" in result.output
    assert "生成学生版" in result.output and "班级名单" in result.output  # instructor commands too


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_help_is_chinese(path: tuple[str, ...]) -> None:
    result = _invoke([*path, "--help"], ZH)
    assert result.exit_code == 0, result.output
    _assert_chinese_help(result.output)
    assert f"grade {' '.join(path)}" in result.output


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_lang_after_the_command_makes_its_help_chinese(path: tuple[str, ...]) -> None:
    result = _invoke([*path, "--help", "--lang", "zh"], EN)
    assert result.exit_code == 0, result.output
    _assert_chinese_help(result.output)


def test_lang_before_the_command_and_lang_en_over_a_chinese_locale() -> None:
    _assert_chinese_help(_invoke(["--lang", "zh", "collect", "--help"], EN).output)
    back = _invoke(["check", "--help", "--lang", "en"], ZH).output
    assert "Usage: grade check [OPTIONS] {chapter}" in back and "Grade one chapter of your exercises" in back
    assert "检查" not in back


def test_python_m_grader_cli_help_is_chinese() -> None:
    env = dict(os.environ, GRADE_LANG="zh", COLUMNS="100")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "--help"], env=env, capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    _assert_chinese_help(proc.stdout)
    assert "用法：python -m grader.cli [OPTIONS] COMMAND [ARGS]..." in proc.stdout


def test_english_help_keeps_its_key_lines() -> None:
    out = _invoke(["--help"], EN).output
    for line in (
        "Usage: grade [OPTIONS] COMMAND [ARGS]...",
        "Check your deep-learning exercises, read hints and take quizzes.",
        "Options:",
        "Commands:",
        "Show this message and exit.",
        "Install completion for the current shell.",
        "Cut a student release: stubs, public suites,",
    ):
        assert line in out, (line, out)
    check = _invoke(["check", "--help"], EN).output
    for line in ("Arguments:", "[required]", "[default: text]", "Chapter to check, e.g. chapter3 (or just 3)."):
        assert line in check, (line, check)
    collect = _invoke(["collect", "--help"], EN).output
    assert "The SQLite gradebook file." in collect and "[default: 2; x>=1]" in collect


# --- click's usage errors -------------------------------------------------------------------

USAGE_ERRORS = [
    (["check"], "缺少参数 'chapter'。"),
    (["check", "chapter2", "--nosuch"], "没有这个选项：--nosuch"),
    (["check", "chapter2", "--format", "xx"], "'--format' 的值无效：'xx' 不是 'text', 'json', 'gradescope' 之一。"),
    (["check", "chapter2", "extra"], "多余的参数（extra）"),
    (["check", "chapter2", "--path"], "选项 '--path' 需要一个值。"),
    (["hint", "chapter2.XOR", "abc"], "'number' 的值无效：'abc' 不是有效的整数。"),
    (["collect", "-j", "0"], "'--workers' / '-j' 的值无效：0 不在范围 x>=1 内。"),
    (["chek"], "没有名为 'chek' 的命令。你是不是想输入 'check'？"),
    (["submit"], "缺少选项 '--student'。"),
]


@pytest.mark.parametrize(("args", "expected"), USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_usage_errors_are_chinese(args: list[str], expected: str) -> None:
    result = _invoke(args, ZH)
    assert result.exit_code == 2, result.output
    out = result.output
    assert expected in out, out
    assert "错误：" in out
    for word in ("Usage:", "Error:", "Try '", "Missing", "No such", "Invalid value", "unexpected"):
        assert word not in out, (word, out)
    assert english_runs(out) == [], out


def test_usage_error_shows_chinese_usage_and_help_hint() -> None:
    out = _invoke(["check", "--lang", "zh"], EN).output  # --lang after the command
    assert out.splitlines()[:4] == [
        "用法：grade check [OPTIONS] {chapter}",
        "运行 'grade check --help' 查看帮助。",
        "",
        "错误：缺少参数 'chapter'。",
    ], out


def test_usage_errors_in_english_are_unchanged() -> None:
    out = _invoke(["check"], EN).output
    assert out.splitlines()[:4] == [
        "Usage: grade check [OPTIONS] {chapter}",
        "Try 'grade check --help' for help.",
        "",
        "Error: Missing argument 'chapter'.",
    ], out
    assert "Error: No such option: --nosuch" in _invoke(["check", "chapter2", "--nosuch"], EN).output


def test_roster_without_a_subcommand_shows_chinese_help() -> None:
    result = _invoke(["roster"], ZH)
    _assert_chinese_help(result.output)


# --- the quiz CLI's own errors and notes, and grade submit -----------------------------------


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_workspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _both(args: list[str], input: str | None = None) -> tuple[str, str]:
    zh = CliRunner().invoke(app, args, env=ZH, input=input).output
    en = CliRunner().invoke(app, args, env=EN, input=input).output
    return zh, en


def test_quiz_without_a_chapter(workspace: Path) -> None:
    zh, en = _both(["quiz"])
    assert "请指定一章的测验，例如 `grade quiz chapter3`。这里有的测验：" in zh and "chapter3" in zh
    assert "Name a chapter quiz, e.g. `grade quiz chapter3`. Quizzes here:" in en


def test_quiz_answers_must_be_a_file(workspace: Path) -> None:
    zh, en = _both(["quiz", "chapter3", "--answers", "missing.json"])
    assert "missing.json 不是文件。--answers 需要一个 JSON 或 TOML 文件。" in zh
    assert "missing.json is not a file. --answers takes a JSON or TOML file." in en


def test_quiz_answers_file_of_the_wrong_shape(workspace: Path) -> None:
    (workspace / "a.json").write_text("[1, 2]", encoding="utf-8")
    zh, en = _both(["quiz", "chapter3", "--answers", "a.json"])
    assert "a.json：应当是一个对象 {题目编号: [选项编号]}。" in zh
    assert "a.json: expected an object {question id: [option ids]}." in en


def test_quiz_retry_without_an_attempt(workspace: Path) -> None:
    zh, en = _both(["quiz", "chapter3", "--plain", "--retry-missed"])
    assert "chapter3 还没有可以重做的作答记录。请先做一次：grade quiz chapter3" in zh
    assert "No earlier attempt at chapter3 to retry. Take it first: grade quiz chapter3" in en


def test_quiz_nothing_to_retry(workspace: Path) -> None:
    seed = 11
    answers = {p.question.id: list(p.question.correct_ids) for p in present(small_bank().questions, seed)}
    (workspace / "right.json").write_text(json.dumps(answers), encoding="utf-8")
    first = CliRunner().invoke(app, ["quiz", "chapter3", "--answers", "right.json", "--seed", str(seed)], env=EN)
    assert first.exit_code == 0, first.output
    zh, en = _both(["quiz", "chapter3", "--plain", "--retry-missed"])
    assert "没有需要重做的题目：上一次作答全部正确。" in zh
    assert "Nothing to retry: every question of your last attempt was right." in en


def test_quiz_import_errors_and_report(workspace: Path) -> None:
    zh, en = _both(["quiz", "--import", "nope.gift"])
    assert "nope.gift 不是文件。--import 需要一个 GIFT 或 Aiken 文件。" in zh
    assert "nope.gift is not a file. --import takes a GIFT or Aiken file." in en
    src = workspace / "q.gift"
    src.write_text("::Q1:: 2 + 2 \\= ? {=4 ~3 ~5}\n\n::Essay:: Explain. {}\n", encoding="utf-8")
    first = CliRunner().invoke(app, ["quiz", "--import", str(src), "--lang", "zh"], env=EN)
    assert first.exit_code == 0, first.output
    assert "已从" in first.output and "导入 1 道题" in first.output and "跳过了 1 道题：" in first.output
    zh, en = _both(["quiz", "--import", str(src)])
    assert "q.toml 已存在；请用 -o 指定其他文件，或加上 --force。" in zh
    assert "q.toml exists; choose another file with -o or add --force." in en


def test_submit_messages(workspace: Path) -> None:
    (workspace / "exercises" / "chapter2").mkdir(parents=True, exist_ok=True)
    zh, en = _both(["submit", "--student", "bad id"])
    assert "学号由 1 到 64 个字母、数字或 . _ @ + - 组成（不能有空格），例如 --student s1234567。" in zh
    assert "A student id is 1-64 letters, digits or . _ @ + - (no spaces), e.g. --student s1234567." in en
    ok = CliRunner().invoke(app, ["submit", "--student", "s1", "--lang", "zh"], env=EN)
    assert ok.exit_code == 0, ok.output
    assert "已写入" in ok.output and "请提交这个文件。" in ok.output


def test_every_click_message_id_exists() -> None:
    from grader.cli import text as clitext
    from grader.util.i18n import catalogue

    ids = set(clitext.message_ids())
    assert ids and ids <= set(catalogue()), sorted(ids - set(catalogue()))


def test_a_runs_language_ends_with_the_run(monkeypatch) -> None:
    """`--lang zh` of one invocation must not leak into the next call in the same process
    (completion functions, a second CliRunner run)."""
    from grader.util.i18n import session_lang

    monkeypatch.setenv("GRADE_LANG", "en")
    assert CliRunner().invoke(app, ["list", "--lang", "zh"]).exit_code == 0
    assert session_lang() == "en"
    assert "Usage:" in CliRunner().invoke(app, ["check", "--help"]).output


@pytest.mark.parametrize("env, student_head, teacher_head", [(EN, "Commands:", "Instructor commands:"),
                                                            ({"GRADE_LANG": "zh", "COLUMNS": "100"}, "命令：", "教师命令：")])
def test_help_lists_the_students_commands_apart_from_the_instructors(env, student_head, teacher_head) -> None:
    out = _invoke(["--help"], env).output
    lines = out.splitlines()
    student, teacher = lines.index(student_head), lines.index(teacher_head)
    assert student < teacher

    def names(start: int) -> list[str]:
        block = []
        for line in lines[start + 1:]:
            if not line.startswith("  "):
                break
            block.append(line.split()[0])
        return block

    assert set(names(student)) == {"check", "hint", "list", "quiz", "status", "watch", "submit"}
    assert set(names(teacher)) == {"release", "collect", "export", "gradescope-autograder", "report", "roster"}
