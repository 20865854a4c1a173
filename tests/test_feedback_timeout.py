"""Issue 21, item 2: a timeout points at the line that was running, a function that ran out
of time is not run again by later tests of the same submission, and the message names the
limit that really stopped it (a test's, one call's, or the whole check's)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import write_batch_targets

ROOT = Path(__file__).resolve().parent.parent

LOOPING = '''\
import numpy as np


def _perceptron(x1, x2, w, b):
    tmp = np.sum(np.array([x1, x2]) * w) + b
    return 1 if tmp > 0 else 0


def AND(x1, x2):
    while True:
        x1 = x1 + 0


def NAND(x1, x2):
    n = 0
    while n >= 0:
        n += 1


def OR(x1, x2):
    return _perceptron(x1, x2, np.array([0.5, 0.5]), -0.2)


def XOR(x1, x2):
    return AND(NAND(x1, x2), OR(x1, x2))
'''

RUN = """
import json, sys, time
from pathlib import Path
from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check
started = time.monotonic()
report = run_check(load_catalog().chapter("chapter2"), Path(sys.argv[1]), test_timeout=float(sys.argv[2]), in_process=True)
print(json.dumps({"elapsed": time.monotonic() - started,
                  "tests": {t.name: [t.status, t.message, t.visibility] for t in report.tests}}))
