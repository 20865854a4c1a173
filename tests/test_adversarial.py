"""Submissions that try to get credit they did not earn.

Each attack is a chapter-2 ``perceptron.py``. Honest gates in the same file keep their
points; everything the attack did not really implement scores 0, with a clear message,
and the grader itself never crashes."""

from __future__ import annotations

import textwrap

import pytest

from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check
from tests.conftest import REPO, has_bwrap

CHAPTER = load_catalog().chapter("chapter2")
HONEST_OR = "\ndef OR(x1, x2):\n    return 1 if (x1 or x2) else 0\n"


def grade(make_target, source: str, sandbox: str = "auto", test_timeout: float | None = None):
    target = make_target("chapter2", {"perceptron.py": textwrap.dedent(source)}, base="exercises")
    report = run_check(CHAPTER, target, sandbox=sandbox, test_timeout=test_timeout)
    by_ex = {ex: tests for ex, tests in report.by_exercise().items()}
    return report, by_ex


def points(by_ex, exercise: str) -> float:
    return sum(t.score for t in by_ex[exercise])


def statuses(by_ex, exercise: str) -> set[str]:
    return {t.status for t in by_ex[exercise]}


SANDBOXES = ["none"] + (["bwrap"] if has_bwrap() else [])


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_sys_exit_at_import(make_target, sandbox):
    report, by_ex = grade(make_target, "import sys\nsys.exit(0)\n" + HONEST_OR, sandbox)
    assert report.score == 0
    assert all(t.status == "error" for t in report.tests)
    assert "sys.exit" in report.tests[0].message


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_os_exit_at_import(make_target, sandbox):
    report, _ = grade(make_target, "import os\nos._exit(0)\n", sandbox)
    assert report.score == 0
    assert all(t.status == "error" for t in report.tests)
    assert "ended the process" in report.tests[0].message


def test_monkeypatching_numpy_and_builtins_only_changes_the_worker(make_target):
    source = textwrap.dedent("""
    import builtins, numpy
    builtins.abs = lambda *a, **k: 0
    numpy.array_equal = lambda *a, **k: True
    numpy.allclose = lambda *a, **k: True
    def AND(x1, x2):
        return 0
    """) + HONEST_OR
    report, by_ex = grade(make_target, source)
    assert points(by_ex, "chapter2.AND") == 0
    assert statuses(by_ex, "chapter2.AND") == {"failed"}
    assert points(by_ex, "chapter2.OR") == 2  # the honest gate keeps its points


def test_sabotaging_the_worker_itself_earns_nothing(make_target):
    # Breaking isinstance breaks the worker's own encoder: every answer is lost, nothing forged.
    source = "import builtins\nbuiltins.isinstance = lambda *a: True\n" + HONEST_OR.replace("OR", "AND")
    report, _ = grade(make_target, source)
    assert report.score == 0
    assert {t.status for t in report.tests} <= {"error", "failed"}


def test_object_with_lying_eq(make_target):
    source = textwrap.dedent("""
    class Liar:
        def __eq__(self, other):
            return True
        def __int__(self):
            return 1
        __hash__ = object.__hash__
    def AND(x1, x2):
        return Liar()
    """)
    report, by_ex = grade(make_target, source)
    assert points(by_ex, "chapter2.AND") == 0
    assert "returned a Liar" in by_ex["chapter2.AND"][0].message


def test_int_subclass_with_lying_eq_is_reduced_to_its_value(make_target):
    source = textwrap.dedent("""
    class Always(int):
        def __eq__(self, other):
            return True
        __hash__ = int.__hash__
    def AND(x1, x2):
        return Always(0)
    """)
    report, by_ex = grade(make_target, source)
    assert points(by_ex, "chapter2.AND") == 0
    assert "AND(1, 1) returned 0" in by_ex["chapter2.AND"][0].message


def test_ndarray_subclass_and_array_protocol(make_target):
    source = textwrap.dedent("""
    import numpy as np
    class Eq(np.ndarray):
        def __eq__(self, other):
            return True
    class ArrayLike:
        def __array__(self, dtype=None, copy=None):
            return np.array(1)
    def AND(x1, x2):
        return np.array(1).view(Eq)
    def OR(x1, x2):
        return ArrayLike()
    """)
    report, by_ex = grade(make_target, source)
    assert points(by_ex, "chapter2.AND") == 0 and points(by_ex, "chapter2.OR") == 0
    assert "returned a ndarray" in by_ex["chapter2.AND"][0].message
    assert "returned a ArrayLike" in by_ex["chapter2.OR"][0].message


