"""Reading submissions: every kind of bad input gets a clear reason, nothing escapes."""

from __future__ import annotations

import zipfile

import pytest
from instructor_helpers import bomb_zip, make_folder_submission, zip_folder

from grader.instructor.submission import BadSubmission, read_submission


def test_folder_and_zip_of_the_same_work_read_the_same_files(tmp_path):
    folder = make_folder_submission(tmp_path, "alice")
    z = zip_folder(folder, tmp_path / "alice.zip", {"manifest.json": b'{"student": "s123"}'})
    a, b = read_submission(folder), read_submission(z)
    assert a.files == b.files and set(a.files) == {"chapter2/perceptron.py"}
    # the id is the instructor's (the file name); the manifest's other id is a problem
    assert a.student == b.student == "alice"
    assert a.problems == []
    assert any("manifest says 's123'" in p for p in b.problems)


def test_zip_inside_one_top_folder_is_accepted(tmp_path):
    folder = make_folder_submission(tmp_path / "wrap", "bob")
    z = zip_folder(folder.parent, tmp_path / "bob.zip")
    assert set(read_submission(z).files) == {"chapter2/perceptron.py"}


@pytest.mark.parametrize("name", ["../evil.py", "/etc/passwd", "exercises/../../x.py", "a\\..\\b.py"])
def test_zip_slip_is_rejected(tmp_path, name):
    z = tmp_path / "slip.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("exercises/chapter2/perceptron.py", "x = 1\n")
        zf.writestr(name, "boom")
    with pytest.raises(BadSubmission, match="zip-slip"):
        read_submission(z)
    assert not (tmp_path.parent / "evil.py").exists()


def test_symlink_member_is_rejected(tmp_path):
    z = tmp_path / "link.zip"
    with zipfile.ZipFile(z, "w") as zf:
        info = zipfile.ZipInfo("exercises/chapter2/perceptron.py")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(BadSubmission, match="symbolic link"):
        read_submission(z)


def test_zip_bomb_is_rejected_quickly(tmp_path):
    z = bomb_zip(tmp_path / "bomb.zip")
    assert z.stat().st_size < 200_000
    with pytest.raises(BadSubmission, match="zip bomb"):
        read_submission(z)


def test_not_a_zip_and_missing_folders(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(BadSubmission, match="not a zip"):
        read_submission(tmp_path / "x.zip")
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("notes.txt", "hello")
    with pytest.raises(BadSubmission, match="missing folder"):
        read_submission(empty)
    (tmp_path / "nofolder").mkdir()
    with pytest.raises(BadSubmission, match="missing folder"):
        read_submission(tmp_path / "nofolder")


def test_non_utf8_and_syntax_errors_are_recorded_but_graded(tmp_path):
    folder = make_folder_submission(tmp_path, "carol")
    (folder / "exercises" / "chapter2" / "latin.py").write_bytes(b"x = '\xe9'\n")
    (folder / "exercises" / "chapter2" / "broken.py").write_text("def f(:\n")
    sub = read_submission(folder)
    text = "\n".join(sub.problems)
    assert "latin.py: not UTF-8" in text and "broken.py: syntax error on line 1" in text
    assert "chapter2/perceptron.py" in sub.files


def test_bad_quiz_responses_are_a_problem_not_a_rejection(tmp_path):
    folder = make_folder_submission(tmp_path, "dan")
    (folder / ".grade").mkdir()
    (folder / ".grade" / "quiz_responses.json").write_text("{nope")
    sub = read_submission(folder)
    assert sub.responses is None and "quiz_responses.json" in sub.problems[0]


def test_identical_work_from_two_students_is_two_submissions(tmp_path):
    for name in ("ann", "ben"):
        d = tmp_path / name / "exercises" / "chapter2"
        d.mkdir(parents=True)
        (d / "perceptron.py").write_text("def AND(x1, x2):\n    raise NotImplementedError\n")
    a, b = read_submission(tmp_path / "ann"), read_submission(tmp_path / "ben")
    assert a.content_sha256 == b.content_sha256 and a.hash != b.hash
    assert read_submission(tmp_path / "ann").hash == a.hash  # stable
