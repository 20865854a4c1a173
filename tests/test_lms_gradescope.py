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
from instructor_helpers import REPO, fake_quiz_module, make_folder_submission, responses, zip_folder
from typer.testing import CliRunner

from grader.cli import app
from grader.instructor.collect import collect

VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def check_results_schema(data: object) -> None:
    """Gradescope's autograder results.json (the fields we write), strictly."""
    assert isinstance(data, dict), "results.json is an object"
    assert set(data) <= {"score", "execution_time", "output", "stdout_visibility", "tests", "visibility",
                         "extra_data", "output_format", "test_output_format", "leaderboard"}, set(data)
    # Gradescope renders an output without output_format as HTML: the student's text must not be
    assert data["output_format"] == "text"
    assert isinstance(data["score"], (int, float)) and not isinstance(data["score"], bool)
    assert isinstance(data["execution_time"], (int, float)) and data["execution_time"] >= 0
    assert isinstance(data["output"], str)
    assert data["stdout_visibility"] in VISIBILITY
    assert isinstance(data["tests"], list)
    for t in data["tests"]:
        assert set(t) == {"name", "score", "max_score", "status", "visibility", "output", "output_format"}, set(t)
        assert t["output_format"] == "text"
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
    assert "/autograder/source" in setup and '"$SOURCE/dl-grade"' in setup and "pip install" in setup


def run_autograder(zip_path: Path, root: Path, fill, metadata: dict | None = None, python: str | None = None,
                   env_extra: dict | None = None, expect_exit: int = 0, started: bool = True) -> dict:
    """Gradescope's steps, in a temporary /autograder: unpack to source/, put the upload in
    submission/ (and Gradescope's submission_metadata.json beside it), run run_autograder
    (with this venv's python, or ``python``, instead of setup.sh's venv)."""
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    fill(root / "submission")
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    env = dict(os.environ, GRADE_AUTOGRADER_ROOT=str(root), GRADE_AUTOGRADER_PYTHON=python or sys.executable,
               **(env_extra or {}))
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=300, cwd=root)
    assert proc.returncode == expect_exit, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    # the grader that ran is the zip's copy, not this checkout
    assert not started or f"from {(root / 'source' / 'dl-grade').resolve()}" in proc.stdout, proc.stdout
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
    # the upload holds no chapter-2 file: every chapter-2 test listed, 0, as not submitted
    junk_tests = [t for t in junk["tests"] if t["name"].startswith("chapter2")]
    assert junk_tests and all(t["output"].startswith("[not submitted]") for t in junk_tests)
    quiz = next(t for t in stubs["tests"] if t["name"] == "quiz chapter2")
    assert quiz["score"] == 0 and quiz["max_score"] > 0 and quiz["output"] == "not taken"
    assert {t["visibility"] for t in solved["tests"]} == {"visible", "after_published"}
    assert junk["output"].startswith("Your submission could not be graded: no exercises/")
    assert stubs["stdout_visibility"] == "hidden"
    # the top-level output totals the visible tests only (issue 19): never the hidden ones
    public = sum(t["max_score"] for t in solved["tests"] if t["visibility"] == "visible" and "quiz" not in t["name"])
    assert 0 < public < 10
    assert f"chapter2: {public:g}/{public:g} in the visible tests" in solved["output"], solved["output"]
    assert "10/10" not in solved["output"] and "chapter2: 0/" in stubs["output"]


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


# -- issue 20: Gradescope's metadata, plain text, loose uploads, failures, memory ------------------------


def gradescope_metadata(sid: str | None = "alice", created: str = "2026-03-02T10:30:00.000000-08:00",
                        due: str = "2026-03-01T23:59:00.000000-08:00", late_due: str | None = None) -> dict:
    """submission_metadata.json as Gradescope documents it (its fields we read, and others)."""
    return {
        "id": 123456, "created_at": created, "submission_method": "upload",
        "assignment": {"due_date": due, "late_due_date": late_due, "group_size": None, "group_submission": False,
                       "id": 25828, "course_id": 1234, "release_date": "2026-02-20T00:00:00.000000-08:00",
                       "title": "Perceptrons", "total_points": "13.0"},
        "users": [{"email": "alice.l@example.edu", "id": 1234, "name": "Alice Liddell", "sid": sid}],
        "previous_submissions": [],
    }


def _submit_zip(student: str, kind: str = "correct"):
    """The upload a student makes: the zip of ``grade submit`` with its manifest (id, sha256s)."""
    import hashlib

    def fill(folder: Path) -> None:
        staged = make_folder_submission(folder.parent / "staging", "x", kind)
        files = {p.relative_to(staged).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in staged.rglob("*") if p.is_file()}
        (staged / "manifest.json").write_text(json.dumps({"student": student, "files": files}), encoding="utf-8")
        zip_folder(staged, folder / "submission.zip")
    return fill


