"""The message catalogue: both languages everywhere, and the chapter2 report fully in Chinese."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader.cli import app
from grader.grading.catalog import load_catalog
from grader.util.i18n import LANGS, catalogue, error_text, fields_of, t

ROOT = Path(__file__).resolve().parent.parent


def test_every_message_has_both_languages_with_the_same_fields() -> None:
    problems = []
    for msg_id, entry in catalogue().items():
        for lang in LANGS:
            if not entry[lang].strip():
                problems.append(f"{msg_id}: no {lang}")
        if fields_of(entry["en"]) != fields_of(entry["zh"]):
            problems.append(f"{msg_id}: fields differ {fields_of(entry['en'])} vs {fields_of(entry['zh'])}")
    assert not problems, problems


def test_chinese_texts_are_chinese_and_english_texts_are_not() -> None:
    han = re.compile(r"[\u4e00-\u9fff]")
    for msg_id, entry in catalogue().items():
        assert not han.search(entry["en"]), f"{msg_id}: Chinese in the English text"
        assert han.search(entry["zh"]), f"{msg_id}: no Chinese in the zh text"


def test_every_message_id_used_in_the_code_exists() -> None:
    used = set()
    pattern = re.compile(r"""\b(?:t|_h)\(\s*["']([a-z_]+(?:\.[a-z_]+)+)["']""")
    for path in (ROOT / "grader").rglob("*.py"):
        if "suites" in path.parts:
            continue
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert len(used) > 40  # the scan really finds the calls
    missing = sorted(used - set(catalogue()))
    assert not missing, missing
    # ids built at run time: one per test status
    for status in ("passed", "failed", "not_attempted", "error", "timeout", "resource"):
        assert f"status.{status}" in catalogue()


def test_t_fills_fields_and_rejects_unknown_ids() -> None:
    assert t("check.footer.score", "zh", score="3", max="10") == "得分 3/10"
    assert t("check.footer.score", "en", score="3", max="10") == "score 3/10"
    with pytest.raises(KeyError):
        t("no.such.message", "en")


def test_unknown_chapter_error_is_translated() -> None:
    from grader.util.errors import UnknownName

    exc = UnknownName("chapter", "chaptr2", ["chapter2"])
    assert error_text(exc, "en") == str(exc)
    zh = error_text(exc, "zh")
    assert "章节" in zh and "chaptr2" in zh and "'chapter2'" in zh and "No chapter" not in zh


@pytest.fixture()
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _ascii_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", text))


def test_chapter2_report_renders_fully_in_chinese(workspace: Path) -> None:
    result = CliRunner().invoke(app, ["check", "chapter2", "--lang", "zh"], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    out = result.output
    chapter = load_catalog().chapter("chapter2")
    assert chapter.title_zh in out
    assert out.count("未作答") == 4  # the status column of every exercise
    assert "得分 0/10" in out and "公开测试通过 0/4" in out and "隐藏测试通过 0/4" in out
    for ex in chapter.exercises:
        assert ex.summary_zh in out
        assert "从这里开始：" + ex.hints[0].zh in out
        assert f"更多提示：grade hint {ex.id}" in out
    # Apart from ids, commands and the code in the hints, no English word is left.
    body = "\n".join(line for line in out.splitlines() if not line.startswith("隔离方式"))  # sandbox facts from the core
    allowed = {"grade", "hint", "s"} | {w for ex in chapter.exercises for w in _ascii_words(ex.id + " " + " ".join(h.zh for h in ex.hints))}
    assert _ascii_words(body) - allowed == set()
    english = CliRunner().invoke(app, ["check", "chapter2", "--lang", "en"], env={"COLUMNS": "200"}).output
    assert "not attempted" in english and "start here:" in english and "score 0/10" in english


def test_hint_and_list_follow_lang(workspace: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["hint", "chapter2.XOR", "1", "--lang", "zh"]).output
    assert load_catalog().exercise("chapter2.XOR").hints[0].zh[:10] in out
    bad = runner.invoke(app, ["hint", "chapter2.XOR", "9", "--lang", "zh"])
    assert bad.exit_code == 2 and "提示编号为 1 到 2" in bad.output
    listing = runner.invoke(app, ["list", "--lang", "zh"]).output
    assert "感知机" in listing and "（共 10 分）" in listing and "points" not in listing


def test_locale_picks_the_language(workspace: Path) -> None:
    out = CliRunner().invoke(app, ["hint", "chapter2.AND", "1"], env={"GRADE_LANG": "zh_CN.UTF-8"}).output
    assert "感知机在" in out


def test_failing_tests_render_in_chinese_too() -> None:
    import io

    from grader import reports
    from grader.grading import results

    statuses = ["failed", "error", "timeout", "resource", "passed"]
    tests = tuple(
        results.TestResult("chapter2.XOR", f"test_{s}", s, 0.0, 1.0, "hidden" if s == "failed" else "public", "feedback")  # type: ignore[arg-type]
        for s in statuses
    )
    report = results.CheckReport("chapter2", "/tmp/x", tests, 0.1)
    out = io.StringIO()
    reports.render_check(report, load_catalog(), reports.console(file=out, width=200), "zh")
    text = out.getvalue()
    for s in statuses:
        assert t(f"status.{s}", "zh") in text
    assert "（隐藏测试）" in text and "提示：grade hint chapter2.XOR" in text
    for english in ("failed", "error", "timeout", "over a limit", "(hidden)", "hint:", "score", "public checks"):
        assert english not in text.replace("test_failed", "").replace("test_error", "").replace("test_timeout", ""), english


def test_the_compiled_catalogue_is_fresh_and_the_same_as_the_toml_files() -> None:
    """messages.compiled.json spares every command the TOML parse (about 60 ms); after editing a
    messages*.toml, run `python -m grader.util.i18n` to make it again."""
    import json

    from grader.util import i18n

    compiled = json.loads(i18n.COMPILED_FILE.read_text(encoding="utf-8"))
    paths = i18n._sources()
    assert compiled["digest"] == i18n.files_digest(paths), "stale: run python -m grader.util.i18n"
    assert compiled["messages"] == i18n._parse(paths)


def test_an_edited_toml_file_wins_over_a_stale_or_broken_compiled_catalogue(tmp_path, monkeypatch) -> None:
    import shutil

    from grader.util import i18n

    data = tmp_path / "data"
    shutil.copytree(i18n.MESSAGES_FILE.parent, data)
    monkeypatch.setattr(i18n, "MESSAGES_FILE", data / "messages.toml")
    monkeypatch.setattr(i18n, "COMPILED_FILE", data / "messages.compiled.json")
    toml = data / "messages.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '\n"test.added" = { en = "new", zh = "新" }\n', encoding="utf-8")
    i18n.catalogue.cache_clear()
    try:
        assert i18n.catalogue()["test.added"]["zh"] == "新"  # stale JSON: the TOML is read
        (data / "messages.compiled.json").write_text('{"digest": "x", "messages": [', encoding="utf-8")
        i18n.catalogue.cache_clear()
        assert i18n.catalogue()["test.added"]["en"] == "new"  # broken JSON: the same
        i18n.compile_catalogue()
        i18n.catalogue.cache_clear()
        monkeypatch.setattr(i18n, "_parse", lambda paths: {})  # fresh JSON: no TOML parse
        assert i18n.catalogue()["test.added"]["en"] == "new"
    finally:
        i18n.catalogue.cache_clear()
