"""Errors into messages and exit codes, without typer: the guard of a command (a grader error
on stderr in the student's language, Ctrl-C as 130) and the last line of defence around the
whole command line (a broken pipe is no error; anything else is an internal error, never a
traceback). ``kit.guard`` and ``main.run`` use them for typer's commands, ``check.fast_check``
for the check that starts without typer. Stdlib only at import time."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from grader.util.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, GraderError

LANGS = ("en", "zh")


def show_error(exc: GraderError, chosen: str | None) -> None:
    """A grader error on stderr, in the command's ``--lang`` if it had one, else the session's."""
    from grader import reports
    from grader.util.i18n import error_text, session_lang

    lang = chosen if chosen in LANGS else session_lang()
    reports.error(error_text(exc, lang), lang)


def guarded(lang: str | None, fn: Callable[..., int], /, *args: Any, **kwargs: Any) -> int:
    """``fn``'s exit code; a grader error is shown and becomes its exit code, Ctrl-C 130."""
    try:
        return int(fn(*args, **kwargs))
    except GraderError as exc:
        show_error(exc, lang)
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def last_defence(fn: Callable[[], Any]) -> Any:
    """Run the command line ``fn``: a reader that left (``grade status | head``) ends it quietly
    with 0; any other exception is reported as an internal error (exit 3), without a traceback."""
    try:
        return fn()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_OK)
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback at a student
        from grader import reports
        from grader.util.i18n import session_lang, t

        lang = session_lang()
        reports.error(t("error.internal", lang, what=f"{type(exc).__name__}: {exc}"), lang)
        sys.exit(EXIT_INTERNAL)


def exit_now(code: int) -> None:
    """End a finished command at once with ``code``: its output flushed and the exit handlers
    run, but not the interpreter's teardown, which frees every object of every module one by
    one (with numpy and pytest loaded, ~50 ms of CPU at the end of each check). Only for the
    process's own command line (``grader.cli.run``), never inside a caller's process."""
    import atexit
    import threading

    for thread in threading.enumerate():  # what the interpreter's own exit waits for (a worker closing)
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader left: as last_defence says, not an error
        code = EXIT_OK
    except (OSError, ValueError):
        pass
    atexit._run_exitfuncs()
    os._exit(code)
