"""Issue 12: Gradescope. The autograder zip (its listing: setup.sh and run_autograder at the
root, hidden suites in, no solutions/tests/.git), run end to end in a temporary
/autograder-like tree on the chapter 2 solutions, the stubs, the submit zip itself and an
unreadable upload; every results.json passes the schema check and lists the same tests
with the same maxima. ``grade export --format gradescope`` follows the same schema and
maxima (an untaken quiz is 0 of its maximum)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from instructor_helpers import fake_quiz_module, make_folder_submission, responses, zip_folder
from typer.testing import CliRunner

from grader.cli import app
from grader.instructor.collect import collect

VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def check_results_schema(data: object) -> None:
    """Gradescope's autograder results.json (the fields we write), strictly."""
    assert isinstance(data, dict), "results.json is an object"
    assert set(data) <= {"score", "execution_time", "output", "stdout_visibility", "tests", "visibility",
                         "extra_data", "output_format", "leaderboard"}, set(data)
    assert isinstance(data["score"], (int, float)) and not isinstance(data["score"], bool)
    assert isinstance(data["execution_time"], (int, float)) and data["execution_time"] >= 0
    assert isinstance(data["output"], str)
    assert data["stdout_visibility"] in VISIBILITY
    assert isinstance(data["tests"], list)
    for t in data["tests"]:
        assert set(t) == {"name", "score", "max_score", "status", "visibility", "output"}, set(t)
        assert isinstance(t["name"], str) and t["name"]
        assert isinstance(t["score"], (int, float)) and isinstance(t["max_score"], (int, float))
        assert 0 <= t["score"] <= t["max_score"]
        assert t["status"] in {"passed", "failed"}
        assert t["visibility"] in VISIBILITY
        assert isinstance(t["output"], str)
    assert abs(sum(t["score"] for t in data["tests"]) - data["score"]) < 1e-6


def maxima(data: dict) -> list[tuple[str, float]]:
    return [(t["name"], t["max_score"]) for t in data["tests"]]


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("ag") / "autograder.zip"
    res = CliRunner().invoke(app, ["gradescope-autograder", str(out), "--chapter", "chapter2"])
    assert res.exit_code == 0, res.output
    return out


