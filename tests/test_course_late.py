"""Issue 23: due dates, the late policy and extensions (``course.toml``).

A class is collected with the real ``grade collect`` (chapter 2, folders and zips whose
modification times are the submission times), then ``grade export`` must apply the late
penalties of the course file (``--raw`` not), and ``grade report --html`` must show the
lateness, read back from the page as headless Chromium renders it. Canvas's ``late_`` names
and Gradescope's ``submission_metadata.json`` set lateness; a bad course file is a clear
error (exit 2), never a traceback; an older gradebook is migrated."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from instructor_helpers import make_folder_submission, zip_folder
from typer.testing import CliRunner

from grader.cli import app
from grader.instructor import gradebook as gradebook_module
from grader.instructor.gradebook import Gradebook

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

COURSE = """
timezone = "Europe/Berlin"

[due]
chapter2 = "2026-09-21 23:59"

[late]
grace_minutes = 15
percent_per_day = 10
max_percent = 50
zero_after_days = 7
later_submission = "{later}"

[extensions]
carol = 3
"""
DUE = "2026-09-21T21:59:00+00:00"  # 23:59 in Berlin (CEST)


def grade(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", COLUMNS="250")
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=600)


def at(path: Path, iso: str) -> Path:
    when = datetime.fromisoformat(iso).timestamp()
    os.utime(path, (when, when))
    return path


def rows(text: str) -> dict[str, dict[str, str]]:
    return {r["student"]: r for r in csv.DictReader(io.StringIO(text))}


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """A class collected once: every case of the policy, and one extension (carol)."""
    root = tmp_path_factory.mktemp("late")
    subs = root / "subs"
    at(make_folder_submission(subs, "alice", "correct"), "2026-09-20T10:00:00+00:00")  # on time
    at(make_folder_submission(subs, "bob", "correct"), "2026-09-23T10:00:00+00:00")  # 1 d 12 h late: 2 days
    at(make_folder_submission(subs, "carol", "correct"), "2026-09-23T10:00:00+00:00")  # late, but 3 days' extension
    at(make_folder_submission(subs, "dave", "correct"), "2026-09-30T10:00:00+00:00")  # 9 days: 0 (after 7)
    at(make_folder_submission(subs, "erin", "correct"), "2026-09-21T22:19:00+00:00")  # 20 min: past the grace
    at(make_folder_submission(subs, "frank", "correct"), "2026-09-21T22:09:00+00:00")  # 10 min: within the grace
    at(make_folder_submission(subs, "hugo", "correct"), "2026-09-26T10:00:00+00:00")  # 5 days: capped at 50%
    # gina: an unfinished (stub) submission on time, then a correct one 1 day late
    at(make_folder_submission(subs, "gina", "stub"), "2026-09-21T12:00:00+00:00")
    late_work = make_folder_submission(root / "tmp", "gina", "correct")
    at(zip_folder(late_work, subs / "gina.zip"), "2026-09-22T12:00:00+00:00")
    db = root / "gradebook.sqlite"
    res = grade("collect", str(subs), "--db", str(db), "--chapter", "chapter2", "--workers", "1")
    assert res.returncode == 0, res.stdout + res.stderr
    (root / "course.toml").write_text(COURSE.format(later="ignored"), encoding="utf-8")
    return root


EXPECTED = {  # chapter 2 is worth 10 points and every correct submission earns them all
    "alice": "10", "bob": "8", "carol": "10", "dave": "0", "erin": "9", "frank": "10", "hugo": "5", "gina": "0",
}


def test_export_applies_the_penalties_of_the_course_file_beside_the_gradebook(klass):
    res = grade("export", "--db", str(klass / "gradebook.sqlite"))
    assert res.returncode == 0, res.stderr
    got = rows(res.stdout)
    assert {s: r["chapter2"] for s, r in got.items()} == EXPECTED
    assert got["bob"]["total"] == "8"
    assert "course.toml: 4 late score(s) reduced" in res.stderr


def test_an_extension_for_an_id_nobody_has_is_named(klass, tmp_path):
    course = tmp_path / "typo.toml"
    course.write_text(COURSE.format(later="ignored").replace("carol = 3", "carl = 3"), encoding="utf-8")
    for command in ("export", "report"):
        res = grade(command, "--db", str(klass / "gradebook.sqlite"), "--course", str(course))
        assert res.returncode == 0, res.stderr
        assert "Extension in" in res.stdout + res.stderr and "for carl, who has no graded submission" in \
            res.stdout + res.stderr
    assert rows(grade("export", "--db", str(klass / "gradebook.sqlite"), "--course", str(course)).stdout
                )["carol"]["chapter2"] == "8"  # no extension for her: 2 days late


def test_export_raw_leaves_the_penalties_out_and_the_gradebook_keeps_raw_scores(klass):
    res = grade("export", "--db", str(klass / "gradebook.sqlite"), "--raw")
    assert res.returncode == 0, res.stderr
    got = {s: r["chapter2"] for s, r in rows(res.stdout).items()}
    # gina's on-time submission (the stub) still counts: --raw changes the penalty, not the policy
    assert got == {**{s: "10" for s in EXPECTED}, "gina": "0"}
    with Gradebook(klass / "gradebook.sqlite") as gb:
        assert {r["score"] for per in gb.chapter_scores().values() for r in per.values()} == {0.0, 10.0}


def test_a_later_submission_replaces_the_on_time_one_when_the_policy_says_so(klass, tmp_path):
    course = tmp_path / "replaces.toml"
    course.write_text(COURSE.format(later="replaces"), encoding="utf-8")
    res = grade("export", "--db", str(klass / "gradebook.sqlite"), "--course", str(course))
    assert res.returncode == 0, res.stderr
    assert rows(res.stdout)["gina"]["chapter2"] == "9"  # the late correct one, less 1 day
    rep = grade("report", "--db", str(klass / "gradebook.sqlite"), "--course", str(course))
    assert "the newest submission counts, late or not" in rep.stdout


def test_canvas_and_json_exports_carry_the_penalties(klass):
    res = grade("export", "--db", str(klass / "gradebook.sqlite"), "--format", "canvas")
    assert res.returncode == 0, res.stderr
    body = list(csv.reader(io.StringIO(res.stdout)))
    col = body[0].index("Exercises chapter 2")
    assert {r[0]: r[col] for r in body[2:]}["bob"] == "8"
    data = json.loads(grade("export", "--db", str(klass / "gradebook.sqlite"), "--format", "json").stdout)
    bob = next(s for s in data["students"] if s["student"] == "bob")
    assert bob["late"]["chapter2"]["days_late"] == 2 and bob["late"]["chapter2"]["penalty_percent"] == 20


def test_terminal_report_shows_days_late_extension_and_penalty(klass):
    res = grade("report", "--db", str(klass / "gradebook.sqlite"))
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "Late policy: 15 min grace, 10% per day late" in out
    assert "the newest submission before the (extended) due date counts" in out
    line = {ln.split("│")[1].strip(): ln for ln in out.splitlines() if ln.count("│") > 8}
    assert "20%" in line["bob"] and "10 -> 8" in line["bob"]
    assert "3 d" in line["carol"] and "%" not in line["carol"]
    assert "1 later submission(s) not counted" in line["gina"]
    assert "frank" in line and "within the grace period" in line["frank"]


class _LateRows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr" and "data-student" in a:
            self.rows[a["data-student"]] = a


def test_html_report_shows_the_lateness_in_chromium(klass):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    page = klass / "report.html"
    res = grade("report", "--db", str(klass / "gradebook.sqlite"), "--html", str(page))
    assert res.returncode == 0, res.stderr
    profile = tempfile.mkdtemp(prefix="chromium-")
    try:
        flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--window-size=1280,1400"]
        dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
        shot = klass / "report.png"
        subprocess.run([*flags, f"--screenshot={shot}", page.as_uri() + "#late"], capture_output=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert shot.is_file() and shot.stat().st_size > 10_000
    parser = _LateRows()
    parser.feed(dom.stdout)
    got = {s: (r["data-days"], r["data-penalty"], r["data-extension"]) for s, r in parser.rows.items()}
    assert got == {"alice": ("0", "0", "0"), "bob": ("2", "20", "0"), "carol": ("0", "0", "3"),
                   "dave": ("9", "100", "0"), "erin": ("1", "10", "0"), "frank": ("0", "0", "0"),
                   "gina": ("0", "0", "0"), "hugo": ("5", "50", "0")}
    assert "Late policy: 15 min grace" in dom.stdout
    assert '<td class="num"><b>8</b></td>' in dom.stdout  # bob's counted score
    # the students table marks the penalised cells (bob 20%, dave 100%, erin 10%, hugo 50%)
    assert sorted(set(re.findall(r'title="late: (\d+)% off"', dom.stdout))) == ["10", "100", "20", "50"]


def test_canvas_late_names_set_lateness(tmp_path):
    subs = tmp_path / "subs"
    # Canvas's download names: name_[late_]userid_attachmentid_file; no due date for chapter 2 here
    at(make_folder_submission(subs, "doealice_late_101_9001_work", "correct"), "2026-09-20T10:00:00+00:00")
    at(make_folder_submission(subs, "roebob_102_9002_work", "correct"), "2026-09-20T10:00:00+00:00")
    db = tmp_path / "gradebook.sqlite"
    res = grade("collect", str(subs), "--db", str(db), "--chapter", "chapter2", "--workers", "1")
    assert res.returncode == 0, res.stdout + res.stderr
    with Gradebook(db) as gb:
        assert {r["student"]: r["lms_late"] for r in gb.submissions("graded")} == {"101": 1, "102": 0}
    (tmp_path / "course.toml").write_text('[late]\npercent_per_day = 25\n', encoding="utf-8")
    got = rows(grade("export", "--db", str(db)).stdout)
    assert got["101"]["chapter2"] == "7.5" and got["102"]["chapter2"] == "10"
    rep = grade("report", "--db", str(db)).stdout
    assert "late per Canvas" in rep
    # with a due date the time decides; Canvas's disagreeing verdict is named for a person to look at
    (tmp_path / "course.toml").write_text('[due]\nchapter2 = 2026-09-21T23:59:00Z\n[late]\npercent_per_day = 25\n',
                                          encoding="utf-8")
    assert rows(grade("export", "--db", str(db)).stdout)["101"]["chapter2"] == "10"
    assert "Canvas says late" in grade("report", "--db", str(db)).stdout


def _gradescope(root: Path, name: str, sid: str, created: str, due: str) -> Path:
    folder = root / name
    make_folder_submission(folder, "submission", "correct")
    meta = {"id": 1, "created_at": created, "assignment": {"due_date": due, "late_due_date": None},
            "users": [{"email": f"{sid}@uni.example", "id": 7, "name": sid.title(), "sid": sid}]}
    (folder / "submission_metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def test_gradescope_metadata_sets_the_time_and_lateness(tmp_path):
    subs = tmp_path / "export"
    due = "2026-09-21T23:59:00.000000-07:00"
    _gradescope(subs, "submission_1", "s100", "2026-09-23T10:00:00.123-07:00", due)  # 1 d 10 h late: 2 days
    _gradescope(subs, "submission_2", "s200", "2026-09-21T20:00:00-07:00", due)
    db = tmp_path / "gradebook.sqlite"
    res = grade("collect", str(subs), "--db", str(db), "--chapter", "chapter2", "--workers", "1", "--gradescope")
    assert res.returncode == 0, res.stdout + res.stderr
    with Gradebook(db) as gb:
        got = {r["student"]: (r["submitted_at"], r["time_source"], r["lms_due"], r["lms_late"])
               for r in gb.submissions("graded")}
    assert got == {"s100": ("2026-09-23T17:00:00+00:00", "lms", "2026-09-22T06:59:00+00:00", 1),
                   "s200": ("2026-09-22T03:00:00+00:00", "lms", "2026-09-22T06:59:00+00:00", 0)}
    (tmp_path / "course.toml").write_text("[late]\npercent_per_day = 10\n", encoding="utf-8")
    out = rows(grade("export", "--db", str(db)).stdout)
    assert out["s100"]["chapter2"] == "8" and out["s200"]["chapter2"] == "10"
    # without --gradescope the folders are not submissions of that layout: nothing is read from the metadata
    plain = grade("collect", str(subs), "--db", str(tmp_path / "other.sqlite"), "--chapter", "chapter2")
    assert "s100" not in plain.stdout


@pytest.mark.parametrize(("text", "says"), [
    ('[due]\nchaptr2 = "2026-09-21 23:59"\ntimezone = "UTC"', "Did you mean 'chapter2'?"),
    ('[due]\nchapter2 = "2026-09-21 23:59"', "has no time zone"),
    ('timezone = "Mars/Olympus"\n[due]\nchapter2 = "2026-09-21"', "not a known time zone"),
    ('timezone = "UTC"\n[due]\nchapter2 = "21.09.2026"', "is not a date"),
    ('timezone = "UTC"\n[due]\nchapter2 = "2026-02-30 10:00"', "is not a date"),
    ('[late]\npercent_per_day = "ten"', "must be a number"),
    ('[late]\npercent_per_dya = 10', "Did you mean 'percent_per_day'?"),
    ('[late]\nlater_submission = "best"', "later_submission must be"),
    ('[extensions]\nalice = { chapter9 = 2 }', "not a chapter or quiz"),
    ('[extensions]\nalice = -1', "out of range"),
    ("dues = 1", "Did you mean 'due'?"),
    ("[due", "not valid TOML"),
])
def test_a_bad_course_file_is_a_clear_error_not_a_traceback(klass, tmp_path, text, says):
    course = tmp_path / "course.toml"
    course.write_text(text, encoding="utf-8")
    for command in ("export", "report"):
        res = CliRunner().invoke(app, [command, "--db", str(klass / "gradebook.sqlite"), "--course", str(course)])
        assert res.exit_code == 2, res.output
        assert says in res.output and "Traceback" not in res.output


def test_due_dates_take_quizzes_toml_dates_and_offsets(klass, tmp_path):
    from grader.instructor.course import read_course

    course = tmp_path / "course.toml"
    course.write_text('timezone = "UTC"\n[due]\n"quiz chapter3" = 2026-10-01\nchapter3 = "2026-10-01 12:00+0530"\n'
                      '[due.quiz]\nchapter4 = 2026-10-08T10:00:00-04:00\n', encoding="utf-8")
    c = read_course(course)
    assert c.due["quiz chapter3"].isoformat() == "2026-10-01T23:59:59+00:00"  # a date alone: the end of that day
    assert c.due["chapter3"].isoformat() == "2026-10-01T12:00:00+05:30"
    assert c.due["quiz chapter4"].isoformat() == "2026-10-08T10:00:00-04:00"


def test_roster_extension_days_column_extends_the_due_date(tmp_path):
    subs = tmp_path / "subs"
    at(make_folder_submission(subs, "bob", "correct"), "2026-09-23T10:00:00+00:00")
    at(make_folder_submission(subs, "ann", "correct"), "2026-09-23T10:00:00+00:00")
    db = tmp_path / "gradebook.sqlite"
    assert grade("collect", str(subs), "--db", str(db), "--chapter", "chapter2", "--workers", "1").returncode == 0
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email,extension_days\nbob,Bob,bob@uni.example,2.5\nann,Ann,ann@uni.example,\n",
                      encoding="utf-8")
    assert grade("roster", "import", str(roster), "--db", str(db)).returncode == 0
    (tmp_path / "course.toml").write_text('[due]\nchapter2 = 2026-09-21T23:59:00+02:00\n[late]\npercent_per_day = 10\n',
                                          encoding="utf-8")
    got = rows(grade("export", "--db", str(db)).stdout)
    assert got["bob"]["chapter2"] == "10" and got["ann"]["chapter2"] == "8"
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,email,extension_days\nbob,Bob,bob@uni.example,soon\n", encoding="utf-8")
    res = grade("roster", "import", str(bad), "--db", str(db))
    assert res.returncode == 2 and "extension_days 'soon'" in res.stderr


def test_a_version_3_gradebook_is_migrated_and_keeps_its_rows(tmp_path):
    db = tmp_path / "old.sqlite"
    schema = "\n".join(ln for ln in gradebook_module.SCHEMA.splitlines() if "-- v4:" not in ln)
    schema = schema.replace("grader_version TEXT NOT NULL,\n);", "grader_version TEXT NOT NULL\n);")
    schema = schema.replace("identity TEXT NOT NULL DEFAULT '[]', -- JSON: a Canvas row's identity cells as read\n);",
                            "identity TEXT NOT NULL DEFAULT '[]'\n);")
    con = sqlite3.connect(db)
    con.executescript(schema)
    con.execute("INSERT INTO meta VALUES ('schema_version', '3')")
    con.execute("INSERT INTO submissions (hash, student, source, kind, submitted_at, time_source, status, "
                "collected_at, run_id, grader_version) VALUES ('h', 'alice', 'alice', 'folder', "
                "'2026-09-20T10:00:00+00:00', 'mtime', 'graded', 'now', 1, '0')")
    con.commit()
    assert "lms_late" not in {r[1] for r in con.execute("PRAGMA table_info(submissions)")}
    con.close()
    with Gradebook(db) as gb:
        row = gb.submissions()[0]
        assert row["student"] == "alice" and row["lms_late"] is None and row["lms_due"] is None
        assert gb.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "4"
        assert "extension_days" in {r[1] for r in gb.db.execute("PRAGMA table_info(roster)")}


def test_each_chapter_and_quiz_counts_its_own_submission(tmp_path):
    """Week 1: the quiz (due first) on time and chapter 2 unfinished; week 2: both again, the
    quiz now late. The quiz counts the week-1 attempt, chapter 2 the week-2 work, and a
    quiz due date's penalty applies to the quiz only."""
    from instructor_helpers import fake_quiz_module, responses

    from grader.instructor.collect import collect

    subs = tmp_path / "subs"
    week1 = make_folder_submission(tmp_path / "w1", "kim", "stub", responses=responses({"q1": "a", "q2": "b",
                                                                                       "q3": "x"}))
    week2 = make_folder_submission(tmp_path / "w2", "kim", "correct", responses=responses({"q1": "a", "q2": "b",
                                                                                         "q3": "c"}))
    subs.mkdir()
    at(zip_folder(week1, subs / "kim.zip"), "2026-09-14T10:00:00+00:00")
    at(shutil.copytree(week2, subs / "kim"), "2026-09-21T10:00:00+00:00")
    lee = make_folder_submission(subs, "lee", "correct", responses=responses({"q1": "a", "q2": "b", "q3": "c"}))
    at(lee, "2026-09-21T10:00:00+00:00")
    db = tmp_path / "gradebook.sqlite"
    collect([subs], db, workers=1, quiz_module=fake_quiz_module(), chapters=["chapter2"])
    (tmp_path / "course.toml").write_text(
        'timezone = "UTC"\n[due]\n"quiz chapter2" = "2026-09-15 23:59"\nchapter2 = "2026-09-21 23:59"\n'
        "[late]\npercent_per_day = 10\n", encoding="utf-8")
    got = rows(grade("export", "--db", str(db)).stdout)
    assert (got["kim"]["chapter2"], got["kim"]["quiz chapter2"]) == ("10", "2")  # week 2's work, week 1's quiz
    assert (got["lee"]["chapter2"], got["lee"]["quiz chapter2"]) == ("10", "1.2")  # the quiz 6 days late: 60% off
    raw = rows(grade("export", "--db", str(db), "--raw").stdout)
    assert (raw["lee"]["quiz chapter2"], raw["kim"]["quiz chapter2"]) == ("3", "2")