def test_identity_and_lateness_come_from_gradescopes_metadata_not_the_folder(autograder_zip, tmp_path):
    late = run_autograder(autograder_zip, tmp_path / "a", _submit_zip("alice"), metadata=gradescope_metadata())
    assert late["score"] == 10
    assert "manifest says" not in late["output"], late["output"]  # the folder is always 'submission'
    assert late["output"].startswith("Graded for Alice Liddell. Submitted late: 10 h 31 min after the due date")
    extra = late["extra_data"]
    assert extra["student"] == "alice" and extra["late"] is True and extra["late_by_seconds"] == 10 * 3600 + 31 * 60
    assert extra["submitted_at"] == "2026-03-02T18:30:00+00:00" and extra["due_date"] == "2026-03-02T07:59:00+00:00"

    # the email names the same student; a manifest naming someone else is a real disagreement
    on_time = run_autograder(autograder_zip, tmp_path / "b", _submit_zip("alice.l@example.edu"),
                             metadata=gradescope_metadata(created="2026-03-01T20:00:00-08:00"))
    assert "manifest says" not in on_time["output"] and on_time["extra_data"]["late"] is False
    assert "Submitted on time" in on_time["output"]
    other = run_autograder(autograder_zip, tmp_path / "c", _submit_zip("mallory"),
                           metadata=gradescope_metadata(sid=None, late_due="2026-03-02T08:00:00-08:00"))
    assert "manifest says 'mallory'; graded as alice.l@example.edu (the id comes from Gradescope's submission " \
           "metadata)" in other["output"], other["output"]
    assert other["extra_data"]["after_late_due_date"] is True and "after the late due date" in other["output"]


def test_a_students_text_goes_out_as_plain_text_never_html(autograder_zip, tmp_path):
    attack = "<img src=x onerror=alert(1)>"
    data = run_autograder(autograder_zip, tmp_path / "a", _submit_zip(attack), metadata=gradescope_metadata())
    assert attack in data["output"]  # shown as the characters it is ...
    assert data["output_format"] == "text"  # ... because Gradescope is told the output is text, not HTML
    assert all(t["output_format"] == "text" for t in data["tests"])


def test_a_loose_py_upload_is_graded_as_its_chapter(autograder_zip, tmp_path):
    def loose(folder: Path) -> None:
        (folder / "perceptron.py").write_bytes((REPO / "solutions" / "chapter2" / "perceptron.py").read_bytes())
        (folder / "scratch.py").write_text("x = 1\n", encoding="utf-8")

    data = run_autograder(autograder_zip, tmp_path / "a", loose, metadata=gradescope_metadata())
    assert data["score"] == 10, data["output"]
    assert "perceptron.py graded as exercises/chapter2/perceptron.py" in data["output"]
    assert "scratch.py is not graded: no module of that name here (chapter2: perceptron.py)" in data["output"]


def test_loose_modules_two_chapters_share_go_where_the_upload_points_or_nowhere_with_a_note(tmp_path):
    from grader.instructor.gradescope import stage_loose

    def stage(name: str, files: list[str]) -> tuple[list[str], list[str]]:
        up = tmp_path / name
        for f in files:
            (up / f).parent.mkdir(parents=True, exist_ok=True)
            (up / f).write_text("x = 1\n", encoding="utf-8")
        staged, notes = stage_loose(up, tmp_path / f"out-{name}", ["chapter4", "chapter5"])
        placed = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*.py")) if staged else []
        return placed, notes

    placed, notes = stage("alone", ["two_layer_net.py"])
    assert placed == [] and any("two_layer_net.py is a module of chapter4 and chapter5" in n for n in notes)
    assert stage("with-layers", ["two_layer_net.py", "layers.py"])[0] == [
        "exercises/chapter5/layers.py", "exercises/chapter5/two_layer_net.py"]
    assert stage("in-a-folder", ["chapter4/two_layer_net.py"])[0] == ["exercises/chapter4/two_layer_net.py"]


