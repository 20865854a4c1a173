"""``grade check`` starts without typer (grader/cli/check.py reads its command line) and says
exactly what the typer command says: same exit code, same report, same errors. A command line
it does not read as click would goes to typer, which explains it as before."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# the `grade` script (grader.cli:run, with the fast start), and the typer app alone
GRADE = [sys.executable, "-c", "import sys; sys.argv[0] = 'grade'; from grader.cli import run; run()"]
TYPER = [sys.executable, "-c", "import sys; sys.argv[0] = 'grade'; from grader.cli.main import run; run()"]
REPORTS_WHAT_RAN = (
    "import atexit, sys; atexit.register(lambda: print('LOADED', any(m.split('.')[0] in ('typer', 'click')"
    " for m in sys.modules), file=sys.stderr)); sys.argv[0] = 'grade'; from grader.cli import run; run()"
)


def _run(prefix: list[str], args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, *args], capture_output=True, text=True, cwd=REPO, timeout=300)


def _same_apart_from_times(out: str) -> str:
    """A report with its timings taken out (they differ from run to run)."""
    try:
        data = json.loads(out)
    except ValueError:
        return re.sub(r"\d+(\.\d+)? ?s\b", "N s", out)
    data.pop("execution_time", None)
    for test in data.get("tests", []):
        test.pop("duration", None)
        test.pop("execution_time", None)
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def test_a_plain_check_starts_without_typer_or_click():
    fast = subprocess.run([sys.executable, "-c", REPORTS_WHAT_RAN, "check", "chapter2", "--json"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert fast.returncode == 1, fast.stderr
    assert json.loads(fast.stdout)["chapter"] == "chapter2"
    assert "LOADED False" in fast.stderr
    helped = subprocess.run([sys.executable, "-c", REPORTS_WHAT_RAN, "check", "--help"],
                            capture_output=True, text=True, cwd=REPO, timeout=300)
    assert helped.returncode == 0 and "--solutions" in helped.stdout
    assert "LOADED True" in helped.stderr  # help is typer's


@pytest.mark.parametrize(
    "args",
    [
        ["check", "chapter2", "--json"],
        ["check", "2", "--solutions", "--format=json"],
        ["--lang", "zh", "check", "chapter2", "--json"],
        ["check", "chapter4", "--public", "--format", "gradescope", "--lang=en"],
        ["check", "chapter3", "--solutions"],
        ["check", "chapter99"],
        ["check", "chapter2", "--path", "/nonexistent-folder", "--lang", "zh"],
        ["check", "chapter1"],
    ],
)
def test_the_fast_start_says_what_the_typer_command_says(args):
    fast, slow = _run(GRADE, args), _run(TYPER, args)
    assert fast.returncode == slow.returncode, (fast.stderr, slow.stderr)
    assert _same_apart_from_times(fast.stdout) == _same_apart_from_times(slow.stdout)
    assert fast.stderr == slow.stderr
    assert "Traceback" not in fast.stdout + fast.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["check"], "Missing argument"),
        (["check", "chapter2", "--format", "xml"], "Invalid value for '--format'"),
        (["check", "chapter2", "chapter3"], "unexpected extra argument"),
        (["check", "chapter2", "--bogus"], "No such option: --bogus"),
        (["check", "chapter2", "--path"], "Option '--path' requires an argument"),
    ],
)
def test_a_command_line_the_fast_start_does_not_read_is_explained_by_typer(args, said):
    result = _run(GRADE, args)
    assert result.returncode == 2
    assert said in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("debug", [False, True])
def test_a_check_builds_no_pytest_failure_text_unless_debugging(monkeypatch, debug) -> None:
    """A stub's failing tests are reported by the grader's own words; pytest's failure text
    (a traceback formatted from the suite's source, never shown: ``--tb=no``) is built only
    with ``GRADER_DEBUG=1``. The report is the same either way."""
    from _pytest.python import Function

    from grader.grading.catalog import load_catalog
    from grader.grading.runner import run_check

    built = []
    real = Function.repr_failure
    monkeypatch.setattr(Function, "repr_failure", lambda self, *a, **k: built.append(self.name) or real(self, *a, **k))
    if debug:
        monkeypatch.setenv("GRADER_DEBUG", "1")
    else:
        monkeypatch.delenv("GRADER_DEBUG", raising=False)
    report = run_check(load_catalog().chapter("chapter3"), REPO / "exercises", in_process=True, sandbox="none")
    failed = [t for t in report.tests if t.status != "passed"]
    assert failed and all(t.message for t in failed)
    assert bool(built) == debug
    seen = [(t.name, t.status, t.message) for t in report.tests]
    if debug:
        monkeypatch.delenv("GRADER_DEBUG")
        again = run_check(load_catalog().chapter("chapter3"), REPO / "exercises", in_process=True, sandbox="none")
        assert [(t.name, t.status, t.message) for t in again.tests] == seen
