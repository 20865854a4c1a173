"""Red team: the test's functions the student's code calls run bounded on the trusted side.

A function a test hands to the student's code (the ``f`` of numerical_gradient) runs in the
grader's own process, with whatever arguments the student's code passes. The test's ``f`` for
a 3-D x broadcasts its argument against a (2, 2, 3) array: a bool array of shape (6e6, 1, 1, 1)
(6 MB over the channel) would become 600 MB of floats in the grader. Every callback checks its
argument against the shape and dtype the test declared before it computes anything, and the
student's code gets the error.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.conftest import REPO

BROADCASTS = """
import numpy as np

_solution_numerical_gradient = numerical_gradient


def numerical_gradient(f, x):
    if x.ndim == 3:  # the hidden test's coupled f: a * sin(x) with a of shape (2, 2, 3)
        try:
            f(np.zeros((6_000_000, 1, 1, 1), dtype=bool))
        except RuntimeError:
            pass
    if x.ndim == 2:  # a public test: what does f say to odd arguments?
        notes = []
        for arg in (x.astype(np.int64), x.reshape(-1), np.zeros((3, *x.shape)), x.astype(np.float32)):
            try:
                f(arg)
                notes.append("accepted " + str(arg.dtype))
            except RuntimeError as exc:
                notes.append(str(exc))
        raise ValueError(" | ".join(notes))
    return _solution_numerical_gradient(f, x)
"""

RUN = """
import json, resource, sys
from pathlib import Path
from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check

report = run_check(load_catalog().chapter("chapter4"), Path(sys.argv[1]))
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KB: the largest child, pytest's process
print(json.dumps({"peak_mb": peak / 1024, "tests": [t.__dict__ for t in report.tests]}))
"""


def test_a_callback_refuses_a_huge_broadcast_and_odd_arguments_before_computing(make_target):
    source = (REPO / "solutions/chapter4/gradients.py").read_text(encoding="utf-8")
    target = make_target("chapter4", {"gradients.py": source + "\n\n" + textwrap.dedent(BROADCASTS)})
    out = subprocess.run([sys.executable, "-c", RUN, str(target)], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["peak_mb"] < 400, result["peak_mb"]  # without the check: over 600 MB in the grader
    tests = {t["name"]: t for t in result["tests"]}
    cube = tests["test_numerical_gradient_of_a_3d_array"]
    assert cube["status"] == "passed", cube["message"]  # refused in the student's worker, nothing else
    # the test's own callbacks (a TwoLayerNet's numerical_gradient hands over the student's own loss)
    odd = [
        t["message"]
        for t in result["tests"]
        if t["visibility"] == "public" and t["exercise"] == "chapter4.numerical_gradient" and "| " in t["message"]
    ]
    assert odd, [t["message"][:200] for t in result["tests"]]
    for message in odd:
        assert "accepted" not in message.replace("accepted float32", ""), message
        assert message.count("it takes an array of shape") >= 3, message
