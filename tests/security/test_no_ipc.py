"""Nothing kernel-side survives a worker: no System V or POSIX IPC, no memfd.

System V shared memory, semaphores and message queues outlive the process that made
them (they belong to the IPC namespace), and a detached shared-memory segment is not
counted in the address-space cap. So a submission could leave data for the next one
graded in the same ``grade collect`` session, or hold more memory than its cap. Every
child of the fork server gets an IPC namespace of its own where namespaces can be had,
and the worker's seccomp filter refuses the IPC calls and ``memfd_create`` in every mode.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check
from grader.instructor.batch import run_batch
from tests import container_profile
from tests.conftest import has_bwrap
from tests.security.jail_helpers import confined_batch, confined_check

CHAPTER = load_catalog().chapter("chapter2")
# "container": root under Docker's default profile (tests/container_profile.py), the chroot jail
SANDBOXES = ["none"] + (["bwrap"] if has_bwrap() else []) + (["container"] if container_profile.available() else [])
KEY = 0x5EC2E7

LEAVER = textwrap.dedent('''
    import ctypes, json, os
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p

    def AND(x1, x2):
        made = {}
        shm = libc.shmget(%(key)d, 4096, 0o1666)  # IPC_CREAT | 0666
        made["shm"] = shm if shm >= 0 else -ctypes.get_errno()
        if shm >= 0:
            addr = libc.shmat(shm, None, 0)
            if addr not in (None, ctypes.c_void_p(-1).value):
                ctypes.memmove(addr, b"SECRET-ANSWERS", 14)
                libc.shmdt(ctypes.c_void_p(addr))
        q = libc.msgget(%(key)d, 0o1666)
        made["msg"] = q if q >= 0 else -ctypes.get_errno()
        if q >= 0:
            buf = ctypes.create_string_buffer(8 + 14)
            ctypes.memmove(ctypes.addressof(buf), (1).to_bytes(8, "little") + b"SECRET-ANSWERS", 22)
            libc.msgsnd(q, buf, 14, 0o4000)  # IPC_NOWAIT
        sem = libc.semget(%(key)d, 1, 0o1666)
        made["sem"] = sem if sem >= 0 else -ctypes.get_errno()
        mq = libc.mq_open(b"/grade-leak", os.O_CREAT | os.O_RDWR, 0o666, None)
        made["mq"] = mq if mq >= 0 else -ctypes.get_errno()
        mfd = libc.memfd_create(b"leak", 0)
        made["memfd"] = mfd if mfd >= 0 else -ctypes.get_errno()
        raise ValueError("MADE" + json.dumps(made) + "END")
''') % {"key": KEY}

FINDER = textwrap.dedent('''
    import ctypes, json
    libc = ctypes.CDLL(None, use_errno=True)

    def AND(x1, x2):
        found = {"shm": libc.shmget(%(key)d, 0, 0), "msg": libc.msgget(%(key)d, 0), "sem": libc.semget(%(key)d, 0, 0),
                 "mq": libc.mq_open(b"/grade-leak", 0)}
        raise ValueError("FOUND" + json.dumps(found) + "END")
''') % {"key": KEY}

HOARDER = textwrap.dedent('''
    import ctypes, json
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p

    def AND(x1, x2):
        # 1.5 GB in detached 100 MB segments, each touched page by page: none of it counts
        # in the address space once detached
        held = 0
        for i in range(15):
            shm = libc.shmget(0, 100 << 20, 0o1600)  # IPC_PRIVATE
            if shm < 0:
                break
            addr = libc.shmat(shm, None, 0)
            if addr in (None, ctypes.c_void_p(-1).value):
                break
            ctypes.memset(addr, 1, 100 << 20)
            libc.shmdt(ctypes.c_void_p(addr))
            held += 100
        raise ValueError("HELD" + json.dumps(held) + "END")
''')


def _between(report, start: str):
    message = next(t.message for t in report.tests if t.exercise == "chapter2.AND")
    assert start in message, message
    return json.loads(message.split(start, 1)[1].split("END", 1)[0])


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_ipc_left_by_one_submission_is_not_found_by_the_next(make_target, sandbox):
    leaver = make_target("chapter2", {"perceptron.py": LEAVER}, base="exercises")
    finder = make_target("chapter2", {"perceptron.py": FINDER}, base="exercises")
    targets = [("leaver", leaver), ("finder", finder)]
    reports = confined_batch(CHAPTER, targets) if sandbox == "container" else run_batch(CHAPTER, targets, sandbox=sandbox)
    made = _between(reports["leaver"], "MADE")
    # every call was refused (EPERM), not merely made in a namespace of its own
    assert made == {"shm": -1, "msg": -1, "sem": -1, "mq": -1, "memfd": -1}, made
    found = _between(reports["finder"], "FOUND")
    assert found == {"shm": -1, "msg": -1, "sem": -1, "mq": -1}, found


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_shared_memory_cannot_hold_more_than_the_memory_cap(make_target, sandbox):
    hoarder = make_target("chapter2", {"perceptron.py": HOARDER}, base="exercises")
    report = confined_check(CHAPTER, hoarder) if sandbox == "container" else run_check(CHAPTER, hoarder, sandbox=sandbox)
    assert _between(report, "HELD") == 0


IPC_MODULE = textwrap.dedent('''
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)

    def make():
        return libc.shmget(%(key)d, 4096, 0o1666)

    def find():
        return libc.shmget(%(key)d, 0, 0)
''') % {"key": KEY + 1}


@pytest.mark.skipif(not has_bwrap(), reason="bubblewrap is not usable here")
def test_each_forked_child_has_its_own_ipc_namespace():
    # The namespace alone, without the filter: what one child of the fork server made,
    # its sibling cannot see (they live in one bubblewrap sandbox).
    from grader.boundary.channel import WorkerConfig
    from grader.boundary.forkserver import ForkedWorkerClient, Zygote

    zygote = Zygote(sandbox_mode="bwrap")
    try:
        results = []
        for op in ("make", "find"):
            client = ForkedWorkerClient(WorkerConfig({"ipcmod": ("ipcmod.py", IPC_MODULE.encode())}, seccomp=False),
                                        zygote)
            try:
                module = client.load("ipcmod")
                results.append(client.call(module.__getattr__(op), (), {}))
                assert "own IPC namespace" in client.isolation
            finally:
                client.close()
        made, found = results
        assert made >= 0, "with the filter off, the first child can make a segment"
        assert found == -1, "the second child must not find it"
    finally:
        zygote.close()
