"""A folder submission swapped for a symbolic link while it is being read.

A student who can still write to their folder during ``grade collect`` swaps
``exercises/chapter2`` for a link to a classmate's (or the instructor's) folder between
the reader's checks and its reads. The reader walks the folder through file descriptors,
one component at a time with O_NOFOLLOW, so what it reads is what it opened: never the
file at the other end of the link. The race is made deterministic: the swap happens the
moment the reader opens the file, after every check it made on the path.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.instructor import submission
from grader.instructor.submission import BadSubmission, read_submission

HONEST = "def AND(x1, x2):\n    return 0  # the student's own file\n"
SECRET = "def AND(x1, x2):\n    return 'SECRET'  # the classmate's file\n"


def _layout(tmp_path: Path) -> tuple[Path, Path]:
    student = tmp_path / "alice"
    (student / "exercises" / "chapter2").mkdir(parents=True)
    (student / "exercises" / "chapter2" / "perceptron.py").write_text(HONEST)
    outside = tmp_path / "bob" / "exercises" / "chapter2"
    outside.mkdir(parents=True)
    (outside / "perceptron.py").write_text(SECRET)
    return student, outside


def _swap_when_opened(monkeypatch, student: Path, outside: Path, name: str) -> list[str]:
    """Swap the chapter folder for a link to ``outside`` when the reader opens ``name``."""
    real_open = os.open
    swapped: list[str] = []

    def racing_open(path, flags, *args, **kwargs):
        if os.fspath(path).endswith(name) and not swapped:
            chapter = student / "exercises" / "chapter2"
            chapter.rename(student / "exercises" / "chapter2-moved")
            chapter.symlink_to(outside, target_is_directory=True)
            swapped.append(os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(submission.os, "open", racing_open)
    return swapped


def test_a_folder_swapped_for_a_link_before_the_file_is_opened_reads_nothing_outside(tmp_path, monkeypatch):
    student, outside = _layout(tmp_path)
    swapped = _swap_when_opened(monkeypatch, student, outside, "perceptron.py")
    try:
        sub = read_submission(student)
    except BadSubmission as exc:
        assert "symbolic link" in str(exc)
        return
    finally:
        monkeypatch.undo()
    assert swapped, "the race was run"
    assert (student / "exercises" / "chapter2").is_symlink()
    read = sub.files.get("chapter2/perceptron.py", b"").decode()
    assert "SECRET" not in read
    assert read == HONEST  # what was opened is what is read: the folder that was listed


def test_a_folder_swapped_for_a_link_before_it_is_opened_is_refused(tmp_path, monkeypatch):
    # the swap lands just before the chapter folder itself is opened (after its checks)
    student, outside = _layout(tmp_path)
    real_stat, real_lstat = os.stat, os.lstat
    state = {"checked": False}

    def swap_after_check(result):
        if not state["checked"]:
            state["checked"] = True
            chapter = student / "exercises" / "chapter2"
            chapter.rename(student / "exercises" / "chapter2-moved")
            chapter.symlink_to(outside, target_is_directory=True)
        return result

    def racing_stat(path, *args, **kwargs):
        result = real_stat(path, *args, **kwargs)
        return swap_after_check(result) if os.fspath(path).endswith("chapter2") else result

    def racing_lstat(path, *args, **kwargs):
        result = real_lstat(path, *args, **kwargs)
        return swap_after_check(result) if os.fspath(path).endswith("chapter2") else result

    monkeypatch.setattr(submission.os, "stat", racing_stat)
    monkeypatch.setattr(submission.os, "lstat", racing_lstat)
    try:
        sub = read_submission(student)
    except BadSubmission as exc:
        assert "symbolic link" in str(exc)
        return
    finally:
        monkeypatch.undo()
    assert state["checked"], "the race was run"
    assert "SECRET" not in sub.files.get("chapter2/perceptron.py", b"").decode()


@pytest.mark.parametrize("where", ["exercises", "exercises/chapter2", "exercises/chapter2/perceptron.py"])
def test_a_link_at_any_component_is_refused(tmp_path, where):
    student, outside = _layout(tmp_path)
    target = student / where
    real = {"exercises": outside.parent, "exercises/chapter2": outside,
            "exercises/chapter2/perceptron.py": outside / "perceptron.py"}[where]
    if target.is_dir():
        import shutil

        shutil.rmtree(target)
    else:
        target.unlink()
    target.symlink_to(real)
    with pytest.raises(BadSubmission, match="symbolic link"):
        read_submission(student)
