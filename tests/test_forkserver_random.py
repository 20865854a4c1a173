"""Issue 22: the fork server imports ``numpy.random`` once, for every child.

Chapters 4-6 seed numpy before their tests, and each forked child imported ``numpy.random``
again for that (~15-30 ms of CPU per submission-chapter in a batch). Imported in the fork
server, its global generator would be one state copied into every child: each child seeds it
afresh from the system's entropy, so unseeded draws differ between children as they do
between new processes, and seeded draws are what a fresh worker draws."""

from __future__ import annotations

import pytest

from grader.boundary.channel import WorkerClient, WorkerConfig
from grader.boundary.forkserver import ForkedWorkerClient, Zygote

STUDENT = b"""import numpy as np

def preloaded():
    return 'random' in vars(np)

def draw():
    return np.random.rand(4).tolist()
"""


def _config(sandbox: str) -> WorkerConfig:
    return WorkerConfig(sources={"m": ("m.py", STUDENT)}, sandbox=sandbox)


def _run(client, seed: int | None):
    try:
        if seed is not None:
            client.seed(seed)
        module = client.load("m")
        return module.preloaded(), module.draw()
    finally:
        client.close()


@pytest.mark.parametrize("sandbox", ["none", "auto"])
def test_children_of_one_fork_server_do_not_share_numpys_unseeded_draws(sandbox):
    zygote = Zygote(sandbox_mode=sandbox)
    try:
        first = _run(ForkedWorkerClient(_config(sandbox), zygote), None)
        second = _run(ForkedWorkerClient(_config(sandbox), zygote), None)
    finally:
        zygote.close()
    assert first[0] and second[0], "the fork server imports numpy.random before the children"
    assert first[1] != second[1]


def test_a_seeded_child_draws_what_a_fresh_worker_draws():
    zygote = Zygote(sandbox_mode="none")
    try:
        forked = _run(ForkedWorkerClient(_config("none"), zygote), 1234)
    finally:
        zygote.close()
    fresh = _run(WorkerClient(_config("none")), 1234)
    assert forked[1] == fresh[1]