def test_a_canvas_download_zip_gives_each_entry_its_time_and_late_flag(tmp_path):
    """``grade collect --canvas download.zip``: Canvas's own zip, as it is. Each entry is a
    student's upload; its time is the entry's (the UTC extended timestamp where present, else
    the DOS time as this machine's local time, as unzip reads it) and late_ is Canvas's verdict."""
    import struct
    import zipfile
    from datetime import timezone

    work = tmp_path / "work"
    alice = zip_folder(make_folder_submission(work, "a", "correct"), work / "a.zip").read_bytes()
    bob = zip_folder(make_folder_submission(work, "b", "correct"), work / "b.zip").read_bytes()
    download = tmp_path / "submissions.zip"
    utc = datetime.fromisoformat("2026-09-23T10:00:00+00:00")
    with zipfile.ZipFile(download, "w") as zf:
        info = zipfile.ZipInfo("doealice_late_101_9001_submission.zip", date_time=(2026, 1, 1, 0, 0, 0))
        info.extra = struct.pack("<HHBi", 0x5455, 5, 1, int(utc.timestamp()))  # Info-ZIP's UT field
        zf.writestr(info, alice)
        zf.writestr(zipfile.ZipInfo("roebob_102_9002_submission.zip", date_time=(2026, 9, 20, 12, 0, 0)), bob)
    db = tmp_path / "gradebook.sqlite"
    res = grade("collect", str(download), "--db", str(db), "--chapter", "chapter2", "--workers", "1", "--canvas")
    assert res.returncode == 0, res.stdout + res.stderr
    with Gradebook(db) as gb:
        got = {r["student"]: (r["submitted_at"], r["time_source"], r["lms_late"], r["source"])
               for r in gb.submissions("graded")}
    bob_time = datetime(2026, 9, 20, 12, 0, 0).astimezone(timezone.utc).isoformat(timespec="seconds")
    assert got == {"101": ("2026-09-23T10:00:00+00:00", "lms", 1, f"{download}!doealice_late_101_9001_submission.zip"),
                   "102": (bob_time, "lms", 0, f"{download}!roebob_102_9002_submission.zip")}
    assert not list(Path(tempfile.gettempdir()).glob("grade-canvas-*/d0-0"))  # unpacked entries are gone
    (tmp_path / "course.toml").write_text('[due]\nchapter2 = 2026-09-21T23:59:00Z\n[late]\npercent_per_day = 10\n',
                                          encoding="utf-8")
    assert {s: r["chapter2"] for s, r in rows(grade("export", "--db", str(db)).stdout).items()} == \
        {"101": "8", "102": "10"}
    # only on request: a zip laid out like a download is never unpacked otherwise, and --canvas
    # refuses what is not one
    other = tmp_path / "other.sqlite"
    res = grade("collect", str(download), "--db", str(other), "--chapter", "chapter2", "--workers", "1")
    assert "missing folder" in res.stdout + res.stderr
    res = grade("collect", str(work / "a.zip"), "--db", str(other), "--chapter", "chapter2", "--canvas")
    assert res.returncode == 2 and "not Canvas's Download Submissions zip" in res.stderr