def _no_sandbox_python(tmp_path: Path) -> str:
    """This venv's python on a machine where no sandbox can be made: bubblewrap unusable and
    no namespaces (a sitecustomize makes the sandbox probe say so)."""
    site = tmp_path / "nosandbox"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import grader.boundary.sandbox as s\ns.strength = lambda mode: 'weak'\n", encoding="utf-8")
    wrapper = tmp_path / "python-nosandbox"
    wrapper.write_text(f'#!/usr/bin/env bash\nPYTHONPATH="${{PYTHONPATH:-}}:{site}" exec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def test_no_sandbox_is_an_autograder_failure_with_the_reason_not_a_zero(autograder_zip, tmp_path):
    data = run_autograder(autograder_zip, tmp_path / "a", _copy_chapter("correct"), metadata=gradescope_metadata(),
                          python=_no_sandbox_python(tmp_path), expect_exit=1)
    assert data["tests"] == [] and data["output"].startswith("Not graded: no sandbox can be made on this machine")
    assert data["extra_data"]["autograder_failure"].startswith("Not graded: no sandbox")


def test_no_python_or_a_grader_that_dies_still_leaves_a_results_json_and_fails(autograder_zip, tmp_path):
    data = run_autograder(autograder_zip, tmp_path / "a", _copy_chapter("correct"),
                          python=str(tmp_path / "no-such-python"), expect_exit=1, started=False)
    assert "no Python at the autograder's venv" in data["output"] and data["extra_data"]["autograder_failure"]
    crashing = tmp_path / "python-crash"
    crashing.write_text(f'#!/usr/bin/env bash\ncase "$*" in *grader.instructor*) kill -9 $$;; esac\nexec {sys.executable} "$@"\n')
    crashing.chmod(0o755)
    data = run_autograder(autograder_zip, tmp_path / "b", _copy_chapter("correct"), python=str(crashing),
                          expect_exit=1, started=False)
    assert "the grader stopped before writing its results" in data["output"]


def test_the_worker_memory_cap_fits_the_container(autograder_zip, tmp_path, monkeypatch):
    from grader.instructor.gradescope import grade_submission

    data = run_autograder(autograder_zip, tmp_path / "a", _copy_chapter("correct"),
                          env_extra={"GRADE_MEMORY_LIMIT_MB": "768"})
    assert data["score"] == 10
    assert "memory cap lowered to fit this autograder's 768 MB (chapter2: 512 MB)" in data["output"], data["output"]
    # chapter 8 (TensorFlow) cannot run in Gradescope's default 768 MB: a failure naming the setting, not a 0
    monkeypatch.setenv("GRADE_MEMORY_LIMIT_MB", "768")
    make_folder_submission(tmp_path / "b", "submission", "correct")
    refused = grade_submission(tmp_path / "b", {"chapters": ["chapter8"], "quizzes": []})
    check_results_schema(refused)
    assert refused["tests"] == [] and "chapter8 needs 4096 MB" in refused["output"]
    assert "at least 4352 MB of memory in Gradescope's settings" in refused["output"]


def test_setup_sh_replaces_a_python_older_than_3_10_with_a_supported_one(autograder_zip, tmp_path):
    """setup.sh on an image whose python3 is too old (here 3.8 or 3.9 from pyenv, with a fake
    apt-get that can install only this interpreter's python3.X): the venv gets a supported one."""
    import glob
    import shutil

    old = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.[89].*/bin/python3")))
    if not old:
        pytest.skip("no Python older than 3.10 here to stand for an old image's python3")
    mine = f"python{sys.version_info.major}.{sys.version_info.minor}"
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3").symlink_to(old[0])
    log = tmp_path / "apt.log"
    (fake / "apt-get").write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$*" >> {log}\n'
        f'case "$*" in *"install -y -q {mine} "*) ln -sf {sys.executable} {fake}/{mine}; exit 0;; '
        '*"install -y -q python3."*) exit 100;; esac\nexit 0\n')
    (fake / "apt-get").chmod(0o755)
    with zipfile.ZipFile(autograder_zip) as zf:
        zf.extractall(tmp_path / "source")
    env = dict(os.environ, PATH=f"{fake}:/usr/bin:/bin", GRADE_AUTOGRADER_SOURCE=str(tmp_path / "source"),
               GRADE_AUTOGRADER_VENV=str(tmp_path / "venv"), PIP_NO_INDEX="1")
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    subprocess.run(["bash", str(tmp_path / "source" / "setup.sh")], env=env, capture_output=True, timeout=300)
    # (installing dl-grade's dependencies then needs the index: not here)
    venv_python = tmp_path / "venv" / "bin" / "python"
    version = subprocess.run([str(venv_python), "-c", "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True).stdout.strip()
    assert version == str(tuple(sys.version_info[:2])), version
    tried = log.read_text()
    assert "bubblewrap" in tried and f"install -y -q {mine} {mine}-venv" in tried
    assert "software-properties-common" not in tried  # no PPA needed
    shutil.rmtree(tmp_path / "venv")
