"""Safe exports (issue 11): ids validated and compared case-insensitively; no CSV or Canvas
cell can start a formula; control characters from submissions never reach the gradebook,
the terminal or the exports."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from instructor_helpers import make_folder_submission, zip_folder
from typer.testing import CliRunner

from grader.cli import app
from grader.instructor.export import safe_cell
from grader.instructor.gradebook import Gradebook, Graded

FORMULA = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def run(*args: str) -> str:
    res = CliRunner().invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.stdout


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_formula_ids_are_neutralised_in_csv_and_canvas(tmp_path):
    subs = tmp_path / "subs"
    names = ["+bob", "-2+3", "@SUM(A1)", "=1+1", "carol"]
    for name in names:
        make_folder_submission(subs, name, "stub")
    db = tmp_path / "gb.sqlite"
    run("collect", str(subs), "--db", str(db), "--workers", "1", "--chapter", "chapter2")
    for fmt in ("csv", "canvas"):
        table = cells(run("export", "--db", str(db), "--format", fmt))
        for row in table:
            for cell in row:
                assert not cell.startswith(FORMULA), (fmt, cell)
    ids = [r[0] for r in cells(run("export", "--db", str(db), "--format", "csv"))[1:]]
    # kept recognisable, made inert; '=' is not an id character at all
    assert set(ids) == {"'+bob", "'-2+3", "'@sum_a1_", "_1+1", "carol"}
    canvas = cells(run("export", "--db", str(db), "--format", "canvas"))
    assert {r[2] for r in canvas[2:]} == {"'+bob", "'-2+3", "'@sum_a1_", "_1+1", "carol"}


def test_old_gradebook_rows_with_hostile_ids_are_neutralised_and_merged_case_insensitively(tmp_path):
    db = tmp_path / "gb.sqlite"
    chapter = {"chapter": "chapter2", "score": 4.0, "max_score": 10.0, "execution_time": 0.1, "tests": []}
    with Gradebook(db) as gb:
        run_id = gb.start_run(1, "local")
        for i, sid in enumerate(["\t=HYPERLINK(\"http://x\")", "\r+1", "Alice", "alice"]):
            gb.record(Graded(f"{i:064x}", sid, "x", "folder", "graded", submitted_at=f"2026-01-0{i + 1}",
                             chapters=[dict(chapter, score=float(i))]), run_id, "0")
    table = cells(run("export", "--db", str(db), "--format", "csv"))
    ids = [r[0] for r in table[1:]]
    assert ids.count("alice") == 1 and len(ids) == 3  # Alice and alice are one student
    alice = next(r for r in table[1:] if r[0] == "alice")
    assert alice[3] == "3"  # the newer of the two
    for row in table + cells(run("export", "--db", str(db), "--format", "canvas")):
        for cell in row:
            assert not cell.startswith(FORMULA) and "\t" not in cell and "\r" not in cell, cell


@pytest.mark.parametrize("value, expected", [("=cmd", "'=cmd"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"),
                                             ("\tx", "'x"), ("\r=x", "'=x"), ("ok", "ok"), (3.0, "3"),
                                             ("a\x1b[2Jb", "a[2Jb")])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_control_characters_from_a_submission_reach_nothing(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    staged = make_folder_submission(tmp_path / "staging", "eve", "stub")
    evil = "\x1b]0;pwned\x07\x1b[2J\x1b[31mmallory\r\n"
    manifest = {"student": evil, "created": "\x1b[1m9999", "grader_version": "\x9b31m",
                "files": {"exercises/chapter2/\x1b[31mx.py": "0" * 64}}
    zip_folder(staged, subs / "eve.zip", {"manifest.json": json.dumps(manifest).encode(),
                                           ".grade/quiz_responses.json": json.dumps(
                                               {"attempts": [{"chapter": "\x1b[31mchapter99", "answers": []}]}).encode()})
    make_folder_submission(subs, "bob\x1b[31m", "stub")
    db = tmp_path / "gb.sqlite"
    out = run("collect", str(subs), "--db", str(db), "--workers", "1", "--chapter", "chapter2")
    outputs = [out, run("report", "--db", str(db)), run("export", "--db", str(db), "--format", "csv"),
               run("export", "--db", str(db), "--format", "json")]
    html = tmp_path / "r.html"
    run("report", "--db", str(db), "--html", str(html))
    outputs.append(html.read_text())
    con = sqlite3.connect(db)
    for table, in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name != 'sources'"):
        for row in con.execute(f"SELECT * FROM {table}"):
            outputs.extend(str(v) for v in row)
            for v in row:
                if isinstance(v, str) and v.startswith(("{", "[")):
                    outputs.append(json.dumps(json.loads(v), ensure_ascii=False))
    con.close()
    for text in outputs:
        assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(outputs[2]))}
    assert set(rows) == {"eve", "bob_31m"}
    with Gradebook(db) as gb:
        problems = json.loads(next(r for r in gb.submissions() if r["student"] == "eve")["problems"])
    assert any(p.startswith("manifest says ']0;pwned") for p in problems)