def test_a_submission_without_a_chapter_does_not_replace_one_that_held_it(tmp_path):
    """Week 1 hands in chapter 2; week 2, still before chapter 2's due date, hands in only
    chapter 3 (its chapter 2 is *not submitted*). Chapter 2 counts the week-1 work, not the
    newer submission's absent chapter; chapter 3 counts week 2."""
    subs = tmp_path / "subs"
    subs.mkdir()
    week1 = make_folder_submission(tmp_path / "w1", "kim", "correct", chapters=("chapter2",))
    at(zip_folder(week1, subs / "kim.zip"), "2026-09-14T10:00:00+00:00")
    at(make_folder_submission(subs, "kim", "correct", chapters=("chapter3",)), "2026-09-21T10:00:00+00:00")
    db = tmp_path / "gradebook.sqlite"
    res = grade("collect", str(subs), "--db", str(db), "--chapter", "chapter2", "--chapter", "chapter3",
                "--workers", "1", "--allow-weak-isolation")
    assert res.returncode == 0, res.stdout + res.stderr
    (tmp_path / "course.toml").write_text(
        'timezone = "UTC"\n[due]\nchapter2 = "2026-09-30 23:59"\nchapter3 = "2026-09-30 23:59"\n'
        "[late]\npercent_per_day = 10\n", encoding="utf-8")
    kim = rows(grade("export", "--db", str(db)).stdout)["kim"]
    with Gradebook(db) as gb:
        full = {ch: max(r["max_score"] or 0 for per in gb.chapter_scores().values() for c, r in per.items() if c == ch)
                for ch in ("chapter2", "chapter3")}
    assert float(kim["chapter2"]) == full["chapter2"] > 0
    assert float(kim["chapter3"]) == full["chapter3"] > 0


