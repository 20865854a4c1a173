"""Issue 12: rosters and a Canvas export that round-trips.

A Canvas gradebook export (made here in Canvas's layout) -> grade roster import -> collect
-> grade export --format canvas: the identity columns equal the input's row for row, the
assignment headers are Canvas's own (mapped by --canvas-columns), "Points Possible" comes
second, not graded is an empty cell; unmatched submissions and students without one are
listed by grade collect and grade report. Bad roster and map files are exit 2."""

from __future__ import annotations

import csv
import io

import pytest
from instructor_helpers import fake_quiz_module, make_folder_submission, responses
from typer.testing import CliRunner

from grader.cli import app
from grader.instructor.collect import collect
from grader.instructor.gradebook import Gradebook
from grader.instructor.roster import match, parse_roster

IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_EXPORT = [
    [*IDENTITY, "Perceptrons (1001)", "Quiz 2 (1002)", "Reading (1003)", "Current Score", "Final Score"],
    ["    Points Possible", "", "", "", "", "10.00", "3.00", "5.00", "(read only)", "(read only)"],
    ["Doe, Alice", "101", "S-0001", "adoe", "Section A", "", "", "4", "40", "40"],
    ["Roe, Bob", "102", "S-0002", "BRoe", "Section A", "5", "", "", "50", "50"],
    ["Poe, Carol", "103", "", "cpoe@uni.example", "Section B", "", "", "", "", ""],
    ["Test Student", "104", "", "abc123def", "Section A", "", "", "", "", ""],
]


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("canvas")
    export_file = write_csv(root / "canvas_export.csv", CANVAS_EXPORT)
    subs = root / "subs"
    # Canvas's "Download submissions" names: name_userid_attachmentid_file
    make_folder_submission(subs, "doealice_101_9001_work", "correct",
                           responses=responses({"q1": "a", "q2": "b", "q3": "x"}))
    make_folder_submission(subs, "broe", "stub")  # a plain name: matched by SIS login
    make_folder_submission(subs, "zed_999_9002_work", "correct")  # no such Canvas user in the roster
    db = root / "gb.sqlite"
    res = invoke("roster", "import", str(export_file), "--db", str(db))
    assert res.exit_code == 0, res.output
    assert "4 students" in res.stdout and "3 Canvas assignment columns" in res.stdout
    collect([subs], db, workers=1, quiz_module=fake_quiz_module(), chapters=["chapter2"])
    mapping = root / "map.toml"
    mapping.write_text('chapter2 = "Perceptrons (1001)"\n"quiz chapter2" = "Quiz 2 (1002)"\n', encoding="utf-8")
    return {"root": root, "db": db, "map": mapping, "export": export_file}


def test_roster_import_reads_canvas_identity_and_assignment_headers(course):
    with Gradebook(course["db"]) as gb:
        roster = gb.roster()
    assert roster.layout == "canvas"
    assert [e.canvas_id for e in roster.entries] == ["101", "102", "103", "104"]
    assert roster.assignments == ["Perceptrons (1001)", "Quiz 2 (1002)", "Reading (1003)"]
    assert roster.entries[0].identity == ("Doe, Alice", "101", "S-0001", "adoe", "Section A")


def test_matching_by_id_sis_login_email_and_sis_user_id_case_insensitively():
    roster = parse_roster(b"id,name,email,sis_user_id,sis_login_id\n"
                          b"A1,Ann,ann@x.org,S1,annl\nb2,Ben,BEN@x.org,S2,benl\nc3,Cy,cy@x.org,,\nd4,Di,,S4,\n"
                          b"e5,Ed,,,\n")
    m = match(roster, ["a1", "BENL", "cy@x.org", "s4", "nobody"])
    assert {s: e.id for s, e in m.by_student.items()} == {"a1": "a1", "benl": "b2", "cy@x.org": "c3", "s4": "d4"}
    assert m.unmatched == ["nobody"] and [e.id for e in m.missing] == ["e5"]


