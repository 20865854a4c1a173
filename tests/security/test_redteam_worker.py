"""Red team: attacks from the worker's side, as a clever student would write them.

Each test is a student file (the chapter's solutions with one exercise replaced: a later
definition in the same module wins) graded with ``run_check``, and asserts the *defended*
behaviour: the honest score of a wrong implementation, no hidden value or input in any
text, a clean message, bounded time.
"""

from __future__ import annotations

import re
import textwrap
import time

import pytest

from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check
from tests.conftest import REPO, has_bwrap

CATALOG = load_catalog()
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def grade(make_target, chapter_id: str, module: str, override: str, **kwargs):
    source = (REPO / "solutions" / chapter_id / f"{module}.py").read_text(encoding="utf-8")
    target = make_target(chapter_id, {f"{module}.py": source + "\n\n" + textwrap.dedent(override)})
    return run_check(CATALOG.chapter(chapter_id), target, **kwargs)


def by_name(report) -> dict:
    return {t.name: t for t in report.tests}


def assert_clean(report) -> None:
    for t in report.tests:
        assert not CONTROL.search(t.message), (t.name, t.message)
        assert "Traceback (most recent call last)" not in t.message or "perceptron.py" in t.message
        assert "grader/" not in t.message.replace("grader/suites/", ""), (t.name, t.message)


# -- (a) points not earned ------------------------------------------------------------------

SGD_DROPS_W = """
class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        # only the biases are updated; the weights are deleted from the (synced) dict so
        # a test that walks the student's keys never looks at them
        for key in [k for k in params if not k.startswith("b")]:
            del params[key]
        for key in params:
            params[key] -= self.lr * grads[key]
"""


def test_an_optimizer_that_deletes_the_keys_it_does_not_update_earns_nothing(make_target):
    report = grade(make_target, "chapter6", "optimizers", SGD_DROPS_W)
    sgd = [t for t in report.tests if t.exercise == "chapter6.SGD"]
    assert sgd and all(t.score == 0 for t in sgd), [(t.name, t.status, t.message) for t in sgd]


# -- (c) hidden expected values -------------------------------------------------------------

RELU_PROBE = """
def relu(x):
    # a value the student chose: the message's relative error then solves for the expected one
    out = np.zeros(x.shape)
    out.flat[0] = 1e6
    return out
"""


def test_a_chosen_wrong_value_does_not_solve_a_hidden_message_for_the_expected_value(make_target):
    from grader.suites.chapter3._reference import random_array, relu

    report = grade(make_target, "chapter3", "activations", RELU_PROBE)
    hidden = by_name(report)["test_relu_on_a_batch_returns_floats"]
    assert hidden.visibility == "hidden" and hidden.status == "failed"
    expected = float(relu(random_array(14, (3, 2, 4), near_zero=-0.5)).flat[0])
    assert expected > 0.5  # the element probed has a value worth stealing
    for token in re.findall(r"\d+(?:\.\d+)?e[-+]?\d+", hidden.message):
        rel = float(token)
        for solved in (1e6 / (1 + rel), 1e6 / (1 - rel) if rel != 1 else 0.0):
            assert abs(solved - expected) > 0.01 * expected, (hidden.message, solved, expected)


GRADIENT_PROBE = """
class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        # the student's "gradient" is 1 everywhere: the relative error at an element
        # is |1 - n| / max(1, |n|), which gives the numerical gradient n away
        return np.ones_like(dout)


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return np.ones_like(dout)
"""


def test_a_chosen_gradient_does_not_solve_a_hidden_gradient_check_for_the_expected_one(make_target):
    report = grade(make_target, "chapter5", "layers", GRADIENT_PROBE)
    hidden = [t for t in report.tests if t.visibility == "hidden" and "gradient check failed" in t.message]
    assert hidden, [(t.name, t.message) for t in report.tests if t.visibility == "hidden"]
    for t in hidden:
        # good/wrong thresholds are printed as 1e-07 / 1e-02; nothing else with digits after the call
        text = t.message.split(": gradient check failed", 1)[1]
        numbers = re.findall(r"\d+(?:\.\d+)?e[-+]?\d+", text)
        assert set(numbers) <= {"1e-07", "1e-02", "1e-05"}, t.message


# -- (d) clean text, no traceback, bounded time -----------------------------------------------

