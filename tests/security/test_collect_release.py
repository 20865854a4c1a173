"""Releases from the pristine source (issue 11): after the instructor tries the exercises
in the course repository, ``grade release`` refuses (or, with --allow-dirty, ships the
committed stubs), and its audit compares every shipped exercise body with the stub."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from instructor_helpers import REPO
from typer.testing import CliRunner

from grader.cli import app
from grader.instructor.release import audit_release, make_release
from grader.util.errors import UsageError

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
STUB = "exercises/chapter2/perceptron.py"


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
                   check=True, capture_output=True)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A course repository (a git checkout with committed stubs)."""
    repo = tmp_path_factory.mktemp("course") / "repo"
    for part in ("exercises", "solutions", "grader"):
        shutil.copytree(REPO / part, repo / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(REPO / "pyproject.toml", repo / "pyproject.toml")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "course")
    return repo


@pytest.fixture
def tried(repo):
    """The instructor solved chapter 2 in exercises/ and added a scratch file, uncommitted."""
    pristine = (repo / STUB).read_bytes()
    partial = pristine.decode().replace("raise NotImplementedError", "return 1 if x1 + x2 > 1.5 else 0", 1)
    (repo / STUB).write_text(partial)
    (repo / "exercises" / "chapter2" / "scratch.py").write_text("ANSWER = 42\n")
    yield pristine
    (repo / STUB).write_bytes(pristine)
    (repo / "exercises" / "chapter2" / "scratch.py").unlink()


def test_a_dirty_exercises_folder_is_refused(repo, tried, tmp_path):
    with pytest.raises(UsageError, match="differs from the committed stubs") as err:
        make_release(tmp_path / "out", root=repo)
    assert STUB in str(err.value) and "scratch.py" in str(err.value) and "--allow-dirty" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_allow_dirty_releases_the_committed_stubs(repo, tried, tmp_path):
    manifest = make_release(tmp_path / "out", root=repo, allow_dirty=True)
    assert (tmp_path / "out" / STUB).read_bytes() == tried  # the stub, not the attempt
    assert not (tmp_path / "out" / "exercises" / "chapter2" / "scratch.py").exists()
    assert str(manifest["stubs_from"]).startswith("git HEAD ")
    assert set(manifest["left_out"]) == {STUB, "exercises/chapter2/scratch.py"}
    assert audit_release(tmp_path / "out", repo) == []


def test_the_audit_catches_a_shipped_attempt_the_old_checks_missed(repo, tmp_path):
    make_release(tmp_path / "out", root=repo)
    assert audit_release(tmp_path / "out", repo) == []
    stub = (tmp_path / "out" / STUB).read_text()
    # an attempt in the instructor's own words: no line of it is in solutions/
    (tmp_path / "out" / STUB).write_text(stub.replace("raise NotImplementedError", "return int(x1 and x2)", 1))
    problems = audit_release(tmp_path / "out", repo)
    assert len(problems) == 1 and "has a body beyond the stub's TODO and raise NotImplementedError" in problems[0]
    assert problems[0].startswith(STUB + ": AND")
    # without the pristine stubs (not a git checkout), a copied reference solution is still caught
    shutil.copy(repo / "solutions" / "chapter2" / "perceptron.py", tmp_path / "out" / STUB)
    problems = audit_release(tmp_path / "out", repo, pristine=None)
    assert any("AND is the reference solution's body" in p for p in problems)


def test_cli_release_refuses_then_allows(repo, tried, tmp_path, monkeypatch):
    import grader.grading.runner

    monkeypatch.setattr(grader.grading.runner, "PACKAGE_ROOT", repo)
    res = CliRunner().invoke(app, ["release", str(tmp_path / "a")])
    assert res.exit_code == 2 and "--allow-dirty" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(app, ["release", str(tmp_path / "b"), "--allow-dirty"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "stubs from git HEAD" in text and "Not released" in text and "scratch.py" in text
    assert (tmp_path / "b" / STUB).read_bytes() == tried
