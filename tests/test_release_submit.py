"""grade release ships nothing secret (tree and wheel); grade submit packs what collect reads."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile

import pytest
from instructor_helpers import REPO, fake_quiz_module
from typer.testing import CliRunner

from grader.cli import app
from grader.instructor.release import audit_release, make_release, read_hidden_counts, secret_markers
from grader.instructor.submission import read_submission


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("rel") / "student"
    res = CliRunner().invoke(app, ["release", str(out)])
    assert res.exit_code == 0, res.output
    return out


def test_release_has_the_workspace_and_no_secrets(release):
    assert (release / "exercises" / "chapter2" / "perceptron.py").is_file()
    assert (release / "pyproject.toml").is_file() and (release / "README.md").is_file()
    assert (release / "grader" / "suites" / "chapter2" / "test_perceptron.py").is_file()
    assert not (release / "solutions").exists() and not (release / "tests").exists()
    assert not list(release.rglob("*_hidden.py"))
    markers = secret_markers(REPO)
    assert markers["hidden test"] and markers["solution line"]  # the search has something to find
    assert audit_release(release, REPO) == []
    # the stubs are the stubs
    for stub in (REPO / "exercises").rglob("*.py"):
        assert (release / stub.relative_to(REPO)).read_bytes() == stub.read_bytes()


def test_audit_catches_a_planted_secret(release, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(release, copy)
    hidden = next((REPO / "grader" / "suites").glob("chapter*/test_*_hidden.py"))
    name = secret_markers(REPO)["hidden test"][0]
    (copy / "exercises" / "notes.py").write_text(f"# {name}\n")
    sol_line = secret_markers(REPO)["solution line"][0]
    (copy / "grader" / "extra.txt").write_text(sol_line)
    shutil.copy(hidden, copy / "grader" / "suites" / hidden.parent.name / hidden.name)
    problems = "\n".join(audit_release(copy, REPO))
    assert "hidden suite" in problems and "hidden test" in problems and "solution line" in problems


def test_hidden_counts_manifest_has_counts_only(release):
    for chapter_dir in (REPO / "grader" / "suites").glob("chapter*"):
        if not list(chapter_dir.glob("*_hidden.py")):
            continue
        data = json.loads((release / "grader" / "suites" / chapter_dir.name / "hidden.json").read_text())
        assert set(data) == {"chapter", "hidden_tests", "hidden_points"} and data["hidden_tests"] > 0
        counts = read_hidden_counts(chapter_dir.name, release / "grader" / "suites")
        assert counts == {"tests": data["hidden_tests"], "points": data["hidden_points"]}
    ch2 = read_hidden_counts("chapter2", release / "grader" / "suites")
    assert ch2 == {"tests": 4, "points": 5.0}


def test_student_check_in_the_release_says_how_many_hidden_tests_run_at_grading(release):
    import os

    env = dict(os.environ, PYTHONPATH=str(release), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", COLUMNS="200")
    res = subprocess.run([sys.executable, "-m", "grader", "check", "chapter2"], cwd=release, env=env,
                         capture_output=True, timeout=120)
    out = res.stdout.decode()
    assert "4 hidden tests run at grading" in out, out + res.stderr.decode()
    assert "0/4 public checks passed" in out


def test_wheel_built_from_the_release_has_no_secrets(release, tmp_path):
    pytest.importorskip("wheel")
    src = tmp_path / "src"
    shutil.copytree(release, src)
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", str(tmp_path / "dist"), str(src)],
        capture_output=True, timeout=300,
    )
    assert res.returncode == 0, res.stderr.decode()[-2000:]
    (whl,) = (tmp_path / "dist").glob("*.whl")
    markers = secret_markers(REPO)
    with zipfile.ZipFile(whl) as zf:
        names = zf.namelist()
        assert "grader/suites/chapter2/test_perceptron.py" in names
        assert "grader/suites/chapter2/hidden.json" in names
        assert not [n for n in names if n.endswith("_hidden.py") or n.startswith(("solutions/", "tests/"))]
        for n in names:
            text = zf.read(n).decode("utf-8", "replace")
            for needle in markers["hidden test"]:
                assert needle not in text, (n, needle)
            if not n.startswith("grader/catalog/"):
                for needle in markers["solution line"]:
                    assert needle not in text, (n, needle)


def test_graded_quizzes_ship_without_keys(tmp_path, monkeypatch):
    import grader.instructor.quizzes as q

    repo = tmp_path / "repo"
    for part in ("exercises", "solutions", "grader"):
        shutil.copytree(REPO / part, repo / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", repo / "pyproject.toml")
    (repo / "quizzes").mkdir()
    (repo / "quizzes" / "chapter2.toml").write_text('[[question]]\nid = "q1"\ncorrect = true\n')
    monkeypatch.setattr(q, "quiz_module", lambda: fake_quiz_module())
    make_release(tmp_path / "out", graded_quizzes=True, root=repo)
    assert (tmp_path / "out" / "quizzes" / "chapter2.toml").read_text() == "keyless = true\n"
    make_release(tmp_path / "practice", root=repo)
    assert "correct = true" in (tmp_path / "practice" / "quizzes" / "chapter2.toml").read_text()
    monkeypatch.setattr(q, "quiz_module", lambda: None)
    with pytest.raises(Exception, match="quiz package"):
        make_release(tmp_path / "nokeys", graded_quizzes=True, root=repo)


def test_release_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    res = CliRunner().invoke(app, ["release", str(tmp_path / "x")])
    assert res.exit_code == 2 and (tmp_path / "x" / "keep.txt").exists()


def test_submit_packs_exercises_responses_and_manifest(release, tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    shutil.copytree(release, ws)
    (ws / ".grade").mkdir(exist_ok=True)  # grade check may have written progress there
    (ws / ".grade" / "quiz_responses.json").write_text('{"format_version": 1, "attempts": []}')
    (ws / "exercises" / "chapter2" / "__pycache__").mkdir()
    (ws / "exercises" / "chapter2" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    monkeypatch.chdir(ws)
    res = CliRunner().invoke(app, ["submit", "--student", "s42", "-o", str(tmp_path / "s42.zip")])
    assert res.exit_code == 0, res.output
    with zipfile.ZipFile(tmp_path / "s42.zip") as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        for rel, digest in manifest["files"].items():
            assert hashlib.sha256(zf.read(rel)).hexdigest() == digest
    stubs = {p.relative_to(REPO).as_posix() for p in (REPO / "exercises").glob("chapter*/*.py")}
    assert names == stubs | {".grade/quiz_responses.json", "manifest.json"}
    assert manifest["student"] == "s42" and manifest["grader_version"] and manifest["created"]
    sub = read_submission(tmp_path / "s42.zip")
    assert sub.student == "s42" and sub.responses == {"format_version": 1, "attempts": []}
    res = CliRunner().invoke(app, ["submit", "--student", "bad id!"])
    assert res.exit_code == 2


def test_graded_release_with_the_real_quiz_package_has_no_keys(tmp_path):
    quiz = pytest.importorskip("grader.quiz")
    if not (REPO / "quizzes").is_dir():
        pytest.skip("no quiz banks in this repository")
    make_release(tmp_path / "out", graded_quizzes=True)
    banks = sorted((tmp_path / "out" / "quizzes").glob("chapter*.toml"))
    assert banks
    for bank in banks:
        text = bank.read_text(encoding="utf-8")
        assert "graded = true" in text and "correct =" not in text and "explanation =" not in text
        keyless = quiz.load_bank_file(bank)
        assert keyless.by_id()  # still a loadable bank with its questions
    assert audit_release(tmp_path / "out", REPO, graded_quizzes=True) == []
