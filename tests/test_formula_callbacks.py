"""Issue 22: a public test's function, written as a ``Formula``, runs in the student's worker.

Chapter 4's gradient tests hand the student's code a function to differentiate or descend;
as a trusted-side callback every call was a round trip (about 900 per check). A formula in a
public suite goes to the worker as text and runs there; a hidden test's never leaves, and both
ways check the argument and word the errors alike."""

from __future__ import annotations

import textwrap
from pathlib import Path

import msgpack
import numpy as np
import pytest

from grader.boundary import codec
from grader.boundary.channel import WorkerClient, WorkerConfig
from grader.boundary.proxy import Callback as RawCallback
from grader.grading import checks
from grader.util.errors import ChannelViolation, StudentCodeError

STUDENT = textwrap.dedent("""
    def descend(f, x, n):
        for _ in range(n):
            x = x - 0.1 * (f(x + 1e-4) - f(x - 1e-4)) / 2e-4
        return x

    def poke(f, value):
        return f(value)
""")


def _client() -> WorkerClient:
    return WorkerClient(WorkerConfig(sources={"m": ("m.py", STUDENT.encode())}, sandbox="none"))


def _counting(client: WorkerClient) -> list[int]:
    calls = [0]
    run = client._run_callback

    def counted(reply, deadline):  # type: ignore[no-untyped-def]
        calls[0] += 1
        return run(reply, deadline)

    client._run_callback = counted  # type: ignore[method-assign]
    return calls


def test_a_portable_formula_runs_in_the_worker_with_the_trusted_sides_numbers() -> None:
    b = np.array([0.5, -1.5])
    f = checks.Formula("float(np.sum(b * np.cos(x)) + np.sum(x) ** 2 / 2)", b=b)
    x = np.array([0.3, -0.7])
    expected = x.copy()
    for _ in range(50):  # the same steps, on this side, with this side's evaluation
        expected = expected - 0.1 * (f(expected + 1e-4) - f(expected - 1e-4)) / 2e-4
    client = _client()
    try:
        calls = _counting(client)
        module = client.load("m")
        got = module.descend(RawCallback(f, like=x, portable=True), x, 50)
        assert calls[0] == 0  # 100 calls of f, none of them a round trip
        assert np.array_equal(got, expected)  # bit for bit
        plain = module.descend(RawCallback(f, like=x), x, 5)  # not portable: each call comes here
        assert calls[0] == 10 and plain.shape == (2,)
    finally:
        client.close()


def test_a_formula_refuses_odd_arguments_in_the_worker_in_the_callbacks_words() -> None:
    f = checks.Formula("float(np.sum(x ** 2))")
    like = np.zeros(3)
    client = _client()
    try:
        module = client.load("m")
        for odd in ([1.0, 2.0, 3.0], np.zeros(4), np.zeros(3, dtype=np.int64)):
            words = []
            for portable in (True, False):
                with pytest.raises(StudentCodeError) as caught:
                    module.poke(RawCallback(f, like=like, portable=portable), odd)
                words.append(str(caught.value))
            assert words[0] == words[1] and "it takes an array of shape (3,) and a float dtype" in words[0], words
        # an error inside the formula is worded as a failed callback too
        broken = checks.Formula("float(x[7])")
        words = []
        for portable in (True, False):
            with pytest.raises(StudentCodeError) as caught:
                module.poke(RawCallback(broken, like=like, portable=portable), np.zeros(3))
            words.append(str(caught.value))
        assert words[0] == words[1] and "IndexError" in words[0], words
    finally:
        client.close()


def test_only_a_public_suites_formula_in_a_public_test_is_portable(tmp_path: Path) -> None:
    public = checks.Formula("float(np.sum(x))")
    assert checks.Callback(public, like=np.zeros(2)).portable
    assert not checks.Callback(lambda x: 0.0, like=np.zeros(2)).portable  # a plain function stays here
    # written in a hidden suite: never portable, wherever it is handed over
    hidden_file = tmp_path / "test_thing_hidden.py"
    hidden_file.write_text("from grader.grading import checks\nF = checks.Formula('float(np.sum(x))')\n"
                           "def hand(fn):\n    return checks.Callback(fn, like=None)\n", encoding="utf-8")
    namespace: dict = {}
    exec(compile(hidden_file.read_text(encoding="utf-8"), str(hidden_file), "exec"), namespace)
    assert not checks.Callback(namespace["F"], like=np.zeros(2)).portable
    # a public formula handed over from a hidden test (a hidden suite's frame on the stack)
    assert not namespace["hand"](public).portable


def test_a_formula_cannot_be_changed_so_a_suite_may_keep_one() -> None:
    b = np.array([1.0, 2.0])
    f = checks.Formula("float(np.sum(b * x))", b=b)
    b[0] = 100.0  # the caller's array is not the formula's
    assert f(np.ones(2)) == 3.0
    with pytest.raises(AttributeError):
        f.expr = "0.0"
    with pytest.raises(TypeError):
        f.names["b"] = np.zeros(2)  # type: ignore[index]
    with pytest.raises(ValueError):
        f.names["b"][0] = 5.0


@pytest.mark.parametrize("code, payload", [
    (codec.EXT_FORMULA, ["float(1)", {}, None]),  # a formula to run on the trusted side
    (codec.EXT_ATTR, [1, "forward"]),  # an attribute for the trusted side to look up
    (codec.EXT_CALLBACK, 1),  # one of the trusted side's own callbacks
])
def test_the_worker_cannot_send_what_only_the_trusted_side_sends(code, payload) -> None:
    client = _client()
    try:
        frame = msgpack.packb(["ok", msgpack.ExtType(code, msgpack.packb(payload))])
        with pytest.raises(ChannelViolation):
            client._decode(frame)
    finally:
        client.close()


def test_no_hidden_suite_writes_a_formula() -> None:
    """Belt and braces for the rule above: the hidden suites keep their functions as code."""
    suites = Path(checks.__file__).resolve().parents[1] / "suites"
    hidden = sorted(suites.glob("*/*_hidden.py"))
    assert hidden
    for path in hidden:
        assert "Formula(" not in path.read_text(encoding="utf-8"), path
