"""The worker's memory cap: its own cgroup where the grader can make one, else RLIMIT_AS.

The report's isolation line names the mechanism the worker really got, and a worker that
goes past the cap, either way, ends as ``resource`` (not as a pass, a crash or a hang).
Memory held outside the address space (a tmpfs file, shared memory) is what only the
cgroup counts.
"""

from __future__ import annotations

import os
import textwrap

import pytest

from grader.boundary import cgroup
from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check
from grader.instructor.batch import run_batch

CHAPTER = load_catalog().chapter("chapter2")

HOG = textwrap.dedent('''
    import numpy as np
    HELD = []

    def AND(x1, x2):
        for _ in range(40):  # 4 GB in 100 MB blocks, every page touched
            HELD.append(np.ones(100 << 17))
        return 1
''')

MECHANISMS = ["rlimit"] + (["cgroup"] if cgroup.parent() is not None else [])


@pytest.fixture(params=MECHANISMS)
def mechanism(request, monkeypatch):
    if request.param == "rlimit":
        monkeypatch.setenv("GRADE_MEMORY_CGROUP", "0")
    cgroup.parent.cache_clear()
    yield request.param
    monkeypatch.undo()
    cgroup.parent.cache_clear()


def _memory_entry(report) -> str:
    entries = [e for e in report.isolation if e.startswith("memory")]
    assert len(entries) == 1, report.isolation
    return entries[0]


def _leftover_cgroups() -> list[str]:
    where = cgroup.parent()
    if where is None:
        return []
    return sorted(n for n in os.listdir(where[1]) if n.startswith(f"grade-worker-{os.getpid()}-"))


def test_the_isolation_line_names_the_memory_mechanism_and_an_over_cap_worker_is_resource(make_target, mechanism):
    target = make_target("chapter2", {"perceptron.py": HOG}, base="exercises")
    report = run_check(CHAPTER, target, sandbox="auto")
    word = "cgroup" if mechanism == "cgroup" else "RLIMIT_AS"
    assert _memory_entry(report) == f"memory: {word} {CHAPTER.memory_mb} MB"
    statuses = {t.status for t in report.tests if t.exercise == "chapter2.AND"}
    assert statuses == {"resource"}, [(t.name, t.status, t.message) for t in report.tests]
    assert _leftover_cgroups() == []


def test_collect_workers_get_the_same_cap(make_target, mechanism):
    hog = make_target("chapter2", {"perceptron.py": HOG}, base="exercises")
    honest = make_target("chapter2", base="solutions")
    reports = run_batch(CHAPTER, [("hog", hog), ("honest", honest)])
    word = "cgroup" if mechanism == "cgroup" else "RLIMIT_AS"
    assert _memory_entry(reports["hog"]) == f"memory: {word} {CHAPTER.memory_mb} MB"
    assert {t.status for t in reports["hog"].tests if t.exercise == "chapter2.AND"} == {"resource"}
    assert reports["honest"].all_passed
    assert _leftover_cgroups() == []


@pytest.mark.skipif(cgroup.parent() is None, reason="no cgroup can be made here")
def test_a_worker_cgroup_has_its_limits_and_goes_away():
    group = cgroup.WorkerCgroup.create(300)
    try:
        name = "memory.max" if group.version == "v2" else "memory.limit_in_bytes"
        with open(os.path.join(group.folder, name)) as f:
            assert int(f.read()) == 300 << 20
        if group.version == "v2":
            with open(os.path.join(group.folder, "pids.max")) as f:
                assert int(f.read()) == cgroup.PIDS_MAX
    finally:
        group.close()
    assert not os.path.exists(group.folder)
