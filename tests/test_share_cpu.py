"""Issue 22: while a worker lives, it and the grader's thread keep to one CPU (affinity.py).

Every request wakes the other process; across CPUs of a virtual machine that costs an
interrupt per message. The pair shares the CPU the grader was on once the worker is ready,
and the grader's thread gets its CPUs back when the worker is gone (killed after a timeout
too), so other sessions keep the other CPUs."""

from __future__ import annotations

import os

import pytest

from grader.boundary.channel import WorkerClient, WorkerConfig
from grader.boundary.forkserver import ForkedWorkerClient, Zygote
from grader.util.errors import WorkerTimeout

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")

STUDENT = b"import os\n\ndef cpus():\n    return sorted(os.sched_getaffinity(0))\n\ndef spin():\n    while True:\n        pass\n"


@pytest.mark.parametrize("sandbox", ["none", "auto"])
@pytest.mark.parametrize("forked", [False, True])
def test_a_ready_worker_and_the_grader_share_one_cpu_until_the_worker_is_gone(forked, sandbox):
    before = os.sched_getaffinity(0)
    config = WorkerConfig(sources={"m": ("m.py", STUDENT)}, sandbox=sandbox, share_cpu=True, call_timeout=1.0)
    zygote = Zygote(sandbox_mode=sandbox) if forked else None
    client = ForkedWorkerClient(config, zygote) if zygote is not None else WorkerClient(config)
    try:
        module = client.load("m")
        mine = os.sched_getaffinity(0)
        assert len(mine) == 1 and module.cpus() == sorted(mine)
        with pytest.raises(WorkerTimeout):
            module.spin()  # killed: the grader's CPUs come back ...
        assert os.sched_getaffinity(0) == before
        assert len(module_again := client.load("m").cpus()) == 1  # ... and the next worker pairs again
        assert module_again == sorted(os.sched_getaffinity(0))
    finally:
        client.close()
        if zygote is not None:
            zygote.close()
    assert os.sched_getaffinity(0) == before


def test_without_share_cpu_nothing_is_pinned():
    before = os.sched_getaffinity(0)
    client = WorkerClient(WorkerConfig(sources={"m": ("m.py", STUDENT)}, sandbox="none"))
    try:
        assert client.load("m").cpus() == sorted(before)
        assert os.sched_getaffinity(0) == before
    finally:
        client.close()


def test_a_worker_closed_from_another_thread_gives_the_grader_thread_its_cpus_back():
    import threading

    before = os.sched_getaffinity(0)
    client = WorkerClient(WorkerConfig(sources={"m": ("m.py", STUDENT)}, sandbox="none", share_cpu=True))
    try:
        assert len(client.load("m").cpus()) == 1 and len(os.sched_getaffinity(0)) == 1
    finally:
        closer = threading.Thread(target=client.close)
        closer.start()
        closer.join()
    assert os.sched_getaffinity(0) == before