def test_the_zip_has_gradescopes_layout_and_no_secrets_of_the_wrong_kind(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        names = zf.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        config = json.loads(zf.read("autograder.json"))
    assert {"setup.sh", "run_autograder", "autograder.json"} <= set(names)
    assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR
    assert "dl-grade/grader/suites/chapter2/test_perceptron_hidden.py" in names  # the hidden suite is in
    assert "dl-grade/quizzes/chapter2.toml" in names and "dl-grade/pyproject.toml" in names
    for name in names:
        parts = name.split("/")
        assert not {"solutions", "tests", "exercises", ".git"} & set(parts), name
        assert not any(p.startswith(".git") for p in parts) and not name.endswith(".pyc"), name
    assert not any(n.startswith("dl-grade/grader/suites/chapter3/") for n in names)  # only the chosen chapters
    assert config["chapters"] == ["chapter2"] and config["quizzes"] == ["chapter2"]
    setup = zipfile.ZipFile(autograder_zip).read("setup.sh").decode()
    assert "/autograder/source/dl-grade" in setup and "pip install" in setup


def run_autograder(zip_path: Path, root: Path, fill) -> dict:
    """Gradescope's steps, in a temporary /autograder: unpack to source/, put the upload in
    submission/, run run_autograder (with this venv's python instead of setup.sh's venv)."""
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    fill(root / "submission")
    env = dict(os.environ, GRADE_AUTOGRADER_ROOT=str(root), GRADE_AUTOGRADER_PYTHON=sys.executable)
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=300, cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    # the grader that ran is the zip's copy, not this checkout
    assert f"from {(root / 'source' / 'dl-grade').resolve()}" in proc.stdout, proc.stdout
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    check_results_schema(data)
    return data


def _copy_chapter(kind: str):
    def fill(folder: Path) -> None:
        staged = make_folder_submission(folder.parent / "staging", "x", kind)
        for p in (staged / "exercises").rglob("*.py"):
            dst = folder / p.relative_to(staged)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(p.read_bytes())
    return fill


def test_run_autograder_end_to_end_same_maxima_for_solutions_stubs_and_bad_uploads(autograder_zip, tmp_path):
    solved = run_autograder(autograder_zip, tmp_path / "a", _copy_chapter("correct"))
    stubs = run_autograder(autograder_zip, tmp_path / "b", _copy_chapter("stub"))

    def the_submit_zip(folder: Path) -> None:
        staged = make_folder_submission(folder.parent / "staging", "x", "correct")
        zip_folder(staged, folder / "submission.zip")

    zipped = run_autograder(autograder_zip, tmp_path / "c", the_submit_zip)
    junk = run_autograder(autograder_zip, tmp_path / "d", lambda f: (f / "notes.txt").write_text("hello"))
    assert maxima(solved) == maxima(stubs) == maxima(zipped) == maxima(junk)
    names = [n for n, _ in maxima(solved)]
    assert "quiz chapter2" in names and any("hidden" not in n and "float" in n for n in names)
    assert len(names) == len(set(names)) and len(names) >= 9
    assert solved["score"] == zipped["score"] == 10 and stubs["score"] == 0 and junk["score"] == 0
    quiz = next(t for t in stubs["tests"] if t["name"] == "quiz chapter2")
    assert quiz["score"] == 0 and quiz["max_score"] > 0 and quiz["output"] == "not taken"
    assert {t["visibility"] for t in solved["tests"]} == {"visible", "after_published"}
    assert junk["output"].startswith("Your submission could not be graded: no exercises/")
    assert stubs["stdout_visibility"] == "hidden"


def test_export_gradescope_has_the_schema_and_equal_maxima(tmp_path):
    subs = tmp_path / "subs"
    make_folder_submission(subs, "alice", "correct", responses=responses({"q1": "a", "q2": "b", "q3": "c"}))
    make_folder_submission(subs, "bob", "stub")  # no quiz taken
    db = tmp_path / "gb.sqlite"
    collect([subs], db, workers=1, quiz_module=fake_quiz_module(), chapters=["chapter2"])
    res = CliRunner().invoke(app, ["export", "--db", str(db), "--format", "gradescope", "-o", str(tmp_path / "gs")])
    assert res.exit_code == 0, res.output
    files = sorted((tmp_path / "gs").glob("*/results.json"))
    assert len(files) == 2
    data = {f.parent.name.split("-")[0]: json.loads(f.read_text()) for f in files}
    for d in data.values():
        check_results_schema(d)
    assert maxima(data["alice"]) == maxima(data["bob"])
    bob_quiz = next(t for t in data["bob"]["tests"] if t["name"] == "quiz chapter2")
    assert (bob_quiz["score"], bob_quiz["max_score"]) == (0, 3)
    assert data["alice"]["score"] == 13 and data["bob"]["score"] == 0


def test_unknown_chapter_and_wrong_suffix_are_exit_2(tmp_path):
    for args in (["gradescope-autograder", str(tmp_path / "a.zip"), "--chapter", "chapter99"],
                 ["gradescope-autograder", str(tmp_path / "a.tar")]):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2, res.output
        assert not (tmp_path / "a.zip").exists()


def test_export_gradescope_lists_a_not_graded_chapter_with_the_same_maxima_and_says_so(tmp_path, monkeypatch):
    import grader.instructor.collect as collect_mod

    db = tmp_path / "gb.sqlite"
    make_folder_submission(tmp_path / "one", "alice", "correct")
    collect([tmp_path / "one"], db, workers=1, quiz_module=fake_quiz_module(), chapters=["chapter2"])
    real = collect_mod.missing_needs
    monkeypatch.setattr(collect_mod, "missing_needs", lambda c: ["tensorflow"] if c.id == "chapter2" else real(c))
    make_folder_submission(tmp_path / "two", "bob", "correct")
    collect([tmp_path / "two"], db, workers=1, quiz_module=fake_quiz_module(), chapters=["chapter2"])
    res = CliRunner().invoke(app, ["export", "--db", str(db), "--format", "gradescope", "-o", str(tmp_path / "gs")])
    assert res.exit_code == 0, res.output
    assert "bob" in res.stderr and "--regrade" in res.stderr
    data = {f.parent.name.split("-")[0]: json.loads(f.read_text()) for f in (tmp_path / "gs").glob("*/results.json")}
    for d in data.values():
        check_results_schema(d)
    assert maxima(data["alice"]) == maxima(data["bob"]) and len(data["bob"]["tests"]) >= 8
    assert all(t["output"].startswith("[not graded]") for t in data["bob"]["tests"])
    assert "chapter2: not graded" in data["bob"]["output"]


def test_the_autograder_refuses_to_grade_without_a_sandbox_unless_told(tmp_path, monkeypatch):
    from grader.boundary import sandbox as sandboxes
    from grader.instructor.gradescope import grade_submission

    monkeypatch.setattr(sandboxes, "strength", lambda mode: "weak")
    make_folder_submission(tmp_path, "submission", "correct")
    refused = grade_submission(tmp_path, {"chapters": ["chapter2"], "quizzes": []})
    check_results_schema(refused)
    assert refused["tests"] == [] and refused["output"].startswith("Not graded: no sandbox")
    allowed = grade_submission(tmp_path, {"chapters": ["chapter2"], "quizzes": [], "allow_weak_isolation": True})
    check_results_schema(allowed)
    assert allowed["score"] == 10 and "isolation: weak" in allowed["output"]