ODD_EXCEPTIONS = """
class _Unreadable(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


class _Huge(str):
    def __getitem__(self, key):
        return self  # slicing to the cap gives back all 5 MB


class _HugeMessage(Exception):
    def __str__(self):
        return _Huge("x" * 5_000_000)


_Evil = type("Ev\\x1b[2Jil\\u202e", (Exception,), {})


def AND(x1, x2):
    raise SystemExit("bye\\x1b[31m")


def NAND(x1, x2):
    raise KeyboardInterrupt


def OR(x1, x2):
    raise _Unreadable()


def XOR(x1, x2):
    if x1 or x2:
        raise GeneratorExit
    if isinstance(x1, float):
        raise _HugeMessage()
    raise _Evil("\\x1b]0;title\\x07 \\u202e bidi \\r fake")
"""


def test_exceptions_that_lie_or_raise_give_clean_errors(make_target):
    report = grade(make_target, "chapter2", "perceptron", ODD_EXCEPTIONS)
    assert report.score == 0
    assert all(t.status == "error" for t in report.tests), [(t.name, t.status) for t in report.tests]
    assert_clean(report)
    assert all(len(t.message) < 8000 for t in report.tests)
    assert "could not be read" in by_name(report)["test_or_truth_table"].message


PRINTS = """
import os
import sys


def AND(x1, x2):
    print("\\x1b[2J\\x1b[31mRED\\u202eevil\\x00\\r\\rX" * 10)
    os.write(1, b"\\xff\\xfe raw bytes \\x1b[0m\\n")
    os.write(2, b"\\x1b[31mto stderr\\n")
    return 1 if (x1 and x2) else 0


def NAND(x1, x2):
    for _ in range(50):
        try:
            sys.stdout.write("z" * 1_000_000)
        except OSError:
            pass
    return 0 if (x1 and x2) else 1
"""


def test_printed_control_characters_and_megabytes_stay_clean_and_capped(make_target):

    report = grade(make_target, "chapter2", "perceptron", PRINTS)
    tests = by_name(report)
    assert tests["test_or_truth_table"].score == 1
    assert tests["test_nand_truth_table"].status in ("passed", "resource")  # its own EFBIG, caught
    assert_clean(report)
    for artifact in report.artifacts:
        text = str(artifact.get("text", ""))
        assert not CONTROL.search(text), text[:200]
        assert len(text) <= 4096


CLOSE_FDS = """
import os


def AND(x1, x2):
    os.close(0); os.close(1); os.close(2)
    return 1 if (x1 and x2) else 0


def NAND(x1, x2):
    for fd in range(3, 64):  # the channel's pipes among them
        try:
            os.close(fd)
        except OSError:
            pass
    return 0 if (x1 and x2) else 1
"""


def test_closing_standard_and_channel_fds_costs_only_those_tests(make_target):
    report = grade(make_target, "chapter2", "perceptron", CLOSE_FDS)
    tests = by_name(report)
    assert tests["test_or_truth_table"].score == 1  # a later test gets a fresh worker
    assert tests["test_nand_truth_table"].score == 0
    assert_clean(report)


PIPE_WRITER = """
import os
import struct
import threading
import time

import pytest

import msgpack


def _forge():
    # after the reply: frames claiming a right answer for the next calls, on every fd
    time.sleep(0.02)
    frame = msgpack.packb(["ok", 1, [], {}])
    for _ in range(20):
        for fd in range(3, 32):
            try:
                os.write(fd, struct.pack(">I", len(frame)) + frame)
            except OSError:
                pass
        time.sleep(0.01)


def AND(x1, x2):
    threading.Thread(target=_forge, daemon=True).start()
    return 1 if (x1 and x2) else 0


def NAND(x1, x2):
    time.sleep(0.05)
    return 1  # wrong for (1, 1)
"""


def test_a_thread_that_forges_replies_after_its_call_earns_nothing_more(make_target):
    report = grade(make_target, "chapter2", "perceptron", PIPE_WRITER)
    tests = by_name(report)
    assert tests["test_nand_truth_table"].score == 0
    assert tests["test_nand_accepts_float_inputs"].score == 0
    assert_clean(report)