"""


def _check(target: Path, limit: float, lang: str = "en") -> dict:
    """``grade check``'s way of running (one process, pytest in it), with a short test limit."""
    env = {"PATH": "/usr/bin:/bin", "GRADE_LANG": lang, "HOME": str(target)}
    out = subprocess.run([sys.executable, "-c", RUN, str(target), str(limit)], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _target(tmp_path: Path, source: str) -> Path:
    folder = tmp_path / "exercises" / "chapter2"
    folder.mkdir(parents=True)
    (folder / "perceptron.py").write_text(source, encoding="utf-8")
    return folder.parent


def test_two_looping_functions_cost_one_limit_each_and_each_message_names_its_line(tmp_path: Path) -> None:
    limit = 2.0
    result = _check(_target(tmp_path, LOOPING), limit)
    tests = result["tests"]
    # Before: every test of AND, NAND and XOR ran into the limit (6 tests, 12 s and more).
    assert result["elapsed"] <= 2 * limit + 2.0, result["elapsed"]
    status, message, _ = tests["test_and_truth_table"]
    assert status == "timeout"
    assert "the limit is 2 s per test" in message
    # the loop's two lines (where it was depends on the moment it was stopped), with its code
    assert re.search(r"still running `AND`, line 1[01] of perceptron.py:\n"
                     r'  File "exercises/chapter2/perceptron.py", line 1[01], in AND\n    (while True:|x1 = x1 \+ 0)$', message)
    status, message = tests["test_nand_truth_table"][:2]
    assert status == "timeout" and re.search(r"`NAND`, line 1[67] of perceptron.py:\n.*\n    (while n >= 0:|n \+= 1)$", message)
    # XOR calls NAND: it says so at once instead of looping again, as do the hidden tests
    assert tests["test_xor_truth_table"][:2] == ["timeout", "Not run: `NAND` did not finish in the test above."]
    assert tests["test_and_accepts_float_inputs"][1] == "Not run: `AND` did not finish in the test above."
    assert tests["test_nand_accepts_float_inputs"][1] == "Not run: `NAND` did not finish in the test above."
    assert tests["test_or_truth_table"][0] == tests["test_or_accepts_float_inputs"][0] == "passed"


HIDDEN_LOOP = '''\
import sys


def AND(x1, x2):
    return int(x1 > 0.5 and x2 > 0.5)


def NAND(x1, x2):
    return 1 - AND(x1, x2)


def OR(x1, x2):
    return int(x1 > 0.5 or x2 > 0.5)


def XOR(x1, x2):
    if isinstance(x1, float):  # only the hidden test's inputs
        frame, fd = sys._getframe(), None
        while frame is not None and fd is None:
            fd = frame.f_globals.get("STACK_FD")
            frame = frame.f_back
        forged = (f'Thread 0x1 (most recent call first):\\n'
                  f'  File "exercises/chapter2/perceptron.py", line 3 in leak_{int(x1)}_{int(x2)}\\n'
                  f'  File "exercises/chapter2/perceptron.py", line 9{int(x1)} in XOR\\n'
                  f'  File "<grader-worker>", line 1 in serve\\n').encode()
        import os
        while True:
            os.write(fd, forged)
    return AND(NAND(x1, x2), OR(x1, x2))
'''


def test_a_hidden_test_shows_only_frames_the_sources_vouch_for_in_chinese(tmp_path: Path) -> None:
    """The student's code can write anything into the pipe its stack goes to (it finds the
    descriptor among the worker's globals): a frame naming an undefined function or a line
    past the end of the file (values written out) is not shown."""
    result = _check(_target(tmp_path, HIDDEN_LOOP), 1.5, lang="zh")
    status, message, visibility = result["tests"]["test_xor_accepts_float_inputs"]
    assert (status, visibility) == ("timeout", "hidden")
    assert "leak_" not in message and "line 9" not in message and "第 9" not in message
    assert message == "你的代码没有在时限内结束（每个测试限时 1.5 秒；可能陷入了死循环，或在等待输入）。"
    assert result["tests"]["test_xor_truth_table"][0] == "passed"


SUITE = """
import pytest
from grader.grading.checks import expect_value

@pytest.mark.exercise("chapter2.AND")
@pytest.mark.timeout_s(90)
def test_and(student):
    expect_value(student.load("perceptron").AND(1, 1), 1, "AND(1, 1)", "output")

@pytest.mark.exercise("chapter2.OR")
@pytest.mark.timeout_s(90)
def test_or(student):
    expect_value(student.load("perceptron").OR(1, 1), 1, "OR(1, 1)", "output")
"""

LOOP_BOTH = "def AND(x1, x2):\n    while True:\n        pass\n\ndef OR(x1, x2):\n    while True:\n        pass\n"
GOOD = "def AND(x1, x2):\n    return int(x1 and x2)\n\ndef OR(x1, x2):\n    return int(x1 or x2)\n"


def _batch(pytester, students: dict[str, str], *options: str) -> dict:
    write_batch_targets(pytester.path, students)
    pytester.makepyfile(test_suite=SUITE)
    results = pytester.path / "results.json"
    pytester.runpytest_subprocess(
        "-p", "grader.grading.plugin", "-p", "no:cacheprovider", "--grader-targets=targets.json",
        "--grader-chapter=chapter2", f"--grader-results={results}", "--grader-sandbox=auto", *options,
    )
    data = json.loads(results.read_text())["targets"]
    return {k: {t["name"]: (t["status"], t["message"]) for t in v["tests"]} for k, v in data.items()}


@pytest.fixture
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.mark.usefixtures("_fast_subprocess")
def test_the_message_names_the_limit_that_cut_and_each_target_starts_afresh(pytester) -> None:
    """A test may run 90 s, but one call only the chapter's test limit (chapter 8: 45 s), and the
    whole check has its own budget: each message names the one that stopped the code. In a
    batch, a function that looped in one submission runs normally in the next."""
    started = time.monotonic()
    by = _batch(pytester, {"loops": LOOP_BOTH, "good": GOOD, "loops_too": LOOP_BOTH}, "--grader-test-timeout=1")
    status, message = by["loops"]["test_and"]
    assert status == "timeout" and "the limit is 1 s for one call to your code" in message, message
    assert re.search(r"`AND`, line [23] of perceptron.py", message)
    # (any line of the loop: its ``while`` or its body, as where AND looped is lines 2-3)
    assert re.search(r"`OR`, line [567] of perceptron.py", by["loops"]["test_or"][1])
    assert by["good"] == {"test_and": ("passed", ""), "test_or": ("passed", "")}
    assert re.search(r"`AND`, line [23]", by["loops_too"]["test_and"][1])  # run, not "not run"
    assert time.monotonic() - started < 30


@pytest.mark.usefixtures("_fast_subprocess")
def test_a_timeout_when_the_checks_budget_runs_out_names_the_budget(pytester) -> None:
    by = _batch(pytester, {"loops": LOOP_BOTH}, "--grader-check-timeout=1")
    status, message = by["loops"]["test_and"]
    assert status == "timeout" and "the whole check of chapter2 has 1 s, and they ran out during this test" in message
    assert "per test" not in message and re.search(r"`AND`, line [23] of perceptron.py", message)


def test_a_module_whose_own_code_loops_is_loaded_once(tmp_path: Path) -> None:
    source = "import time\n\nwhile True:\n    time.sleep(0.01)\n\n\ndef AND(x1, x2):\n    return 0\n"
    result = _check(_target(tmp_path, source), 1.5)
    tests = result["tests"]
    status, message, _ = tests["test_and_truth_table"]
    assert status == "timeout" and re.search(r"`<module>`, line [34] of perceptron.py", message), message
    others = [v for k, v in tests.items() if k != "test_and_truth_table"]
    assert others and all(v[:2] == ["timeout", "Not run: `perceptron.py` did not finish in the test above."] for v in others)
    assert result["elapsed"] <= 1.5 + 2.0, result["elapsed"]


SLOW_THEN_STUCK = '''\
import faulthandler
import signal
import time


def slow():
    started = time.monotonic()
    while time.monotonic() - started < 3.8:  # past its stack alarm (at 3.6 s), within its 4 s limit
        pass
    return 1


def stuck():
    faulthandler.cancel_dump_traceback_later()  # no stack of its own this time
    signal.setitimer(signal.ITIMER_REAL, 0)
    while True:
        pass
'''


def test_a_stack_written_for_a_call_that_then_finished_is_not_the_next_timeouts() -> None:
    """The worker writes its stack shortly before a call's deadline; when the call still ends
    in time, that stack is stale, and the next call that runs out of time names its own line
    or none, here where the student's code cancelled its alarm: the channel drains stale stacks
    before a request, skipping that only while no alarm can have gone off."""
    from grader.boundary.channel import WorkerClient, WorkerConfig
    from grader.util.errors import WorkerTimeout

    client = WorkerClient(WorkerConfig(sources={"m": ("m.py", SLOW_THEN_STUCK.encode())}, sandbox="none",
                                       call_timeout=4.0))
    try:
        module = client.load("m")
        assert module.slow() == 1
        with pytest.raises(WorkerTimeout) as caught:
            module.stuck()
        assert all(frame[2] != "slow" for frame in caught.value.frames), caught.value.frames
    finally:
        client.close()


THREADS = """\
import os
import time


def tasks():
    try:
        return len(os.listdir('/proc/self/task'))
    except OSError:  # a chroot jail has no /proc
        return None


def stuck():
    while True:
        time.sleep(0.01)
"""


def test_the_stack_alarm_starts_no_thread_and_still_names_the_line() -> None:
    """Issue 22: each test's stack alarm is a one-shot timer whose signal faulthandler answers,
    not a watchdog thread started (and the last one joined) per test, ~50 µs of CPU each. The
    worker keeps one thread while a timed call runs, and a call that runs out of time still
    names its line, also when it waits in a system call."""
    import time

    from grader.boundary.channel import WorkerClient, WorkerConfig
    from grader.util.errors import WorkerTimeout

    client = WorkerClient(WorkerConfig(sources={"m": ("m.py", THREADS.encode())}, sandbox="none", call_timeout=2.0))
    try:
        module = client.load("m")
        client.deadline = time.monotonic() + 30
        assert module.tasks() in (1, None)  # None: no /proc to count threads in (a jail)
        client.deadline = None
        with pytest.raises(WorkerTimeout) as caught:
            module.stuck()
        assert ("m.py", 14, "stuck") in [tuple(f) for f in caught.value.frames], caught.value.frames
    finally:
        client.close()
