"""The channel from the worker: no byte sequence crashes, stalls or bloats the trusted side.

Attacks come two ways: frames handed straight to the trusted side's frame reader and
decoder (unit level, and fuzzed with Hypothesis), and student code that finds the
worker's pipes and writes its own frames, stops reading, or closes them and lingers.
"""

from __future__ import annotations

import os
import textwrap
import time
import tracemalloc

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.boundary import codec
from grader.boundary.channel import WorkerClient, WorkerConfig
from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check
from grader.util.errors import ChannelViolation, WorkerCrashed, WorkerFault, WorkerTimeout

CHAPTER = load_catalog().chapter("chapter2")
HONEST_OR = "\ndef OR(x1, x2):\n    return 1 if (x1 or x2) else 0\n"


def _nested_tuples(depth: int) -> bytes:
    message = msgpack.packb(None)
    for _ in range(depth):
        message = msgpack.packb(msgpack.ExtType(codec.EXT_TUPLE, b"\x91" + message))
    return message


def _client(**config) -> WorkerClient:
    return WorkerClient(WorkerConfig(sources=config.pop("sources", {}), **config))


def _tuples_of_lists(depth: int) -> bytes:
    """A tuple holding a list holding a tuple ... ``depth`` levels: small, and each tuple is an
    extension unpacked inside the one around it."""
    message = msgpack.packb(None)
    for level in range(depth):
        message = b"\x91" + message if level % 2 else msgpack.packb(msgpack.ExtType(codec.EXT_TUPLE, message))
    return message


HOSTILE = {
    "tuples nested 300 deep": _nested_tuples(300),
    "tuples nested 20000 deep": _nested_tuples(20_000),
    "tuples and lists nested 3000 deep": _tuples_of_lists(3000),
    "lists nested 50000 deep": b"\x91" * 50_000 + b"\xc0",
    "lists nested 300 deep": b"\x91" * 300 + b"\xc0",
    "maps nested 300 deep": b"\x81\xc0" * 300 + b"\xc0",
    "a million values in 1 MB": b"\xdd" + (1_000_000).to_bytes(4, "big") + b"\xc0" * 1_000_000,
    "a million empty dicts": b"\xdd" + (1_000_000).to_bytes(4, "big") + b"\x80" * 1_000_000,
    "an array header claiming 4 billion values": b"\xdd\xff\xff\xff\xff\xc0",
    "a string longer than the frame": b"\xdb\x7f\xff\xff\xff" + b"a" * 10,
    "an extension longer than the frame": b"\xc9\x00\x10\x00\x00\x04",
    "an unused type byte": b"\xc1",
    "trailing bytes": b"\xc0\xc0",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_replies_are_refused_cheaply(name):
    client = _client()
    try:
        started = time.monotonic()
        with pytest.raises(ChannelViolation):
            client._decode(HOSTILE[name])
        assert time.monotonic() - started < 2.0
        tracemalloc.start()  # (slows Python down: the time is measured above, without it)
        try:
            with pytest.raises(ChannelViolation):
                client._decode(HOSTILE[name])
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        client.close()
    assert peak < 32 * 1024 * 1024, f"decoding took {peak / 1e6:.0f} MB"


def test_legitimate_replies_still_decode():
    client = _client()
    try:
        arrays = {"W1": np.ones((100, 50)), "b1": np.zeros(50), "history": [0.5] * 1000}
        reply = ["ok", arrays, (1, (2, (3, [4.0]))), None]
        back = client._decode(client._codec.pack(reply))
        np.testing.assert_array_equal(back[1]["W1"], arrays["W1"])
        assert back[2] == (1, (2, (3, [4.0])))
    finally:
        client.close()


def _feed(stream: bytes) -> list[bytes] | str:
    """Frames read from a pipe carrying ``stream``; the fault's status if refused."""
    client = _client()
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        os.write(w, stream[:60_000])
    except BlockingIOError:
        pass
    os.close(w)
    client._rfd = r
    frames: list[bytes] = []
    try:
        while True:
            frames.append(client._read_frame(time.monotonic() + 2, during="running"))
    except WorkerFault as fault:
        return fault.status if not frames else frames
    finally:
        client.close()


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz_random_bytes_never_crash_the_decoder(data):
    client = _client()
    try:
        client._decode(data)
    except ChannelViolation:
        pass
    finally:
        client.close()


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | st.text(max_size=8),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=3), c, max_size=3) | st.tuples(c, c),
        max_leaves=30,
    ),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
)
def test_fuzz_mutated_messages_are_values_or_refusals(value, flips):
    client = _client()
    data = bytearray(client._codec.pack(["ok", value]))
    for pos, byte in flips:
        if data:
            data[pos % len(data)] = byte
    try:
        client._decode(bytes(data))
    except ChannelViolation:
        pass
    finally:
        client.close()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000))