PROCESS_GAMES = """
import os
import signal


def AND(x1, x2):
    try:
        os.fork()
    except OSError as exc:
        raise RuntimeError(f"fork: {exc.errno}") from None
    return 1 if (x1 and x2) else 0


def NAND(x1, x2):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    signal.signal(signal.SIGXCPU, signal.SIG_IGN)
    while True:
        pass


def OR(x1, x2):
    nested = []
    for _ in range(200):
        nested = [nested]
    return nested
"""


def test_fork_is_denied_and_a_loop_that_ignores_signals_is_stopped_on_time(make_target):
    started = time.monotonic()
    report = grade(make_target, "chapter2", "perceptron", PROCESS_GAMES, test_timeout=1.5)
    assert time.monotonic() - started < 20
    tests = by_name(report)
    assert "fork: 1" in tests["test_and_truth_table"].message
    assert tests["test_nand_truth_table"].status == "timeout"
    assert tests["test_or_truth_table"].status == "error"
    assert report.score == 0
    assert_clean(report)


ODD_ARRAYS = """
def sigmoid(x):
    return np.zeros(x.shape, dtype=[("a", "f8")])


def relu(x):
    return np.zeros(x.shape, dtype=">f8") + np.maximum(0, x)  # big-endian but right


def step_function(x):
    return np.zeros((0, 10**9), dtype=np.int64)


def tanh(x):
    return np.tanh(x).astype(np.complex128)


def identity_function(x):
    return np.datetime64("2020-01-01")


def leaky_relu(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x)[::-1][::-1]  # a non-contiguous view, right values
"""


def test_odd_dtypes_and_shapes_are_judged_not_crashed_on(make_target):
    report = grade(make_target, "chapter3", "activations", ODD_ARRAYS)
    by_ex = report.by_exercise()
    for ex in ("chapter3.sigmoid", "chapter3.step_function", "chapter3.tanh", "chapter3.identity_function"):
        assert all(t.score == 0 for t in by_ex[ex]), [(t.name, t.message) for t in by_ex[ex]]
    assert all(t.score == t.max_score for t in by_ex["chapter3.relu"])
    assert_clean(report)
    assert not getattr(report, "internal", None)



# -- (c) hidden inputs ------------------------------------------------------------------------

STASH_HIDDEN_INPUT = """
_SEEN = []


def sigmoid(x):
    if x.shape == (5, 6):  # the hidden test's batch (public ones are 1-D): keep it
        _SEEN.append(x.ravel().tolist()[:4])
    elif _SEEN:
        print("HIDDEN", _SEEN)  # and print it in a later public test, whose output is shown
    return 1 / (1 + np.exp(-x))
"""


def test_a_hidden_input_kept_by_the_worker_is_never_printed_in_a_later_public_test(make_target):
    from grader.suites.chapter3._reference import random_array

    report = grade(make_target, "chapter3", "activations", STASH_HIDDEN_INPUT)
    hidden_x = random_array(13, (5, 6), near_zero=-0.5, scale=10.0).clip(-30, 30)
    secret = repr(float(hidden_x.flat[0]))
    shown = [str(a.get("text", "")) for a in report.artifacts] + [t.message for t in report.tests]
    assert not [s for s in shown if secret in s or "HIDDEN" in s]
    # every public test ran before the first hidden one
    kinds = [t.visibility for t in report.tests]
    assert kinds == sorted(kinds, key=lambda v: v == "hidden"), kinds


RAISE_HIDDEN_INPUT = """
import types

_Named = type("V_4_7577_5_0462", (ValueError,), {})  # a type name that carries data


def tanh(x):
    raise ValueError("INPUT=" + repr(x.ravel().tolist()))


def _raise(x):
    raise _Named("INPUT=" + repr(x.ravel().tolist()))


def relu(x):
    # a function whose name (in the traceback) is the hidden input, written out
    code = _raise.__code__.replace(co_name="x_" + "_".join(f"{v:.3f}" for v in x.ravel()[:4]).replace(".", "p").replace("-", "m"))
    return types.FunctionType(code, globals())(x)
"""


