"""The commands: everything a person types. ``grade`` and its subcommands (``main`` builds
the typer app, ``student``, ``watch``, ``quiz``, ``instructor`` register theirs), the option
kit (``kit``), the localised help texts (``text``) and shell completion. ``grade check`` is
``check.check_command``; a plain check command line starts it without typer
(``check.fast_check``), with the typer-free error guard of ``safety``.

Owns: parsing arguments, choosing the language, turning errors into exit codes and
messages (never a traceback), handing results to ``grader.reports``.
May import: every other package of the grader (it is the top layer).
Must never: be imported by any other package (grading, the boundary, the instructor side,
quizzes, reports and the utilities sit below it); import numpy, pytest or rich at start-up
(``grade --help`` stays fast: heavy imports go inside the command that needs them); hold
grading logic (a command parses, calls one core function and reports).

A new student command goes in ``student.py`` (or its own module registered from
``main.py``); a new instructor command in ``instructor.py``.
"""

from __future__ import annotations

from typing import Any


def run() -> None:
    """The ``grade`` script's entry point (``grader.cli:run`` in pyproject.toml). A plain
    ``grade check ...`` starts without typer (``check.fast_check``); everything else, and any
    check command line that one does not read, goes to the typer app. A finished check ends the
    process without the interpreter's teardown (``safety.exit_now``): this is a program's entry
    point, not a function to call inside another program."""
    import os
    import sys

    args = sys.argv[1:]
    if "check" in args[:3] and not any(k.endswith("_COMPLETE") for k in os.environ):
        from grader.cli.check import fast_check
        from grader.cli.safety import exit_now, last_defence

        code = last_defence(lambda: fast_check(args))
        if code is not None:
            exit_now(code)
    from grader.cli.main import run as _run

    _run()


def __getattr__(name: str) -> Any:
    # ``from grader.cli import app``: the typer app, built only when asked for
    if name == "app":
        from grader.cli.main import app

        return app
    raise AttributeError(f"module 'grader.cli' has no attribute {name!r}")