def test_two_ids_of_one_roster_student_count_once_the_newest(tmp_path):
    from grader.instructor.gradebook import Graded

    db = tmp_path / "gb.sqlite"
    chapter = {"chapter": "chapter2", "score": 0.0, "max_score": 10.0, "execution_time": 0.1, "tests": []}
    with Gradebook(db) as gb:
        run_id = gb.start_run(1, "local")
        for i, (sid, when, score) in enumerate([("101", "2026-01-02", 7.0), ("adoe", "2026-01-01", 9.0)]):
            gb.record(Graded(f"{i:064x}", sid, "x", "folder", "graded", submitted_at=when,
                             chapters=[dict(chapter, score=score)]), run_id, "0")
        gb.set_roster(parse_roster(_csv_bytes(CANVAS_EXPORT)))
    res = invoke("export", "--db", str(db), "--format", "canvas")
    rows = {r[1]: r for r in cells(res.stdout)[2:]}
    assert rows["101"][5] == "7"  # both ids are Alice's (Canvas ID, SIS login): her newest counts
    assert "Left out" not in res.stderr


def _csv_bytes(rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode()


def test_canvas_export_round_trips_identity_and_uses_mapped_headers(course):
    res = invoke("export", "--db", str(course["db"]), "--format", "canvas", "--canvas-columns", str(course["map"]))
    assert res.exit_code == 0, res.output
    out = cells(res.stdout)
    given = CANVAS_EXPORT
    assert out[0] == [*IDENTITY, "Perceptrons (1001)", "Quiz 2 (1002)"]
    assert out[1] == ["    Points Possible", "", "", "", "", "10", "3"]
    # the identity columns equal the input's, row for row (students in Canvas's order)
    assert [r[:5] for r in out[2:]] == [r[:5] for r in given[2:]]
    scores = {r[1]: r[5:] for r in out[2:]}
    assert scores["101"] == ["10", "2"]  # alice: chapter 2 solved, quiz 2 of 3
    assert scores["102"] == ["0", "0"]  # bob (stubs, matched by SIS login "broe"): quiz untaken is 0
    assert scores["103"] == ["", ""] and scores["104"] == ["", ""]  # no submission: Canvas keeps its grades
    assert "zed" not in res.stdout and "999" not in res.stdout
    assert "999" in res.stderr and "Left out" in res.stderr  # the unknown submission is named
    assert "out of" not in res.stderr  # Canvas's points possible (10, 3) are ours


def test_points_that_differ_from_canvas_are_named(course, tmp_path):
    other = [list(r) for r in CANVAS_EXPORT]
    other[1][5] = "100"
    db = tmp_path / "gb.sqlite"
    import shutil

    shutil.copy(course["db"], db)
    assert invoke("roster", "import", str(write_csv(tmp_path / "c.csv", other)), "--db", str(db)).exit_code == 0
    res = invoke("export", "--db", str(db), "--format", "canvas", "--canvas-columns", str(course["map"]))
    assert res.exit_code == 0, res.output
    assert "Perceptrons (1001) is out of 100 points in Canvas, chapter2 out of 10 here" in res.stderr


def test_unknown_submissions_and_missing_students_are_listed_by_report_and_collect(course, tmp_path):
    rep = invoke("report", "--db", str(course["db"]))
    assert rep.exit_code == 0, rep.output
    assert "Not in the roster" in rep.stdout and "999" in rep.stdout
    assert "No submission from: Poe, Carol (103), Test Student (104)" in rep.stdout
    # collect says the same at the end (nothing new to grade here: the listing still comes)
    empty = tmp_path / "none"
    make_folder_submission(empty, "broe", "stub")
    res = invoke("collect", str(empty), "--db", str(course["db"]), "--chapter", "chapter2", "--workers", "1")
    assert res.exit_code == 0, res.output
    assert "Not in the roster" in res.stdout and "999" in res.stdout and "Poe, Carol (103)" in res.stdout


def test_mapped_header_that_canvas_did_not_export_is_refused(course, tmp_path):
    bad = tmp_path / "map.toml"
    bad.write_text('chapter2 = "Perceptron (1009)"\n', encoding="utf-8")
    res = invoke("export", "--db", str(course["db"]), "--format", "canvas", "--canvas-columns", str(bad))
    assert res.exit_code == 2 and "Perceptrons (1001)" in res.stderr and "Traceback" not in res.output


@pytest.mark.parametrize("text", ["chapter2 = [1, 2]\n", "nonsense = \"X (1)\"\n", "chapter2 = \n", "= broken"])
def test_bad_map_files_are_exit_2(course, tmp_path, text):
    bad = tmp_path / "map.toml"
    bad.write_text(text, encoding="utf-8")
    res = invoke("export", "--db", str(course["db"]), "--format", "canvas", "--canvas-columns", str(bad))
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


@pytest.mark.parametrize("content, says", [
    (b"", "empty"),
    (b"\xff\xfe\x00garbage", "UTF-8"),
    (b"name,score\nann,3\n", "neither a Canvas"),
    (b"id,name,email\nann,Ann,a@x\nANN,Ann2,b@x\n", "appears twice"),
    (b'Student,ID\n"unterminated,1\n', ""),
    (b"id,name,email\n,Ann,a@x\n", "no id"),
])
def test_bad_roster_files_are_exit_2_with_a_reason(tmp_path, content, says):
    f = tmp_path / "roster.csv"
    f.write_bytes(content)
    res = invoke("roster", "import", str(f), "--db", str(tmp_path / "gb.sqlite"))
    assert res.exit_code == 2, res.output
    assert says in res.stderr and "Traceback" not in res.output


def test_roster_cells_are_cleaned_on_import_and_neutralised_on_export(tmp_path):
    rows = [IDENTITY, ["=HYPERLINK(\"http://x\")\x1b[31m", "7", "+1", "@me", "-A"]]
    db = tmp_path / "gb.sqlite"
    res = invoke("roster", "import", str(write_csv(tmp_path / "r.csv", rows)), "--db", str(db))
    assert res.exit_code == 0, res.output
    with Gradebook(db) as gb:
        assert "\x1b" not in gb.roster().entries[0].name
    out = invoke("export", "--db", str(db), "--format", "canvas")
    assert out.exit_code == 0, out.output
    for row in cells(out.stdout):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) and "\x1b" not in cell


