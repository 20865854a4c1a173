"""The chroot jail: as strong as bubblewrap or namespaces where neither can be had.

Root in a container under Docker's default profile has no CAP_SYS_ADMIN and a seccomp
profile that refuses namespaces and mounts, but keeps CAP_SYS_CHROOT, CAP_SETUID and
CAP_SETGID. tests/container_profile.py reproduces that here; under it, grading must use
the jail (not fall back to weak isolation), grade correctly, and the worker must read
nothing outside the allow-listed runtime, root's own files included. Only where chroot
or setuid is refused too is isolation weak, and the report names what was missing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import textwrap
import uuid
from pathlib import Path

import pytest

from grader.grading.catalog import load_catalog
from grader.grading.results import ISOLATION_WEAK
from tests import container_profile
from tests.conftest import REPO
from tests.security.jail_helpers import confined_batch, confined_check, grade_command, run_confined

pytestmark = pytest.mark.skipif(not container_profile.available(), reason="the container emulation needs root")

CHAPTER = load_catalog().chapter("chapter2")
CHAPTER_MAX = 10


def _jailed(isolation) -> bool:
    return any(e.startswith("jail root") for e in isolation) and ISOLATION_WEAK not in isolation


def test_the_emulation_refuses_what_a_default_container_refuses():
    # bubblewrap and unshare fail as in such a container; chroot and setuid do not
    done = run_confined(["sh", "-c", "bwrap --ro-bind / / true; echo bwrap=$?; unshare -m true; echo unshare=$?; "
                         "grep CapEff /proc/self/status"])
    assert "bwrap=1" in done.stdout and "unshare=1" in done.stdout, done.stdout + done.stderr
    caps = int(done.stdout.split("CapEff:")[1].split()[0], 16)
    assert not caps >> 21 & 1, "no CAP_SYS_ADMIN"
    assert caps >> 18 & 1 and caps >> 7 & 1 and caps >> 6 & 1, "CAP_SYS_CHROOT, CAP_SETUID, CAP_SETGID kept"


def test_grade_check_solutions_in_a_container_uses_the_jail_and_grades_right():
    done = run_confined(grade_command("check", "chapter2", "--solutions"))
    text = " ".join((done.stdout + done.stderr).split())
    assert "jail root: chroot into the allow-listed runtime" in text, text[-2000:]
    assert "isolation: weak" not in text
    assert "score 10/10" in text, text[-2000:]
    assert done.returncode == 0


def test_grade_check_stubs_in_a_container_uses_the_jail_and_scores_nothing():
    report = confined_check(CHAPTER, REPO / "exercises")
    assert _jailed(report.isolation), report.isolation
    assert report.score == 0
    assert {t.status for t in report.tests} == {"not_attempted"}


def test_grade_collect_in_a_container_uses_the_jail(tmp_path):
    for name, base in (("alice", "solutions"), ("bob", "exercises")):
        folder = tmp_path / "subs" / name / "exercises" / "chapter2"
        folder.mkdir(parents=True)
        for f in (REPO / base / "chapter2").glob("*.py"):
            (folder / f.name).write_bytes(f.read_bytes())
    db = tmp_path / "gradebook.sqlite"
    done = run_confined(grade_command("collect", str(tmp_path / "subs" / "alice"), str(tmp_path / "subs" / "bob"),
                                      "--db", str(db), "--chapter", "chapter2"), cwd=tmp_path)
    assert db.exists(), done.stdout + done.stderr
    text = " ".join(done.stdout.split())
    assert "jail root" in text, text[-2000:]
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT student, isolation FROM submissions").fetchall()
        scores = dict(conn.execute("SELECT s.student, c.score FROM chapter_scores c JOIN submissions s "
                                   "ON c.hash = s.hash WHERE c.chapter = 'chapter2'").fetchall())
    assert {r[0] for r in rows} == {"alice", "bob"}
    for _, isolation in rows:
        assert _jailed(json.loads(isolation)), isolation
    assert scores == {"alice": CHAPTER_MAX, "bob": 0}
    # every worker's /tmp folder in the jail is gone (the jail's /tmp may also hold the runtime
    # itself, when the grader's venv lives under /tmp, as in a CI clone there)
    from grader.boundary import jail

    assert [n for n in os.listdir(Path(jail.ensure(())) / "tmp") if n.startswith("w-")] == []


READER = textwrap.dedent('''
    import json, os

    def AND(x1, x2):
        found = {}
        for path in json.loads(%r):
            try:
                with open(path, "rb") as f:
                    found[path] = f.read(64).decode("latin-1")
            except OSError as exc:
                found[path] = type(exc).__name__
        raise ValueError("READ" + json.dumps({"found": found, "uid": os.getuid()}) + "END")
''')


def test_a_root_only_file_outside_the_jail_cannot_be_read(make_target, tmp_path):
    token = uuid.uuid4().hex
    secrets = [Path("/root") / f".dl-grade-jail-secret-{token}", tmp_path / "secret"]
    for path in secrets:
        path.write_text(f"SECRET-{token}")
        os.chmod(path, 0o600)
    paths = [str(p) for p in secrets] + [
        str(REPO / "grader" / "suites" / "chapter2" / "test_perceptron_hidden.py"),
        str(REPO / "solutions" / "chapter2" / "perceptron.py"),
        "/etc/shadow",
    ]
    try:
        target = make_target("chapter2", {"perceptron.py": READER % json.dumps(paths)}, base="exercises")
        reports = {"check": confined_check(CHAPTER, target),
                   "collect": confined_batch(CHAPTER, [("reader", target)])["reader"]}
    finally:
        secrets[0].unlink()
    for how, report in reports.items():
        assert _jailed(report.isolation), (how, report.isolation)
        message = next(t.message for t in report.tests if t.exercise == "chapter2.AND")
        result = json.loads(message.split("READ", 1)[1].split("END", 1)[0])
        assert result["uid"] == 65534
        assert f"SECRET-{token}" not in message
        assert all(v in ("FileNotFoundError", "PermissionError") for v in result["found"].values()), (how, result)


def test_without_chroot_isolation_is_weak_and_says_which_capability_is_missing():
    report = confined_check(CHAPTER, REPO / "solutions", cap_drop=("CAP_SYS_CHROOT",))
    assert report.isolation[0] == ISOLATION_WEAK, report.isolation
    assert "no chroot jail: missing CAP_SYS_CHROOT" in report.isolation


def test_a_jail_that_cannot_be_built_leaves_isolation_weak_and_says_why(monkeypatch, tmp_path):
    # a jail folder others can write to is refused (they could swap the runtime in it)
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    monkeypatch.setenv("GRADE_JAIL_DIR", str(shared))
    report = confined_check(CHAPTER, REPO / "solutions")
    assert report.isolation[0] == ISOLATION_WEAK, report.isolation
    assert any(e.startswith("no chroot jail: the jail could not be built") for e in report.isolation), report.isolation


def test_the_jail_is_roots_read_only_and_checked_against_its_manifest(tmp_path, monkeypatch):
    from grader.boundary import jail

    monkeypatch.setenv("GRADE_JAIL_DIR", str(tmp_path / "jails"))
    jail._ensure.cache_clear()
    try:
        root = Path(jail.ensure(()))
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                st = os.lstat(os.path.join(folder, name))
                if stat.S_ISLNK(st.st_mode):
                    continue
                if stat.S_ISCHR(st.st_mode):  # /dev/null and the like: writable, as everywhere
                    assert folder == str(root / "dev") and name in ("null", "zero", "full", "random", "urandom")
                    continue
                assert st.st_uid == 0 and not st.st_mode & 0o022, os.path.join(folder, name)
        assert stat.S_IMODE(os.lstat(root / "tmp").st_mode) == 0o711
        assert not (root / "proc" / "1").exists() and sorted(os.listdir(root / "proc")) == ["self"]
        assert jail._load_and_check(root.parent, full=True) is None
        # a file swapped for another: the check sees it, and the next use builds afresh
        victim = next(p for p in root.rglob("*.py") if p.is_file() and not p.is_symlink())
        victim.unlink()
        victim.write_text("PLANTED = True\n")
        os.chmod(victim, 0o644)
        assert jail._load_and_check(root.parent) is not None
        jail._ensure.cache_clear()
        again = Path(jail.ensure(()))
        assert again == root and "PLANTED" not in victim.read_text()
        assert jail._load_and_check(root.parent, full=True) is None
    finally:
        jail._ensure.cache_clear()


def test_collect_on_dask_workers_in_containers_uses_the_jail(tmp_path):
    # grade collect --scheduler: the Dask worker runs as root in a default container (its
    # process started under the emulation), the scheduler and the collecting side do not
    import subprocess
    import sys

    distributed = pytest.importorskip("distributed")
    from grader.instructor.collect import collect

    subs = tmp_path / "subs"
    for name, base in (("alice", "solutions"), ("bob", "exercises")):
        folder = subs / name / "exercises" / "chapter2"
        folder.mkdir(parents=True)
        for f in (REPO / base / "chapter2").glob("*.py"):
            (folder / f.name).write_bytes(f.read_bytes())
    with distributed.LocalCluster(n_workers=0, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        worker = subprocess.Popen(
            container_profile.confined_command([sys.executable, "-m", "distributed.cli.dask_worker",
                                                cluster.scheduler_address, "--nthreads", "1", "--no-nanny",
                                                "--no-dashboard", "--local-directory", str(tmp_path / "dask")]),
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with distributed.Client(cluster.scheduler_address, timeout=30) as client:
                client.wait_for_workers(1, timeout=60)
            summary = collect([subs], tmp_path / "dask.sqlite", scheduler=cluster.scheduler_address,
                              chapters=["chapter2"], quiz_chapters=["chapter2"])
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert summary.executor == "dask" and summary.graded == 2 and not summary.failed
    assert _jailed(summary.isolation), summary.isolation
    with sqlite3.connect(tmp_path / "dask.sqlite") as conn:
        scores = dict(conn.execute("SELECT s.student, c.score FROM chapter_scores c JOIN submissions s "
                                   "ON c.hash = s.hash WHERE c.chapter = 'chapter2'").fetchall())
    assert scores == {"alice": CHAPTER_MAX, "bob": 0}


def test_the_jail_can_be_built_and_verified_ahead_of_time(tmp_path):
    # python -m grader.cli.jail (a command over the boundary): build (or check) the jails, --verify hashes every file
    import subprocess
    import sys

    env = {**os.environ, "GRADE_JAIL_DIR": str(tmp_path / "jails")}
    command = [sys.executable, "-m", "grader.cli.jail", "--chapter", "chapter2"]
    built = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    assert built.returncode == 0 and "ready" in built.stdout, built.stdout + built.stderr
    (jail_dir,) = [p for p in (tmp_path / "jails").iterdir() if not p.name.startswith(".")]
    verified = subprocess.run(command + ["--verify"], capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    assert verified.returncode == 0 and "content hashes checked" in verified.stdout, verified.stdout
    # a file copied into the jail (not a link) changed in place: only the content hash sees it
    manifest = json.loads((jail_dir / "manifest.json").read_text())
    cmdline = jail_dir / "root" / "proc" / "self" / "cmdline"
    assert "/proc/self/cmdline" in manifest["files"]
    os.chmod(cmdline, 0o644)
    with open(cmdline, "r+b") as f:
        first = f.read(1)
        f.seek(0)
        f.write(b"X" if first != b"X" else b"Y")
    os.chmod(cmdline, 0o444)
    tampered = subprocess.run(command + ["--verify"], capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    assert "content hash differs" in tampered.stdout, tampered.stdout
    # --prune removes jails of runtimes no longer in use and keeps the current one
    stale = tmp_path / "jails" / "0123456789abcdef01234567"
    (stale / "root").mkdir(parents=True)
    pruned = subprocess.run(command + ["--prune"], capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    assert pruned.returncode == 0 and not stale.exists() and jail_dir.exists(), pruned.stdout + pruned.stderr


LOOSE_READER = '''
from pathlib import Path

# Run by the grader in its worker: the hidden suites sit in the autograder's own tree, root's
# files. If this module could read them it would wreck every gate (score 0); in the jail it can't.
for root in {roots!r}:
    try:
        Path(root, "dl-grade/grader/suites/chapter2/test_perceptron_hidden.py").read_text()
    except OSError:
        continue
    raise RuntimeError("the hidden suite was readable")


def AND(x1, x2):
    return int(0.5 * x1 + 0.5 * x2 - 0.7 > 0)


def NAND(x1, x2):
    return int(-0.5 * x1 - 0.5 * x2 + 0.7 > 0)


def OR(x1, x2):
    return int(0.5 * x1 + 0.5 * x2 - 0.2 > 0)


def XOR(x1, x2):
    return AND(NAND(x1, x2), OR(x1, x2))
'''


def _python_310() -> str | None:
    """A Python 3.10 with dl-grade's dependencies: $GRADE_TEST_PY310, or the venv .ci/matrix made."""
    matrix = Path(os.environ.get("MATRIX_DIR") or Path(os.environ.get("TMPDIR") or "/tmp") / "dl-grade-matrix")
    for cand in (os.environ.get("GRADE_TEST_PY310"), str(matrix / "py3.10" / "bin" / "python")):
        if cand and Path(cand).exists():
            return cand
    return None


