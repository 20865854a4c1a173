"""Identity and time at collection come from the instructor's side (issue 11).

Real zips made by ``grade submit``, real folders, a real ``grade collect`` into SQLite and
real exports: a manifest that names another student or a far-future time cannot touch
that student's grade; manifest hashes are checked; symbolic links anywhere in a folder
submission are refused; ``Alice`` and ``alice`` are one student.
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from instructor_helpers import make_folder_submission, responses
from typer.testing import CliRunner

from grader.cli import app
from grader.instructor.gradebook import Gradebook
from grader.instructor.submission import BadSubmission, origin_of, read_submission

CH = ["--chapter", "chapter2"]


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def submit(workspace: Path, student: str, out: Path, monkeypatch) -> Path:
    """``grade submit --student ID -o OUT`` run in ``workspace``, as a student would."""
    monkeypatch.chdir(workspace)
    res = CliRunner().invoke(app, ["submit", "--student", student, "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


def rewrite_zip(path: Path, change) -> None:
    """Rewrite a zip's members through ``change(name, data) -> data``."""
    with zipfile.ZipFile(path) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, change(name, data))


def csv_rows(db: Path) -> dict[str, dict[str, str]]:
    res = CliRunner().invoke(app, ["export", "--db", str(db), "--format", "csv"])
    assert res.exit_code == 0, res.output
    return {r["student"]: r for r in csv.DictReader(io.StringIO(res.stdout))}


def collect(paths: list[Path], db: Path) -> str:
    res = CliRunner().invoke(app, ["collect", *map(str, paths), "--db", str(db), "--workers", "1", *CH])
    assert res.exit_code == 0, res.output
    return res.output