def test_canvas_export_without_a_roster_says_what_it_cannot_do(tmp_path):
    subs = tmp_path / "subs"
    make_folder_submission(subs, "ann", "stub")
    db = tmp_path / "gb.sqlite"
    collect([subs], db, workers=1, quiz_module=fake_quiz_module(), chapters=["chapter2"])
    res = invoke("export", "--db", str(db), "--format", "canvas")
    assert res.exit_code == 0, res.output
    assert "No roster" in res.stderr and "grade roster import" in res.stderr
    out = cells(res.stdout)
    assert out[2][:5] == ["ann", "", "ann", "", ""]  # SIS User ID only: never the same id as SIS login


# -- issue 20: Canvas's import rules, checked strictly ---------------------------------------------------

from grader.instructor.canvas_format import CanvasFormatError, check_canvas_import  # noqa: E402


def _text(rows) -> str:
    return _csv_bytes(rows).decode()


@pytest.mark.parametrize("identity", [
    ["Student", "ID", "Section"],
    ["Student", "ID", "SIS Login ID", "Section"],
    ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"],
    ["Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section"],
    ["Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Root Account", "Section"],
])
def test_the_validator_takes_each_of_canvass_identity_layouts(identity):
    rows = [[*identity, "Perceptrons (1001)", "Extra"], ["Points Possible", *[""] * (len(identity) - 1), "10", "5"],
            ["Doe, Alice", "101", *[""] * (len(identity) - 2), "7.5", ""]]
    read = check_canvas_import(_text(rows))
    assert read.identity == identity
    assert read.assignments == [("Perceptrons", "1001"), ("Extra", None)]  # by id, else by title


@pytest.mark.parametrize("rows, says", [
    ([["Student", "ID", "SIS User ID", "SIS Login ID", "Perceptrons (1)"], ["A", "1", "", "", "1"]], "Section"),
    ([["Student", "ID", "Section", "SIS User ID", "P (1)"], ["A", "1", "", "", "1"]], "Section"),
    ([["LastName", "FirstName", "ID", "Section", "P (1)"], ["Doe", "A", "1", "", "1"]], "Student, ID"),
    ([["Student", "ID", "Section", "P (1)"], ["A", "1", "", "5e-05"]], "not a score Canvas reads"),
    ([["Student", "ID", "Section", "P (1)"], ["A", "", "", "1"]], "only by name"),
    ([["Student", "ID", "Section", "P (1)"], ["A", "1", ""]], "cells"),
])
def test_the_validator_refuses_what_canvas_would_refuse_or_misread(rows, says):
    with pytest.raises(CanvasFormatError, match=says):
        check_canvas_import(_text(rows))


