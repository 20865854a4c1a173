"""Text from student code reaches people without control characters.

An exception message, a traceback's names and printed output can carry terminal escape
sequences (window title, clipboard write through OSC 52, erase line), carriage returns
and bidirectional overrides. None of them may survive into a report, a results file or
the JSON a tool reads; the words around them stay.
"""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from grader.cli import app
from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check
from grader.instructor.batch import run_batch
from grader.util.textclean import clean, clean_tree

CHAPTER = load_catalog().chapter("chapter2")
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
NASTY = "\x1b]0;pwned\x07\x1b]52;c;ZWNobyBoaQ==\x07\x1b[2K\rstill here\u202eevil\x9b31m"

ATTACK = f'''
import sys
Evil = type("Ev\\u202eil\\x1b[5m", (Exception,), {{}})
def AND(x1, x2):
    print({NASTY!r})
    raise ValueError({NASTY!r})
def OR(x1, x2):
    print({NASTY!r}, file=sys.stderr)
    import os
    os._exit(3)
def NAND(x1, x2):
    raise Evil({NASTY!r})
'''


def _messages(report) -> list[str]:
    return [t.message for t in report.tests]


def test_clean_keeps_words_and_drops_controls():
    assert clean(NASTY) == "]0;pwned]52;c;ZWNobyBoaQ==[2Kstill hereevil31m"
    assert clean("line 1\n\tline 2") == "line 1\n\tline 2"
    assert clean_tree({"a\x1b": ["b\x07", 3, None]}) == {"a": ["b", 3, None]}


def test_grade_check_reports_carry_no_control_characters(make_target):
    target = make_target("chapter2", {"perceptron.py": ATTACK}, base="exercises")
    report = run_check(CHAPTER, target, sandbox="none")
    messages = _messages(report)
    assert any("still here" in m for m in messages)  # the words survive
    assert not any(UNSAFE.search(m) for m in messages), messages
    result = CliRunner().invoke(app, ["check", "chapter2", "--path", str(target), "--sandbox", "none", "--json"])
    assert "still here" in result.output
    assert not UNSAFE.search(result.output.replace("\n", ""))
    json.loads(result.output)
    text = CliRunner().invoke(app, ["check", "chapter2", "--path", str(target), "--sandbox", "none"])
    assert "still here" in text.output and "\x1b]" not in text.output and "\x07" not in text.output


def test_collect_results_carry_no_control_characters(make_target):
    target = make_target("chapter2", {"perceptron.py": ATTACK}, base="exercises")
    report = run_batch(CHAPTER, [("alice", target)], sandbox="none")["alice"]
    messages = _messages(report)
    assert any("still here" in m for m in messages)
    assert not any(UNSAFE.search(m) for m in messages), messages