def test_a_spoofed_manifest_cannot_change_alices_grade(tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    alice_ws = make_folder_submission(ws, "alice", "correct")
    mallory_ws = make_folder_submission(ws, "mallory", "stub")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    submit(alice_ws, "alice", inbox / "alice.zip", monkeypatch)
    # mallory hands in stubs claiming to be alice, "created" far in the future
    spoof = submit(mallory_ws, "alice", inbox / "mallory.zip", monkeypatch)

    def future(name: str, data: bytes) -> bytes:
        if name == "manifest.json":
            m = json.loads(data)
            m["created"] = "9999-12-31T23:59:59+00:00"
            return json.dumps(m).encode()
        return data

    rewrite_zip(spoof, future)
    db = tmp_path / "gb.sqlite"
    collect([inbox], db)
    rows = csv_rows(db)
    assert rows["alice"]["chapter2"] == "10"  # still hers
    assert rows["mallory"]["chapter2"] == "0"  # graded under the instructor-side id
    assert set(rows) == {"alice", "mallory"}
    with Gradebook(db) as gb:
        problems = {r["student"]: json.loads(r["problems"]) for r in gb.submissions()}
        assert any("manifest says 'alice'" in p for p in problems["mallory"])
        assert problems["alice"] == []
        assert all(not (r["submitted_at"] or "").startswith("9999") for r in gb.submissions())
    res = CliRunner().invoke(app, ["report", "--db", str(db)])
    assert "manifest says 'alice'" in " ".join(res.stdout.split())


def test_newest_is_decided_by_the_file_time_not_the_manifest(tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    good = make_folder_submission(ws / "a", "alice", "correct")
    stub = make_folder_submission(ws / "b", "alice", "stub")
    (tmp_path / "week1").mkdir()
    (tmp_path / "week2").mkdir()
    old = submit(stub, "alice", tmp_path / "week1" / "alice.zip", monkeypatch)
    new = submit(good, "alice", tmp_path / "week2" / "alice.zip", monkeypatch)
    # the old (stub) zip claims to be the newest
    rewrite_zip(old, lambda n, d: json.dumps({**json.loads(d), "created": "9999-01-01T00:00:00+00:00"}).encode()
                if n == "manifest.json" else d)
    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(new, (1_700_100_000, 1_700_100_000))
    db = tmp_path / "gb.sqlite"
    collect([new, old], db)  # order given does not matter either: the times differ
    assert csv_rows(db)["alice"]["chapter2"] == "10"
    with Gradebook(db) as gb:
        (counted,) = gb.latest()
        assert counted["source"].endswith("week2/alice.zip") and counted["time_source"] == "mtime"


def test_changed_file_fails_the_manifest_hash_check_and_is_reported(tmp_path, monkeypatch):
    ws = make_folder_submission(tmp_path / "ws", "bob", "wrong")
    z = submit(ws, "bob", tmp_path / "bob.zip", monkeypatch)
    rewrite_zip(z, lambda n, d: d + b"\n# edited after submitting\n" if n.endswith("perceptron.py") else d)
    sub = read_submission(z)
    assert any("perceptron.py: sha256 differs from manifest.json" in p for p in sub.problems)
    db = tmp_path / "gb.sqlite"
    collect([z], db)
    res = CliRunner().invoke(app, ["report", "--db", str(db)])
    assert "sha256 differs from manifest.json" in " ".join(res.stdout.split())
    # an untouched zip from grade submit passes the check
    (tmp_path / "again").mkdir()
    clean = submit(ws, "bob", tmp_path / "again" / "bob.zip", monkeypatch)
    assert read_submission(clean).problems == []
    # ... and the same zip under another student's name is flagged, graded as that name
    other = tmp_path / "again" / "carol.zip"
    other.write_bytes(clean.read_bytes())
    sub = read_submission(other)
    assert sub.student == "carol" and sub.problems == ["manifest says 'bob'; graded as carol (the id comes from the file name)"]


@pytest.mark.parametrize("link", [".grade", ".grade/quiz_responses.json", "exercises", "exercises/chapter2",
                                  "exercises/chapter2/perceptron.py", "manifest.json"])
def test_a_symlink_anywhere_in_a_folder_submission_is_refused(tmp_path, link):
    subs = tmp_path / "subs"
    alice = make_folder_submission(subs, "alice", "correct", responses=responses({"q1": "a", "q2": "b", "q3": "c"}))
    (alice / "manifest.json").write_text('{"student": "alice"}')
    mallory = make_folder_submission(subs, "mallory", "stub", responses=responses({"q1": "x"}))
    (mallory / "manifest.json").write_text('{"student": "mallory"}')
    target = mallory / link
    if target.is_dir():
        import shutil

        shutil.rmtree(target)
    else:
        target.unlink()
    target.symlink_to(alice / link)
    with pytest.raises(BadSubmission, match="symbolic link"):
        read_submission(mallory)
    assert read_submission(alice).student == "alice"


def test_a_symlinked_submission_folder_is_refused_and_recorded(tmp_path):
    subs = tmp_path / "subs"
    alice = make_folder_submission(subs, "alice", "correct")
    (subs / "mallory").symlink_to(alice)
    db = tmp_path / "gb.sqlite"
    out = collect([subs], db)
    assert "symbolic link" in " ".join(out.split())
    with Gradebook(db) as gb:
        status = {r["student"]: (r["status"], r["reason"]) for r in gb.submissions()}
    assert status["alice"][0] == "graded" and status["mallory"][0] == "rejected"
    assert "symbolic link" in status["mallory"][1]


def test_lms_layout_gives_the_id_and_case_does_not_split_a_student(tmp_path, monkeypatch):
    o = origin_of(tmp_path / "doejane_12345_67890_submission-bob.zip")
    assert (o.student, o.layout, o.order) == ("12345", "canvas", 67890)
    assert origin_of(tmp_path / "doejane_late_12345_67891_x.zip").student == "12345"
    # names in other scripts, or none, are still Canvas's layout: the id is the user id
    assert origin_of(tmp_path / "张三_23456_67892_作业.zip").student == "23456"
    assert origin_of(tmp_path / "müllerjörg_34567_67893_x.zip").student == "34567"
    assert origin_of(tmp_path / "_45678_67894_x.zip").student == "45678"
    assert origin_of(tmp_path / "doe_jane.zip").layout == "plain"  # not digits: a plain name
    assert origin_of(tmp_path / "Submission-Alice.zip").student == "alice"
    subs = tmp_path / "subs"
    make_folder_submission(subs, "Alice", "stub")
    make_folder_submission(subs / "later", "alice", "correct")
    os.utime(subs / "Alice", (1_700_000_000, 1_700_000_000))
    db = tmp_path / "gb.sqlite"
    collect([subs / "Alice", subs / "later" / "alice"], db)
    rows = csv_rows(db)
    assert list(rows) == ["alice"] and rows["alice"]["chapter2"] == "10"