def test_the_gradescope_zip_on_python_310_in_a_default_container_grades_in_the_jail(tmp_path):
    """Issue 20's whole case: Gradescope's image (python3 3.10), root in Docker's default
    profile. The zip's run_autograder grades a loose perceptron.py as chapter 2 in the jail,
    where the worker cannot read the root-owned hidden suites beside it."""
    import zipfile

    from typer.testing import CliRunner

    from grader.cli import app

    python = _python_310()
    if python is None:
        pytest.skip("no Python 3.10 venv with dl-grade's dependencies (.ci/matrix makes one)")
    out = tmp_path / "autograder.zip"
    assert CliRunner().invoke(app, ["gradescope-autograder", str(out), "--chapter", "chapter2"]).exit_code == 0
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(out) as zf:
        zf.extractall(root / "source")
    for p in (root / "source").rglob("*"):
        os.chmod(p, 0o700 if p.is_dir() else 0o600)  # root's only, as a hidden suite may well be
    (root / "submission").mkdir()
    (root / "submission" / "perceptron.py").write_text(LOOSE_READER.format(roots=[str(root / "source")]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST") and k != "PYTHONPATH"}
    env.update(GRADE_AUTOGRADER_ROOT=str(root), GRADE_AUTOGRADER_PYTHON=python)
    import subprocess

    done = subprocess.run(container_profile.confined_command(["bash", str(root / "source" / "run_autograder")]),
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    isolation = " ".join(data["extra_data"]["isolation"])
    assert "jail root" in isolation and "weak" not in isolation, isolation
    assert data["score"] == 10, data["output"]
    assert "perceptron.py graded as exercises/chapter2/perceptron.py" in data["output"]
