"""Error classes of the grader. The CLI turns each into a message and an exit code."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Exit codes, in one place.
EXIT_OK = 0
EXIT_NOT_ALL_PASSED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT (128 + 2)


class GraderError(Exception):
    """An error the user can act on; its message says what to do next."""

    exit_code = EXIT_USAGE


class UsageError(GraderError):
    exit_code = EXIT_USAGE


class UnknownName(UsageError):
    """An id (chapter, exercise, question) that does not exist."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known = list(known)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        message = f"No {kind} named '{name}'."
        if close:
            message += " Did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
        message += f" Known {kind}s: {', '.join(known)}." if len(known) <= 12 else ""
        super().__init__(message)
        self.kind = kind
        self.name = name
        self.suggestions = close
        self.known = known if len(known) <= 12 else []


class InternalError(GraderError):
    """The grader itself failed (a bug or a broken installation), not the student."""

    exit_code = EXIT_INTERNAL


# --- raised on the trusted side while talking to the student's worker ---------------


class WorkerFault(Exception):
    """Base of everything that went wrong on the untrusted side of the boundary."""

    status = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StudentCodeError(WorkerFault):
    """The student's code raised an exception (carried as text, never as an object)."""

    def __init__(self, type_name: str, message: str, traceback: str = "") -> None:
        self.type_name = type_name
        self.detail = message
        self.traceback = traceback
        text = f"{type_name}: {message}" if message else type_name
        super().__init__(text)


class NotAttempted(StudentCodeError):
    """The student's function still raises NotImplementedError."""

    status = "not_attempted"


class ResourceExceeded(WorkerFault):
    """Memory, CPU time or output limit hit."""

    status = "resource"


class WorkerTimeout(WorkerFault):
    status = "timeout"

    def __init__(self, message: str, *, frames: list[tuple[str, int, str]] | None = None,
                 cut: str | None = None, seconds: float | None = None) -> None:
        super().__init__(message)
        self.frames = frames or []  # student frames it was running, innermost first (unverified)
        self.cut = cut  # which limit stopped it: "call", "test" or "check" (None: not a request)
        self.seconds = seconds  # that limit in seconds, when the channel knows it ("call")


class NotRunAfterTimeout(WorkerFault):
    """A function that did not finish in an earlier test was called again (it raised at once)."""

    status = "timeout"

    def __init__(self, function: str) -> None:
        super().__init__(f"not run: {function} did not finish in an earlier test")
        self.function = function


class WorkerCrashed(WorkerFault):
    """The worker process ended while running student code."""


class ChannelViolation(WorkerFault):
    """The worker sent something that is not well-formed plain data."""
