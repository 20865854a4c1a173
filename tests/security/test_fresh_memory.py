"""No worker finds another student's source in its memory.

In ``grade collect`` every submission's worker is forked from one fork server per
session. The fork server must never hold a student's source or results: a child gets
its own over its own pipe, after the fork. The attack: the second submission of a batch
scans every readable page of its own memory for text that only the first submission's
source holds (1000 copies of a random marker).
"""

from __future__ import annotations

import textwrap
import uuid

import pytest

from grader.grading.catalog import load_catalog
from grader.instructor.batch import run_batch
from tests.conftest import REPO, has_bwrap

CHAPTER = load_catalog().chapter("chapter2")

SCANNER = textwrap.dedent('''
    import re

    def _count(needle):
        hits = 0
        with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
            for line in maps:
                fields = line.split()
                if not fields[1].startswith("r"):
                    continue
                start, end = (int(x, 16) for x in fields[0].split("-"))
                if end - start > 1 << 28:
                    continue
                try:
                    mem.seek(start)
                    hits += mem.read(end - start).count(needle)
                except (OSError, ValueError, OverflowError):
                    pass
        return hits

    def AND(x1, x2):
        needle = NEEDLE[::-1].encode()
        raise ValueError(f"HITS={_count(needle)}=")
''')


@pytest.mark.skipif(not has_bwrap(), reason="reading /proc/self/mem needs the bubblewrap sandbox's /proc")
def test_a_forked_worker_finds_nothing_of_the_previous_student(make_target):
    marker = "earlier-student-" + uuid.uuid4().hex
    solution = (REPO / "solutions" / "chapter2" / "perceptron.py").read_text(encoding="utf-8")
    first = make_target("chapter2", {"perceptron.py": solution + f"# {marker}\n" * 1000}, base="solutions")
    second = make_target(
        "chapter2", {"perceptron.py": f"NEEDLE = {marker[::-1]!r}\n" + SCANNER}, base="exercises"
    )
    reports = run_batch(CHAPTER, [("first", first), ("second", second)], sandbox="bwrap")
    assert reports["first"].score == reports["first"].max_score
    message = next(t.message for t in reports["second"].tests if t.exercise == "chapter2.AND")
    assert "HITS=" in message, message
    hits = int(message.split("HITS=", 1)[1].split("=", 1)[0])
    # the needle the scanner built itself may be found once or twice; the 1000 copies never
    assert hits < 5, f"found the earlier student's text {hits} times"
