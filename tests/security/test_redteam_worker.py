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

import numpy as np

from grader.catalog import load_catalog
from grader.runner import run_check
from tests.conftest import REPO

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