def test_a_hidden_input_is_not_echoed_by_the_students_own_exception(make_target):
    from grader.suites.chapter3._reference import random_array

    report = grade(make_target, "chapter3", "activations", RAISE_HIDDEN_INPUT)
    tests = by_name(report)
    public, tanh = tests["test_tanh_values"], tests["test_tanh_on_a_batch_over_a_wide_range"]
    relu = tests["test_relu_on_a_batch_returns_floats"]
    assert "INPUT=[" in public.message  # public tests keep the whole message
    assert tanh.status == relu.status == "error"
    assert tanh.message.startswith("tanh(<float64 (3, 5)>) raised ValueError"), tanh.message
    assert 'line ' in tanh.message and "raise ValueError" in tanh.message  # where, from the sources
    first = random_array(14, (3, 2, 4), near_zero=-0.5).ravel()[0]
    for message in (tanh.message, relu.message):
        assert "INPUT=[" not in message and "4_7577" not in message, message
        assert f"{first:.3f}".replace(".", "p") not in message, message


# -- (e) a later student in a batch -------------------------------------------------------------

PLANT_IN_TMP = """
import os


def _plant():
    os.chdir("/tmp")
    with open("/tmp/MARK-top", "w") as f:
        f.write("x")
    os.makedirs("/tmp/keep", exist_ok=True)
    os.chdir("/tmp/keep")
    for _ in range(3000):  # deeper than the fork server's recursive wipe can go
        os.mkdir("d")
        os.chdir("d")
    with open("MARK-deep", "w") as f:
        f.write("x")
    os.chdir("/tmp")
    os.chmod("/tmp/keep", 0)


_plant()
"""

LOOK_IN_TMP = """
import os


RUNTIME = set()  # /tmp/<top> folders that hold the runtime's binds (a venv under /tmp)


def AND(x1, x2):
    seen = []
    for root, dirs, files in os.walk("/tmp"):
        if root == "/tmp":
            dirs[:] = [d for d in dirs if "/tmp/" + d not in RUNTIME]
        seen += files + dirs[:1]
        if len(seen) > 5:
            break
    raise ValueError("SEEN=" + repr(seen[:5]) + "=")
"""


@pytest.mark.skipif(not has_bwrap(), reason="the fork server shares /tmp between children only under bubblewrap")
def test_a_tree_too_deep_to_wipe_is_not_seen_by_the_next_student(make_target):
    from grader.instructor.batch import run_batch

    solution = (REPO / "solutions" / "chapter2" / "perceptron.py").read_text(encoding="utf-8")
    first = make_target("chapter2", {"perceptron.py": solution + PLANT_IN_TMP})
    # a runtime under /tmp (a venv in a clone there, as in CI) is bound into /tmp/<top>,
    # frozen: those holders are the grader's, not something the first student left
    from grader.boundary import sandbox

    frozen = {s[1] for s in sandbox.plan()[0] if s[0] == "remount-ro" and s[1].startswith("/tmp/")}
    look = LOOK_IN_TMP.replace("RUNTIME = set()", f"RUNTIME = {sorted(frozen)!r}")
    second = make_target("chapter2", {"perceptron.py": solution + look})
    reports = run_batch(CATALOG.chapter("chapter2"), [("first", first), ("second", second)], sandbox="bwrap")
    assert reports["first"].score == reports["first"].max_score
    messages = [t.message for t in reports["second"].tests if t.exercise == "chapter2.AND" and t.visibility == "public"]
    assert messages and all("SEEN=[]=" in m for m in messages), messages


ECHO_HIDDEN_INPUT = """
def step_function(x):
    # a wrong value the student chose is echoed ("you returned ..."): make it the hidden input
    out = np.zeros(x.shape)
    out.flat[0] = x.flat[0] + 0.5
    return out


def sigmoid(x):
    # and so is a wrong shape: one dimension per input digit group
    return np.zeros((0, *[int(abs(v) * 1e6) for v in x.ravel()[:3]]))
"""


def test_a_hidden_input_is_not_echoed_through_a_chosen_wrong_value_or_shape(make_target):
    from grader.suites.chapter3._reference import random_array

    report = grade(make_target, "chapter3", "activations", ECHO_HIDDEN_INPUT)
    tests = by_name(report)
    step = tests["test_step_on_a_batch"].message
    sig = tests["test_sigmoid_on_a_batch_over_a_wide_range"].message
    x_step = random_array(12, (4, 5), near_zero=-0.5)
    x_sig = random_array(13, (5, 6), near_zero=-0.5, scale=10.0).clip(-30, 30)
    assert repr(float(x_step.flat[0] + 0.5)) not in step, step
    assert str(int(abs(x_sig.flat[0]) * 1e6)) not in sig, sig


