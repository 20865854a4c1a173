"""What the worker can see: an allow-list, attacked from the worker's side.

Each attack is a chapter-2 ``perceptron.py`` whose ``AND`` looks around and raises an
exception carrying what it found (a student's exception text reaches the report, so
this is also the path a leak would take). Then the test reads the report: nothing it
must not see was readable, and the code runs as nobody. Run with bubblewrap where the
machine has it, with the worker's own namespaces (``--sandbox none``) always, and, where
the tests run as root, under an emulation of Docker's default profile ("container":
neither bubblewrap nor namespaces, so the chroot jail).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check
from grader.instructor.batch import run_batch
from tests import container_profile
from tests.conftest import REPO, has_bwrap
from tests.security.jail_helpers import confined_batch, confined_check

CHAPTER = load_catalog().chapter("chapter2")
SANDBOXES = ["none"] + (["bwrap"] if has_bwrap() else []) + (["container"] if container_profile.available() else [])

PROBE = textwrap.dedent('''
    import json, os, sys
    PATHS, DIRS = json.loads(%r)

    def _readable(path):
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                with open(path, "rb") as f:
                    f.read(16)
            return True
        except OSError:
            return False

    def _listing(path):
        try:
            return sorted(os.listdir(path))
        except OSError:
            return None

    def AND(x1, x2):
        found = {p: _readable(p) for p in PATHS}
        listed = {d: _listing(d) for d in DIRS}
        try:
            top = sorted(os.listdir("/"))
        except OSError:
            top = []
        try:
            procs = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        except OSError:
            procs = []
        raise ValueError("PROBE" + json.dumps({"found": found, "listed": listed, "top": top, "uid": os.getuid(),
                                                "gid": os.getgid(), "procs": procs}) + "END")
''')


def _probe_result(report) -> dict:
    message = next(t.message for t in report.tests if t.exercise == "chapter2.AND")
    assert "PROBE" in message, message
    return json.loads(message.split("PROBE", 1)[1].split("END", 1)[0])


# Folders that may exist in the worker's view only as the way to a bound runtime path.
DIRS = ["/", "/root", "/home", "/srv", "/mnt", "/opt", "/var", "/usr", "/usr/local", "/etc", "/work", "/tmp",
        str(REPO), str(REPO.parent)]


def _check(target: Path, sandbox: str):
    """``grade check`` of ``target``: in this process, or as root in a default container."""
    if sandbox == "container":
        report = confined_check(CHAPTER, target)
        assert any(e.startswith("jail root") for e in report.isolation), report.isolation
        return report
    return run_check(CHAPTER, target, sandbox=sandbox)


def _secrets(tmp_path: Path) -> list[str]:
    """Places a student must never read: our own tree and what lies beside it."""
    classmate = tmp_path / "submissions" / "bob" / "chapter2"
    classmate.mkdir(parents=True)
    (classmate / "perceptron.py").write_text("def AND(a, b): return a and b\n")
    other_checkout = tmp_path / "course-copy" / "solutions"
    other_checkout.mkdir(parents=True)
    (other_checkout / "answers.py").write_text("ANSWER = 42\n")
    return [
        str(REPO / ".git"),
        str(REPO / ".git" / "HEAD"),
        str(REPO / "solutions"),
        str(REPO / "solutions" / "chapter2" / "perceptron.py"),
        str(REPO / "tests" / "right" / "chapter5.toml"),
        str(REPO / "grader" / "suites" / "chapter2" / "test_perceptron_hidden.py"),
        str(REPO / "grader"),
        str(classmate / "perceptron.py"),
        str(other_checkout / "answers.py"),
        str(tmp_path),
        "/etc/shadow",
        "/etc/passwd",
        "/etc/hostname",
        "/home",
        "/srv",
        "/mnt",
        "/var",
        "/usr/bin",
        "/usr/share",
        "/usr/local",
        "/sys",
    ]


def _make_probe(make_target, paths: list[str]) -> Path:
    return make_target("chapter2", {"perceptron.py": PROBE % json.dumps([paths, DIRS])}, base="exercises")


def _runtime_paths() -> list[Path]:
    from grader.boundary import sandbox

    steps, _ = sandbox.plan()
    return [Path(s[-1]) for s in steps]


def _assert_allow_list(result: dict, paths: list[str]) -> None:
    leaked = [p for p, ok in result["found"].items() if ok]
    assert leaked == [], f"the worker could read {leaked}"
    assert result["uid"] == 65534 and result["gid"] == 65534, "the worker runs as nobody"
    # a folder holds nothing but the way to what the plan binds
    runtime = _runtime_paths()
    for folder, entries in result["listed"].items():
        for entry in entries or []:
            path = Path(folder) / entry
            assert any(r == path or path in r.parents for r in runtime), f"{path} is visible to the worker"
    # /proc, where there is one, is the worker's own PID namespace: a handful of pids, not the machine's
    assert len(result["procs"]) <= 3


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_grade_check_worker_sees_only_the_runtime(make_target, tmp_path, sandbox):
    paths = _secrets(tmp_path)
    report = _check(_make_probe(make_target, paths), sandbox)
    _assert_allow_list(_probe_result(report), paths)
    assert report.score == 0


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_collect_worker_sees_only_the_runtime(make_target, tmp_path, sandbox):
    # grade collect's path: a batch session, workers forked from a fork server
    paths = _secrets(tmp_path)
    targets = [("probe", _make_probe(make_target, paths))]
    if sandbox == "container":
        reports = confined_batch(CHAPTER, targets)
        assert any(e.startswith("jail root") for e in reports["probe"].isolation), reports["probe"].isolation
    else:
        reports = run_batch(CHAPTER, targets, sandbox=sandbox)
    _assert_allow_list(_probe_result(reports["probe"]), paths)


def test_the_allow_list_binds_no_project_file():
    # Whatever the plan binds is runtime: nothing inside this repository but the venv's
    # allowed packages, nothing of the grader, the solutions or the tests.
    from grader.boundary import sandbox

    steps, _ = sandbox.plan()
    bound = [Path(s[1]) for s in steps if s[0] == "ro-bind"]
    for path in bound:
        inside = path.resolve().is_relative_to(REPO)
        assert not inside or "site-packages" in path.parts, path
        assert path.name not in {"grader", "solutions", "tests", ".git", "exercises"}, path


def test_every_folder_the_plan_makes_ends_read_only_but_tmp(monkeypatch):
    # Covering folders (a base interpreter's site-packages) and the folder under /tmp that
    # holds part of the runtime (a venv in a clone under /tmp) get mount points inside
    # them: they must freeze, or a submission could plant modules there for the next worker.
    from grader.boundary import sandbox

    def writable(steps):
        made = [s[-1] for s in steps if s[0] == "tmpfs"]
        frozen = {s[1] for s in steps if s[0] == "remount-ro"}
        return [m for m in made if m not in frozen]

    steps, _ = sandbox.plan()
    assert writable(steps) == ["/tmp"]
    # the same with the runtime under /tmp and numpy inside a covered site-packages
    fake = [("ro-bind", "/tmp/clone/.venv/lib/numpy", "/tmp/clone/.venv/lib/numpy"),
            ("tmpfs", "65536", "/usr/lib/python3.11/site-packages")]
    monkeypatch.setattr(sandbox, "_runtime_plan", lambda: tuple(fake))
    steps, _ = sandbox.plan()
    assert writable(steps) == ["/tmp"]
    assert ("remount-ro", "/tmp/clone") in steps
    assert steps.index(("tmpfs", str(sandbox.COVER_BYTES), "/tmp/clone")) < steps.index(fake[0])


def test_weak_isolation_is_said_in_words_a_person_notices():
    import io

    from grader.grading.results import ISOLATION_WEAK, CheckReport, TestResult
    from grader.reports import console, render_check

    test = TestResult("chapter2.AND", "t", "passed", 1.0, 1.0, "public", "", 0.1)
    report = CheckReport("chapter2", "x", (test,), 0.5, isolation=(ISOLATION_WEAK, "memory 1024 MB"))
    sink = io.StringIO()
    render_check(report, load_catalog(), console(sink, width=200), "en")
    text = sink.getvalue()
    assert "isolation: weak" in text and "bubblewrap" in text
    sink = io.StringIO()
    render_check(report, load_catalog(), console(sink, width=200), "zh")
    assert "隔离：弱" in sink.getvalue()


def test_collect_refuses_weak_isolation_unless_told(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from grader.boundary import sandbox
    from grader.cli import app

    monkeypatch.setattr(sandbox, "strength", lambda mode: "weak")
    sub = tmp_path / "alice"
    (sub / "exercises" / "chapter2").mkdir(parents=True)
    db = tmp_path / "gb.sqlite"
    refused = CliRunner().invoke(app, ["collect", str(sub), "--db", str(db), "--chapter", "chapter2"])
    assert refused.exit_code == 2
    assert "--allow-weak-isolation" in refused.output
    assert not db.exists()
    allowed = CliRunner().invoke(
        app, ["collect", str(sub), "--db", str(db), "--chapter", "chapter2", "--allow-weak-isolation"]
    )
    assert allowed.exit_code in (0, 1), allowed.output
    assert db.exists()


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_the_worker_reaches_no_socket_of_the_machine(make_target, tmp_path, sandbox):
    # The seccomp filter allows unix sockets (numpy and TensorFlow need socketpair);
    # a listening abstract socket of the machine must still be out of reach.
    import socket
    import uuid

    name = "\0dl-grade-test-" + uuid.uuid4().hex
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(name)
    server.listen(1)
    attack = textwrap.dedent(f"""
        import socket
        def AND(x1, x2):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect({name!r})
            except OSError as exc:
                raise ValueError("REFUSED " + type(exc).__name__)
            raise ValueError("CONNECTED")
    """)
    try:
        target = make_target("chapter2", {"perceptron.py": attack}, base="exercises")
        report = _check(target, sandbox)
    finally:
        server.close()
    message = next(t.message for t in report.tests if t.exercise == "chapter2.AND")
    assert "REFUSED" in message and "CONNECTED" not in message, message


def test_a_plan_the_kernel_refuses_leaves_the_worker_weak_and_says_so(monkeypatch):
    # e.g. a kernel that gives user namespaces but no right to mount in them
    from grader.boundary import sandbox
    from grader.boundary.channel import WorkerClient, WorkerConfig
    from grader.grading.results import ISOLATION_WEAK

    real_plan = sandbox.plan
    monkeypatch.setattr(sandbox, "plan", lambda needs=(): (
        real_plan(needs)[0] + [("ro-bind", "/nonexistent/dl-grade", "/nonexistent/dl-grade")], real_plan(needs)[1]
    ))
    source = b"def AND(x1, x2):\n    return int(x1 and x2)\n"
    client = WorkerClient(WorkerConfig(sources={"perceptron": ("p/perceptron.py", source)}, sandbox="none"))
    try:
        assert client.load("perceptron").AND(1, 1) == 1
        assert client.isolation[0] == ISOLATION_WEAK
    finally:
        client.close()


SYSCALL_ATTACK = textwrap.dedent("""
    import ctypes, os
    def AND(x1, x2):
        libc = ctypes.CDLL(None, use_errno=True)
        results = []
        # process_vm_readv on our own pid (the kernel itself would allow it)
        buf = ctypes.create_string_buffer(8)
        data = ctypes.c_char_p(b"12345678")
        local = (ctypes.c_void_p * 2)(ctypes.cast(buf, ctypes.c_void_p), 8)
        remote = (ctypes.c_void_p * 2)(ctypes.cast(data, ctypes.c_void_p), 8)
        for nr, args in ((310, (os.getpid(), local, 1, remote, 1, 0)),
                         (425, (8, None)),  # io_uring_setup, which would bypass a seccomp filter
                         (250, (0, -3, 0))):  # keyctl: the session key ring's id
            ctypes.set_errno(0)
            n = libc.syscall(nr, *args)
            results.append(f"{nr}:{n}:{ctypes.get_errno()}")
        raise ValueError("CALLS " + " ".join(results) + " END")
""")


@pytest.mark.skipif(__import__("platform").machine() != "x86_64", reason="x86_64 system call numbers")
@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_kernel_interfaces_no_exercise_needs_are_denied(make_target, sandbox):
    # Each call answers EPERM from the seccomp filter: process_vm_readv even on the
    # worker's own memory (before: 8 bytes came back), io_uring (would bypass the
    # filter), the key rings.
    target = make_target("chapter2", {"perceptron.py": SYSCALL_ATTACK}, base="exercises")
    report = _check(target, sandbox)
    message = next(t.message for t in report.tests if t.exercise == "chapter2.AND")
    calls = message.split("CALLS ", 1)[1].split(" END", 1)[0].split()
    assert calls == ["310:-1:1", "425:-1:1", "250:-1:1"], message