def test_without_a_roster_canvas_user_ids_from_download_names_go_into_id(tmp_path):
    subs = tmp_path / "subs"
    make_folder_submission(subs, "doealice_101_9001_work", "correct")
    make_folder_submission(subs, "bob", "stub")
    db = tmp_path / "gb.sqlite"
    collect([subs], db, workers=1, quiz_module=fake_quiz_module(), chapters=["chapter2"])
    res = invoke("export", "--db", str(db), "--format", "canvas")
    assert res.exit_code == 0, res.output
    read = check_canvas_import(res.stdout)
    by_name = {s["Student"]: s for s in read.students}
    assert by_name["101"]["ID"] == "101" and by_name["101"]["SIS User ID"] == ""  # Canvas matches its own user id
    assert by_name["bob"]["ID"] == "" and by_name["bob"]["SIS User ID"] == "bob"
    assert "updates an existing assignment of exactly that title" in res.stderr


def test_a_separate_name_export_imports_and_goes_back_in_canvass_layout(tmp_path):
    rows = [["LastName", "FirstName", "ID", "SIS User ID", "SIS Login ID", "Section", "Perceptrons (1001)"],
            ["Points Possible", "", "", "", "", "", "10.00"],
            ["Doe", "Alice", "101", "S-0001", "adoe", "Section A", ""],
            ["Roe", "Bob", "102", "S-0002", "broe", "Section A", ""]]
    db = tmp_path / "gb.sqlite"
    res = invoke("roster", "import", str(write_csv(tmp_path / "names.csv", rows)), "--db", str(db))
    assert res.exit_code == 0, res.output
    make_folder_submission(tmp_path / "subs", "doealice_101_9001_work", "correct")
    collect([tmp_path / "subs"], db, workers=1, quiz_module=fake_quiz_module(), chapters=["chapter2"])
    mapping = tmp_path / "map.toml"
    mapping.write_text('chapter2 = "Perceptrons (1001)"\n', encoding="utf-8")
    out = invoke("export", "--db", str(db), "--format", "canvas", "--canvas-columns", str(mapping))
    assert out.exit_code == 0, out.output
    read = check_canvas_import(out.stdout)
    assert read.identity == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert [(s["Student"], s["ID"], s["scores"]) for s in read.students] == [
        ("Doe, Alice", "101", ["10"]), ("Roe, Bob", "102", [""])]


@pytest.mark.parametrize("identity, expected", [
    (["Student", "ID", "SIS Login ID"], ["Student", "ID", "SIS Login ID", "Section"]),
    (["Student", "ID", "SIS User ID", "Section"], ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]),
    (["Student", "ID", "Section", "SIS User ID", "SIS Login ID"], ["Student", "ID", "SIS User ID", "SIS Login ID",
                                                                  "Section"]),
])
def test_a_roster_missing_or_reordering_identity_columns_goes_out_in_canvass_layout(tmp_path, identity, expected):
    rows = [[*identity, "Perceptrons (1001)"], ["Doe, Alice", "101", *[""] * (len(identity) - 2), ""]]
    db = tmp_path / "gb.sqlite"
    assert invoke("roster", "import", str(write_csv(tmp_path / "r.csv", rows)), "--db", str(db)).exit_code == 0
    out = invoke("export", "--db", str(db), "--format", "canvas")
    assert out.exit_code == 0, out.output
    assert check_canvas_import(out.stdout).identity == expected


def test_scores_are_plain_decimals_never_exponent_notation(tmp_path):
    from grader.instructor.gradebook import Graded

    db = tmp_path / "gb.sqlite"
    chapter = {"chapter": "chapter2", "score": 0.00005, "max_score": 10.0, "execution_time": 0.1, "tests": []}
    with Gradebook(db) as gb:
        run_id = gb.start_run(1, "local")
        gb.record(Graded("0" * 64, "101", "x", "folder", "graded", submitted_at="2026-01-01",
                         chapters=[chapter]), run_id, "0")
        gb.set_roster(parse_roster(_csv_bytes(CANVAS_EXPORT)))
    for fmt in ("canvas", "csv"):
        res = invoke("export", "--db", str(db), "--format", fmt)
        assert res.exit_code == 0, res.output
        assert "0.00005" in res.stdout and "e-05" not in res.stdout
    check_canvas_import(invoke("export", "--db", str(db), "--format", "canvas").stdout)