# -- the grader's own functions, called by the student ------------------------------------------

CALLBACK_ABUSE = """
class _Mine:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("numpy must not ask me")


def numerical_gradient(f, x):
    notes = []
    for arg in (_Mine(), "text", [[1, 2], [3]], np.zeros((0, 10**6)), {"a": 1}):
        try:
            notes.append(repr(f(arg))[:20])
        except RuntimeError as exc:
            notes.append(str(exc)[:80])
    try:
        f(x, extra=1)
    except RuntimeError as exc:
        notes.append(str(exc)[:80])
    try:
        f(f)  # the grader's function handed back to it
    except RuntimeError as exc:
        notes.append(str(exc)[:80])
    raise ValueError(" | ".join(notes))


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    for _ in range(20000):  # the grader's function called until the time runs out
        f(init_x)
    return init_x
"""


def test_the_graders_callbacks_called_with_anything_fail_cleanly_and_in_time(make_target):
    started = time.monotonic()
    report = grade(make_target, "chapter4", "gradients", CALLBACK_ABUSE, test_timeout=3)
    assert time.monotonic() - started < 40
    by_ex = report.by_exercise()
    for ex in ("chapter4.numerical_gradient", "chapter4.gradient_descent"):
        assert all(t.score == 0 for t in by_ex[ex]), [(t.name, t.status, t.message) for t in by_ex[ex]]
    public = [t for t in by_ex["chapter4.numerical_gradient"] if t.visibility == "public"]
    assert any("the function passed to your code failed" in t.message for t in public)
    assert_clean(report)
    assert "numpy must not ask me" not in " ".join(t.message for t in report.tests)


OUTPUT_FILE_GAMES = """
import os


def AND(x1, x2):
    print("earlier text", flush=True)
    os.ftruncate(1, 0)  # the shared output file emptied under the grader
    os.lseek(1, 3_000_000, os.SEEK_SET)  # then a hole of 3 MB before the next line
    os.write(1, b"after the hole\\n")
    return 1 if (x1 and x2) else 0
"""


def test_an_output_file_truncated_or_with_holes_is_read_bounded(make_target):
    report = grade(make_target, "chapter2", "perceptron", OUTPUT_FILE_GAMES)
    assert report.score == report.max_score
    for artifact in report.artifacts:
        assert len(str(artifact.get("text", ""))) <= 4096
        assert "\x00" not in str(artifact.get("text", ""))
    assert_clean(report)


CALLBACK_RECURSION = """
import sys

sys.setrecursionlimit(100000)
_F = []


class _Mine:
    def __getitem__(self, key):
        return _F[0](self)  # the grader's f indexes me: I call f on myself again, and so on


def numerical_gradient(f, x):
    _F.append(f)
    return f(_Mine())
"""


def test_a_recursion_through_the_graders_callback_ends_cleanly(make_target):
    started = time.monotonic()
    report = grade(make_target, "chapter4", "gradients", CALLBACK_RECURSION, test_timeout=5)
    assert time.monotonic() - started < 40
    tests = [t for t in report.tests if t.exercise == "chapter4.numerical_gradient"]
    assert tests and all(t.score == 0 and t.status in ("error", "failed") for t in tests)
    assert all(len(t.message) < 8000 for t in report.tests)
    assert_clean(report)


def test_a_syntax_error_naming_a_slow_to_parse_file_does_not_stall_the_grader(make_target):
    """When a module does not load with a SyntaxError, the grader compiles the sources on its
    own side to show the line and caret, starting with the file the error names. Student code
    can raise SyntaxError naming a file Python's parser takes minutes over (an f-string of
    many fields is quadratic): only exercise-sized sources are parsed there."""
    import time

    from grader.grading.catalog import load_catalog
    from grader.grading.runner import run_check

    slow = "x = f'" + "{1}" * 150_000 + "'\n"  # ~450 KB: about 20 s in Python's parser
    perceptron = 'raise SyntaxError("invalid syntax (slow.py, line 1)")\n'
    target = make_target("chapter2", {"perceptron.py": perceptron, "slow.py": slow})
    started = time.monotonic()
    report = run_check(load_catalog().chapter("chapter2"), target, public_only=True)
    assert time.monotonic() - started < 10
    assert report.score == 0 and all(t.status != "passed" for t in report.tests)
