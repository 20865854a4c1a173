"""``grade check`` starts the student's worker before pytest is imported
(grader/grading/early_worker.py) and the session takes it over only if it is the worker it
would have started itself. A check graded that way equals one whose pytest runs in a fresh
process and starts its own worker."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.grading.catalog import load_catalog
from grader.grading.early_worker import EarlyWorker, worker_config
from grader.grading.student_code import read_sources

REPO = Path(__file__).resolve().parent.parent


def _config_for(target: Path, chapter_id: str = "chapter2"):  # type: ignore[no-untyped-def]
    chapter = load_catalog().chapter(chapter_id)
    sources = read_sources(target / chapter_id, f"{target.resolve().name}/{chapter_id}")
    return worker_config(chapter, sources, test_timeout=chapter.test_timeout_s, sandbox="auto")


def test_the_early_worker_outlives_the_thread_that_started_it(monkeypatch):
    # bubblewrap's --die-with-parent ends the sandbox with the thread that started it, once it
    # has armed itself: on a busy machine the start's last steps (the frames sent after the
    # process started) can come after that. A slow start, and a worker taken a while later
    # (a slow collection), must still answer.
    from grader.boundary.channel import WorkerClient

    start = WorkerClient.start

    def slow_start(self):  # type: ignore[no-untyped-def]
        start(self)
        time.sleep(0.5)

    monkeypatch.setattr(WorkerClient, "start", slow_start)
    early = EarlyWorker(load_catalog().chapter("chapter2"), REPO / "solutions", sandbox="auto", test_timeout=None)
    try:
        time.sleep(1.0)
        client = early.take(REPO / "solutions", _config_for(REPO / "solutions"))
        assert client is not None
        try:
            module = client.load("perceptron")
            assert module.AND(1, 1) == 1 and module.AND(0, 1) == 0
        finally:
            client.close()
    finally:
        early.close()


def test_a_worker_started_for_other_sources_is_not_taken(make_target):
    other = make_target("chapter2", {"perceptron.py": "def AND(x1, x2):\n    return 0\n"})
    early = EarlyWorker(load_catalog().chapter("chapter2"), REPO / "solutions", sandbox="auto", test_timeout=None)
    try:
        assert early.take(other, _config_for(other)) is None  # another folder
    finally:
        early.close()
    early = EarlyWorker(load_catalog().chapter("chapter2"), other, sandbox="auto", test_timeout=None)
    try:
        early._started.wait(60)  # its sources are read: the change below comes after the start
        (other / "chapter2" / "perceptron.py").write_text("def AND(x1, x2):\n    return 1\n", encoding="utf-8")
        assert early.take(other, _config_for(other)) is None  # the file changed after the early start
    finally:
        early.close()


VERDICTS = """
import json, sys
from pathlib import Path
from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check
report = run_check(load_catalog().chapter(sys.argv[1]), Path(sys.argv[2]), in_process=sys.argv[3] == "here")
print(json.dumps([[t.name, t.status, t.score, t.message] for t in report.tests]))
"""


@pytest.mark.parametrize(
    ("base", "files"),
    [
        ("exercises", {}),
        ("solutions", {}),
        ("solutions", {"perceptron.py": "import numpy as np\n\ndef AND(x1, x2):\n    return int(x1 and x2)\n\ndef OR(x1, x2)\n"}),
        ("solutions", {"perceptron.py": "def AND(x1, x2):\n    return 1\n\ndef NAND(x1, x2):\n    return 0\n"}),
    ],
)
def test_a_check_with_the_early_worker_equals_one_in_a_fresh_pytest(make_target, base, files):
    target = make_target("chapter2", files, base=base)
    here, fresh = (
        subprocess.run([sys.executable, "-c", VERDICTS, "chapter2", str(target), where],
                       capture_output=True, text=True, cwd=REPO, timeout=300, check=True).stdout
        for where in ("here", "fresh")
    )
    assert here == fresh
    assert '"passed"' in here or '"not_attempted"' in here or '"error"' in here or '"failed"' in here


def test_a_check_leaves_no_worker_folder_cgroup_or_process_behind(tmp_path):
    # The worker is closed in a thread while the report is written; the check's process
    # waits for that before it ends (grader.cli.safety.exit_now).
    from grader.boundary import cgroup

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**__import__("os").environ, "TMPDIR": str(scratch)}
    proc = subprocess.Popen([sys.executable, "-m", "grader", "check", "chapter2", "--solutions", "--json"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert '"score": 10.0' in out
    assert list(scratch.iterdir()) == []  # the worker's folder, the run's folder: gone
    where = cgroup.parent()
    if where is not None:
        assert not list(Path(where[1]).glob(f"grade-worker-{proc.pid}-*"))
    ps = subprocess.run(["ps", "-eo", "ppid="], capture_output=True, text=True).stdout.split()
    assert str(proc.pid) not in ps  # nothing it started outlives it


PRELOADED = "import numpy as np\n\ndef random_loaded():\n    return 'random' in vars(np)\n"


@pytest.mark.parametrize(("chapter_id", "module", "expected"), [("chapter4", "losses.py", True), ("chapter2", "perceptron.py", False)])
def test_the_early_worker_imports_numpy_random_only_for_chapters_whose_suites_seed(make_target, chapter_id, module, expected):
    # chapters 4-6 seed the student's generators: imported while pytest collects, numpy.random
    # is off the first seeded test's path; a chapter that never seeds does not pay for it
    target = make_target(chapter_id, {module: PRELOADED})
    early = EarlyWorker(load_catalog().chapter(chapter_id), target, sandbox="auto", test_timeout=None)
    try:
        client = early.take(target, _config_for(target, chapter_id))
        assert client is not None
        try:
            assert client.load(module.removesuffix(".py")).random_loaded() is expected
        finally:
            client.close()
    finally:
        early.close()


def test_every_numpy_chapter_whose_suites_seed_preloads_numpy_random():
    from grader.grading.runner import suite_files

    for chapter in load_catalog().chapters.values():
        if chapter.needs:  # TensorFlow's chapter imports numpy.random with keras anyway
            continue
        seeds = any(".seed(" in f.read_text(encoding="utf-8") for f in suite_files(chapter) + list(
            f for f in (REPO / "grader" / "suites" / chapter.id).glob("_*.py")))
        assert ("numpy.random" in chapter.preload) == seeds, chapter.id