def test_fuzz_the_frame_reader_ends_every_stream(stream):
    started = time.monotonic()
    result = _feed(stream)
    assert time.monotonic() - started < 5
    assert isinstance(result, list) or result in {"error", "timeout", "resource"}


def test_a_frame_header_beyond_the_limit_is_refused_before_reading():
    result = _feed((codec.MAX_FRAME + 1).to_bytes(4, "big") + b"x" * 100)
    assert result == "error"


# --- from student code --------------------------------------------------------------------

FIND_PIPES = textwrap.dedent("""
    import fcntl, os, stat, struct, time

    def _pipes():
        found = {}
        for fd in range(3, 1024):
            try:
                if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                    continue
                mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
            except OSError:
                continue
            found.setdefault("r" if mode == os.O_RDONLY else "w", fd)
        return found  # the channel's pipes (made first; the stack pipe comes after)

    def _send_raw(payload):
        fd = _pipes()["w"]
        os.write(fd, struct.pack(">I", len(payload)) + payload)
""")


@pytest.mark.parametrize(
    "payload",
    [
        repr(HOSTILE["tuples nested 300 deep"]),
        repr(HOSTILE["maps nested 300 deep"]),
        "b'\\xdd' + (1_000_000).to_bytes(4, 'big') + b'\\x80' * 1_000_000",  # a million empty dicts
    ],
    ids=["nested tuples", "nested maps", "a million dicts"],
)
def test_student_writing_a_hostile_frame_gets_an_error_and_the_grader_goes_on(make_target, payload):
    source = FIND_PIPES + f"\ndef AND(x1, x2):\n    _send_raw({payload})\n    time.sleep(30)\n" + HONEST_OR
    target = make_target("chapter2", {"perceptron.py": source}, base="exercises")
    started = time.monotonic()
    report = run_check(CHAPTER, target, sandbox="none", test_timeout=5)
    assert time.monotonic() - started < 60
    by_ex = report.by_exercise()
    assert all(t.score == 0 and t.status == "error" for t in by_ex["chapter2.AND"])
    assert "does not accept" in by_ex["chapter2.AND"][0].message
    assert sum(t.score for t in by_ex["chapter2.OR"]) == sum(t.max_score for t in by_ex["chapter2.OR"])


STALL = FIND_PIPES + textwrap.dedent("""
    def stall():
        # keep the grader's pipe open but read an empty one instead: the grader's next
        # large write would fill the pipe and block forever without a write deadline
        pipes = _pipes()
        keep = os.dup(pipes["r"])
        r, w = os.pipe()
        os.dup2(r, pipes["r"])
        globals()["_held"] = (keep, w)
        return 1

    def close_and_linger():
        os.close(_pipes()["w"])
        time.sleep(60)

    def take(x):
        return 0
""")


def _student(sources: dict[str, str], call_timeout: float) -> WorkerClient:
    encoded = {name: (f"attack/{name}.py", text.encode()) for name, text in sources.items()}
    return _client(sources=encoded, call_timeout=call_timeout, sandbox="none")


def test_a_worker_that_stops_reading_cannot_stall_a_write():
    client = _student({"attack": STALL}, call_timeout=3)
    try:
        module = client.load("attack")
        assert module.stall() == 1
        started = time.monotonic()
        with pytest.raises(WorkerTimeout):
            module.take(np.zeros(2_000_000))  # 16 MB: far more than a pipe holds
        assert time.monotonic() - started < 8
    finally:
        client.close()


def test_a_worker_that_closes_its_pipe_and_lingers_is_stopped():
    client = _student({"attack": STALL}, call_timeout=30)
    try:
        module = client.load("attack")
        started = time.monotonic()
        with pytest.raises(WorkerCrashed, match="closed the grader's connection"):
            module.close_and_linger()
        assert time.monotonic() - started < 8
    finally:
        client.close()


def test_a_whole_check_has_a_wall_clock_limit(make_target):
    sleeper = "import time\n" + "".join(
        f"def {gate}(x1, x2):\n    time.sleep(60)\n" for gate in ("AND", "NAND", "OR", "XOR")
    )
    target = make_target("chapter2", {"perceptron.py": sleeper}, base="exercises")
    started = time.monotonic()
    report = run_check(CHAPTER, target, sandbox="none", test_timeout=1, check_timeout=3)
    assert time.monotonic() - started < 20
    assert report.score == 0
    assert {t.status for t in report.tests} == {"timeout"}
    assert any("whole check" in t.message for t in report.tests)