def test_a_manifest_claiming_an_early_time_does_not_make_late_work_on_time(tmp_path):
    """The student writes manifest.json: its ``created`` (and any time-like field) is ignored;
    the zip's modification time, the instructor's side, decides. The manifest is a real
    one (``grade submit``'s fields), only its times are forged to before the due date."""
    subs = tmp_path / "subs"
    subs.mkdir()
    work = make_folder_submission(tmp_path / "work", "ivy", "correct")
    forged = {"student": "ivy", "created": "2026-09-01T00:00:00+00:00", "submitted_at": "2026-09-01T00:00:00+00:00",
              "grader_version": "0.1.0"}
    at(zip_folder(work, subs / "ivy.zip", extra={"manifest.json": json.dumps(forged).encode()}),
       "2026-09-23T10:00:00+00:00")  # 1 d 12 h after the due date: 2 days late
    db = tmp_path / "gradebook.sqlite"
    res = grade("collect", str(subs), "--db", str(db), "--chapter", "chapter2", "--workers", "1")
    assert res.returncode == 0, res.stdout + res.stderr
    with Gradebook(db) as gb:
        (sub,) = gb.submissions("graded")
        assert sub["submitted_at"].startswith("2026-09-23T10:00")
    (tmp_path / "course.toml").write_text(COURSE.format(later="ignored"), encoding="utf-8")
    assert rows(grade("export", "--db", str(db)).stdout)["ivy"]["chapter2"] == "8"  # 20% off, as bob