def test_pickle_payload_is_never_unpickled(make_target, tmp_path):
    marker = tmp_path / "pwned"
    source = textwrap.dedent(f"""
    import pickle, os
    class Evil:
        def __reduce__(self):
            return (os.system, ("touch {marker}",))
    def AND(x1, x2):
        return pickle.dumps(Evil())
    """)
    report, by_ex = grade(make_target, source)
    assert points(by_ex, "chapter2.AND") == 0
    assert "returned a bytes" in by_ex["chapter2.AND"][0].message
    assert not marker.exists()


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_reading_the_suites_finds_nothing(make_target, sandbox):
    # The gate is right only if it managed to read a hidden suite or a solution.
    source = textwrap.dedent(f"""
    import os
    def _peek():
        texts = []
        for folder in [{str(REPO / "grader" / "suites" / "chapter2")!r}, {str(REPO / "solutions" / "chapter2")!r}]:
            if os.path.isdir(folder):
                texts += [open(os.path.join(folder, f)).read() for f in os.listdir(folder)]
        if not texts:
            raise FileNotFoundError("no suites visible")
        return texts
    def AND(x1, x2):
        _peek()
        return 1 if (x1 and x2) else 0
    def OR(x1, x2):
        import grader  # the grader package must not be importable either
        return 1
    """)
    report, by_ex = grade(make_target, source, sandbox)
    assert points(by_ex, "chapter2.AND") == 0
    assert "no suites visible" in by_ex["chapter2.AND"][0].message
    assert "ModuleNotFoundError" in by_ex["chapter2.OR"][0].message


def test_infinite_loop_times_out_and_others_keep_points(make_target):
    source = "def AND(x1, x2):\n    while True:\n        pass\n" + HONEST_OR
    report, by_ex = grade(make_target, source, test_timeout=1.5)
    assert statuses(by_ex, "chapter2.AND") == {"timeout"}
    assert points(by_ex, "chapter2.AND") == 0
    assert points(by_ex, "chapter2.OR") == 2
    assert "did not finish in time" in by_ex["chapter2.AND"][0].message


def test_sleeping_forever_times_out(make_target):
    source = "import time\ndef AND(x1, x2):\n    time.sleep(3600)\n" + HONEST_OR
    report, by_ex = grade(make_target, source, test_timeout=1.0)
    assert statuses(by_ex, "chapter2.AND") == {"timeout"}
    assert points(by_ex, "chapter2.OR") == 2


def test_memory_bomb_hits_the_cap(make_target):
    source = "def AND(x1, x2):\n    blocks = []\n    while True:\n        blocks.append(bytearray(200 * 2**20))\n" + HONEST_OR
    report, by_ex = grade(make_target, source)
    assert statuses(by_ex, "chapter2.AND") == {"resource"}
    assert "memory" in by_ex["chapter2.AND"][0].message
    assert points(by_ex, "chapter2.OR") == 2


def test_fork_bomb_cannot_fork(make_target):
    source = textwrap.dedent("""
    import os, subprocess
    def AND(x1, x2):
        while True:
            os.fork()
    def NAND(x1, x2):
        subprocess.run(["sh", "-c", "echo hi"])
        return 1
    """) + HONEST_OR
    report, by_ex = grade(make_target, source)
    assert points(by_ex, "chapter2.AND") == 0 and points(by_ex, "chapter2.NAND") == 0
    assert "Operation not permitted" in by_ex["chapter2.AND"][0].message
    assert points(by_ex, "chapter2.OR") == 2


def test_printing_100_mb_is_capped(make_target):
    source = "import sys\ndef AND(x1, x2):\n    sys.stdout.write('x' * (100 * 2**20))\n    sys.stdout.flush()\n    return 1 if (x1 and x2) else 0\n" + HONEST_OR
    report, by_ex = grade(make_target, source)
    assert statuses(by_ex, "chapter2.AND") == {"resource"}
    assert "printed more output" in by_ex["chapter2.AND"][0].message
    assert "at most 4 MB" in by_ex["chapter2.AND"][0].message  # the limit it ran into, by its size
    assert points(by_ex, "chapter2.OR") == 2


def test_garbage_on_the_channel_is_refused(make_target):
    source = textwrap.dedent("""
    import os, struct
    def AND(x1, x2):
        # write a frame of garbage straight onto every pipe the worker holds
        for fd in range(3, 20):
            try:
                os.write(fd, struct.pack('>I', 5) + b'\\xc1\\xc1\\xc1\\xc1\\xc1')
            except OSError:
                pass
        return 1
    """) + HONEST_OR
    report, by_ex = grade(make_target, source)
    assert points(by_ex, "chapter2.AND") == 0
    assert statuses(by_ex, "chapter2.AND") <= {"error", "failed"}
    assert points(by_ex, "chapter2.OR") == 2


def test_killing_the_grader_is_not_permitted(make_target):
    source = textwrap.dedent("""
    import os, signal
    def AND(x1, x2):
        os.kill(os.getppid(), signal.SIGKILL)
        return 1
    """) + HONEST_OR
    report, by_ex = grade(make_target, source)
    assert points(by_ex, "chapter2.AND") == 0
    assert points(by_ex, "chapter2.OR") == 2


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_writing_files_outside_is_not_possible(make_target, sandbox, tmp_path):
    target_file = tmp_path / "planted.txt"
    source = textwrap.dedent(f"""
    def AND(x1, x2):
        open({str(target_file)!r}, "w").write("scores: 100")
        return 1 if (x1 and x2) else 0
    """)
    report, by_ex = grade(make_target, source, sandbox)
    assert not target_file.exists()
    assert points(by_ex, "chapter2.AND") == 0
