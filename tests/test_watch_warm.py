"""grade watch's warm session (grader.grading.warm): a re-check forks one fresh check from a server
that collected the suites once, and one fresh worker from a fork server that imported numpy
once. It must give what a cold check gives, after every edit, and nothing of one check may
reach the next (neither the student's side nor the trusted side)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.grading import runner
from grader.grading import warmcheck as warm
from grader.grading.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not warm.available(load_catalog().chapter("chapter2")), reason="no fork here")


def _seen(report) -> list[tuple[str, str, float, str]]:
    return [(t.name, t.status, t.score, t.message) for t in report.tests]


@pytest.fixture
def exercises(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    return tmp_path / "exercises"


@pytest.fixture
def checker(exercises: Path):
    made: list[warm.WarmChecker] = []

    def start(chapter: str) -> warm.WarmChecker:
        made.append(warm.WarmChecker(load_catalog().chapter(chapter), exercises))
        return made[-1]

    yield start
    for one in made:
        one.close()


@pytest.mark.parametrize("chapter,module,broken", [
    ("chapter2", "perceptron.py", "def AND(x1, x2):\n    return 1 if x1 + x2 > 1 else 0\nboom(\n"),
    ("chapter5", "layers.py", None),  # broken: the solution with a ReLU that lets negatives through as 1
])  # fmt: skip
def test_a_warm_recheck_equals_a_cold_check_after_each_edit(exercises, checker, chapter, module, broken) -> None:
    ch = load_catalog().chapter(chapter)
    solution = (ROOT / "solutions" / chapter / module).read_text(encoding="utf-8")
    if broken is None:
        broken = solution.replace("out[self.mask] = 0", "out[self.mask] = 1", 1)
        assert broken != solution
    warm_checker = checker(chapter)
    target = exercises / chapter / module
    states = {"stub": target.read_text(encoding="utf-8"), "solution": solution, "broken": broken}
    statuses = {}
    for state, text in states.items():
        # solution files of the chapter too, so that only `module` differs between the states
        for other in (ROOT / "solutions" / chapter).glob("*.py"):
            if other.name != module and state != "stub":
                shutil.copy(other, exercises / chapter / other.name)
        target.write_text(text, encoding="utf-8")
        hot = warm_checker.check(exercises)
        cold = runner.run_check(ch, exercises)
        assert _seen(hot) == _seen(cold), state
        assert hot.artifacts == cold.artifacts, state
        assert warm_checker.alive()
        statuses[state] = {t.status for t in hot.tests}
    assert statuses["stub"] == {"not_attempted"} or "not_attempted" in statuses["stub"]
    assert statuses["solution"] == {"passed"}
    assert statuses["broken"] != {"passed"}


LEAKY = '''
import builtins, os, sys

# Whatever a previous check left behind, on the student's side: a file in /tmp, a builtin,
# an entry in sys.modules. A fresh worker per check sees none of them.
SEEN = [os.path.exists("/tmp/left-behind"), hasattr(builtins, "left_behind"), "left_behind_mod" in sys.modules]
with open("/tmp/left-behind", "w") as f:
    f.write("x")
builtins.left_behind = True
sys.modules["left_behind_mod"] = sys


def AND(x1, x2):
    if any(SEEN):
        return 1 - (1 if x1 + x2 > 1 else 0)
    return 1 if x1 + x2 > 1 else 0
'''


def test_state_set_by_student_code_in_one_check_is_gone_in_the_next(exercises, checker) -> None:
    (exercises / "chapter2" / "perceptron.py").write_text(LEAKY, encoding="utf-8")
    warm_checker = checker("chapter2")
    for _ in range(3):
        report = warm_checker.check(exercises)
        and_tests = [t for t in report.tests if t.exercise == "chapter2.AND"]
        assert and_tests and all(t.status == "passed" for t in and_tests), [t.message for t in and_tests]


def test_a_cancelled_check_leaves_the_next_one_whole(exercises, checker) -> None:
    """A save during a check stops it (the worker fork server is then replaced); the next
    check is complete and equals a cold one."""
    from grader.grading.runner import CheckCancelled

    module = exercises / "chapter2" / "perceptron.py"
    solution = (ROOT / "solutions" / "chapter2" / "perceptron.py").read_text(encoding="utf-8")
    module.write_text(solution.replace("    s1 = NAND(x1, x2)", "    while True:\n        pass\n    s1 = NAND(x1, x2)"),
                      encoding="utf-8")
    warm_checker = checker("chapter2")
    import time

    asked = time.monotonic()
    with pytest.raises(CheckCancelled):
        warm_checker.check(exercises, stop=lambda: time.monotonic() - asked > 2.0)
    assert time.monotonic() - asked < 8  # not after XOR's limit
    module.write_text(solution, encoding="utf-8")
    hot = warm_checker.check(exercises)
    assert {t.status for t in hot.tests} == {"passed"}
    assert _seen(hot) == _seen(runner.run_check(load_catalog().chapter("chapter2"), exercises))


def test_the_watch_uses_the_warm_session_and_closes_it(exercises) -> None:
    """WatchSession checks through a warm server (its report says its worker was forked) and
    closing the session ends the server."""
    import io

    from grader.cli.watch import WatchSession
    from grader.reports import console

    catalog = load_catalog()
    session = WatchSession(catalog, catalog.chapter("chapter2"), exercises, console(io.StringIO()), "en", "auto", "")
    try:
        assert session.run("first")
        assert session.warm is not None and session.warm.alive()
        assert any("fork server" in line for line in session.report.isolation)
        server = session.warm.proc
    finally:
        session.close()
    assert server.poll() is not None


def _maps(pid: int) -> str:
    with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as f:
        return f.read()


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
def test_what_a_check_imported_is_imported_once_in_the_server(exercises, checker) -> None:
    """A re-check's child loses its own imports when it ends: the suites' lazy ``numpy.random``
    (chapter 6's inputs) would be imported again by every re-check. The server imports what a
    check imported, after that check, and the next check gives the same results."""
    shutil.copytree(ROOT / "solutions" / "chapter6", exercises / "chapter6", dirs_exist_ok=True)
    one = checker("chapter6")
    first = one.check(exercises)
    pid = one.proc.pid
    import time

    end = time.monotonic() + 10  # the server imports after it has answered: wait for it
    while ("numpy/random" not in _maps(pid) or (Path(one.tmp) / "imports.json").exists()) and time.monotonic() < end:
        time.sleep(0.05)
    assert "numpy/random" in _maps(pid)  # loaded by the server once the first check has ended
    assert not (Path(one.tmp) / "imports.json").exists()  # read and removed
    second = one.check(exercises)
    assert _seen(second) == _seen(first) and all(t.status == "passed" for t in second.tests)


def test_the_server_imports_only_the_graders_numpys_and_the_standard_librarys(tmp_path, monkeypatch) -> None:
    import json
    import sys

    from grader.grading import warm as server

    listing = tmp_path / "imports.json"
    listing.write_text(json.dumps(["wave", "grader.util.textclean", "not_ours_at_all", 7, "numpy.polynomial"]))
    for name in ("wave", "numpy.polynomial"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    imported = []
    monkeypatch.setattr("importlib.import_module", lambda name: imported.append(name))
    server._hoist(str(listing))
    assert [n for n in imported if n != "grader.util.textclean"] == ["wave", "numpy.polynomial"]  # parents first
    assert "not_ours_at_all" not in imported
    assert not listing.exists()
    server._hoist(str(listing))  # gone, or garbage: nothing happens
    listing.write_text("{not json")
    server._hoist(str(listing))
