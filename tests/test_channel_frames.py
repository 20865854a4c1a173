"""Issue 22: the grader reads the worker's pipe in 64 KB pieces, or the rest of a longer frame.

Asking ``read`` for 1 MB made Python allocate 1 MB before every read, which glibc serves with
mmap, mremap and munmap: three system calls per round trip. Replies of every size still
arrive whole and exact: small ones, ones just past a read's size, many frames in a row, and
arrays of several megabytes (one frame longer than a read asks for)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.boundary import channel
from grader.boundary.channel import WorkerClient, WorkerConfig
from grader.boundary.proxy import Callback

STUDENT = b"""
import numpy as np

def ident(x):
    return x

def made(n):
    return np.arange(n, dtype=np.float64)

def calls(f, x, n):
    return [f(x) for _ in range(n)]
"""


@pytest.fixture(scope="module")
def module():
    client = WorkerClient(WorkerConfig(sources={"m": ("m.py", STUDENT)}, sandbox="none"))
    try:
        yield client.load("m")
    finally:
        client.close()


@pytest.mark.parametrize("n", [0, 1, 3, channel.READ_CHUNK // 8 - 8, channel.READ_CHUNK // 8 + 8, 3 * 1024 * 1024 // 8])
def test_replies_of_every_size_arrive_whole(module, n):
    got = module.made(n)
    assert isinstance(got, np.ndarray) and got.shape == (n,)
    assert np.array_equal(got, np.arange(n, dtype=np.float64))
    x = np.linspace(-1.0, 1.0, n)
    assert np.array_equal(module.ident(x), x)  # both ways


def test_many_small_frames_in_a_row(module):
    x = np.array([1.0, 2.0, 3.0])
    got = module.calls(Callback(lambda v: float(np.sum(v * v)), like=x), x, 500)
    assert got == [14.0] * 500


def test_a_round_trip_asks_the_pipe_for_no_more_than_a_chunk(module, monkeypatch):
    asked = []
    real = channel.os.read

    def read(fd, n):
        asked.append(n)
        return real(fd, n)

    monkeypatch.setattr(channel.os, "read", read)
    module.ident(np.zeros(3))
    assert asked and max(asked) == channel.READ_CHUNK <= 1 << 16
    asked.clear()
    module.made(1 << 20)  # 8 MB: the rest of the frame in as few reads as the pipe allows
    assert max(asked) > channel.READ_CHUNK
