"""What a failing test says. The text of each way a test can fail (the student's exception,
a limit, a crash, a module that does not load, a bare assert), every name and line in it
checked against the submitted sources before it is shown, and for hidden tests only the
exception's type and verified frames (``FailureText``, mixed into the ``Recorder``; the
functions below it). Also: the worker's output captured during a test, and the snippet that
rebuilds a public test's inputs."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.grading.student_code import ModuleBlocked
from grader.util.errors import NotAttempted, NotRunAfterTimeout, StudentCodeError, WorkerFault, WorkerTimeout


def is_hidden(item: pytest.Item) -> bool:
    return item.path.stem.endswith("_hidden")


class FailureText:
    """The ``Recorder``'s verdict and message for a test's exception. Reads the recorder's
    current target: ``sources``, ``names_cache``, ``timed_out``, ``public_blocks``,
    ``reported_blocks``, ``client``, the chapter's limits."""

    def _classify(self, call: pytest.CallInfo[None], item: pytest.Item) -> tuple[str, str]:
        if call.excinfo is None:
            return "passed", ""
        exc = call.excinfo.value
        from grader.grading.checks import Feedback
        from grader.grading.shown import vouched
        from grader.util.i18n import tr

        if isinstance(exc, NotAttempted):
            ex = item.get_closest_marker("exercise")
            name = str(ex.args[0]).split(".", 1)[-1] if ex else "?"
            return "not_attempted", tr("fb.not_attempted", name=name)
        hidden = is_hidden(item)
        if isinstance(exc, ModuleBlocked):
            return "error", self._blocked(exc, hidden)
        if isinstance(exc, StudentCodeError):
            shape = source_shape(tuple(self.sources.values()), self.names_cache) if hidden else None
            crashed = crashed_call(call, exc, shape)
            error, frames = exc.message, exc.traceback.rstrip()
            if hidden:
                # The exception's text and the frames' names are the student's to choose (the
                # hidden input, written out): a hidden test names the type and the verified lines only.
                error, frames = hidden_error(exc, self.sources, self.names_cache)
                error = vouched(error)
            text = tr("fb.raised_in", call=crashed, error=error) if crashed else tr("fb.raised", error=error)
            if frames:
                text += "\n" + vouched(with_source_lines(frames, self.sources))
            return "error", text
        if isinstance(exc, NotRunAfterTimeout):
            names = [name for stack in self.timed_out for _, _, name in stack]
            names += [file.rsplit("/", 1)[-1] for file in self.client.stuck_modules]
            if not names:  # nothing stopped here: the student's own exception of that name
                return "error", tr("fb.raised", error="Exception")
            # every name here was checked against the submitted files' syntax trees
            return "timeout", tr("fb.not_run_timeout", function=vouched(exc.function if exc.function in names else names[0]))
        if isinstance(exc, WorkerTimeout) and exc.cut is not None:
            return "timeout", self._timeout_text(exc, item)
        if isinstance(exc, WorkerFault):
            marker = item.get_closest_marker("timeout_s")
            return exc.status, fault_text(exc.message, float(marker.args[0]) if marker else self.test_timeout,
                                           self._worker_config({}).output_bytes)
        if isinstance(exc, Feedback):
            return "failed", exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        if isinstance(exc, AssertionError):
            # A bare assert: its text would show the hidden test's source, so it stays here.
            return "failed", tr("fb.bare_assert")
        self.internal.append(f"{item.nodeid}: {call.excinfo.exconly()}")
        return "error", tr("fb.internal", name=type(exc).__name__)

    def _timeout_text(self, exc: WorkerTimeout, item: pytest.Item) -> str:
        """Which limit stopped the code and where it was: the student frames of the stack the
        worker wrote just before, each checked against the submitted sources (a file they hold,
        a line inside it, a function they define), so nothing else the student's code wrote
        there shows, in hidden tests either. Its functions then raise at once when called
        again (``WorkerClient.not_run``)."""
        from grader.grading.shown import vouched
        from grader.util.i18n import tr

        if exc.cut == "check":
            limit = tr("fb.limit_check", chapter=self.chapter.id, seconds=f"{self.check_budget:g}")
        elif exc.cut == "call" and exc.seconds is not None:
            limit = tr("fb.limit_call", seconds=f"{exc.seconds:g}")
        else:
            marker = item.get_closest_marker("timeout_s")
            limit = tr("fb.limit_test", seconds=f"{float(marker.args[0]) if marker else self.test_timeout:g}")
        frames = vouched_stack(exc.frames, source_shape(tuple(self.sources.values()), self.names_cache))
        named = [f for f in frames if f[2] != "<module>"]
        if not frames:
            return tr("fb.timeout_why", limit=limit)
        self.timed_out.append(named)
        self.client.not_run = list(self.timed_out)
        if frames[0][2] == "<module>":  # the module's own top-level code: loading it again would loop again
            self.client.stuck_modules.add(frames[0][0])
        self.client.start()  # the next worker imports numpy while this test is reported
        file, line, function = frames[0]
        rows = "\n".join(f'  File "{f}", line {n}, in {name}' for f, n, name in reversed(frames[:HIDDEN_FRAMES]))
        head = tr("fb.timeout_stuck", limit=limit, function=vouched(function), line=vouched(str(line)),
                  file=vouched(file.rsplit("/", 1)[-1]))
        return head + "\n" + vouched(with_source_lines(rows, self.sources))

    def _blocked(self, exc: ModuleBlocked, hidden: bool) -> str:
        """The module's error once (an artifact the report shows above the tests, as Python
        prints it), and for each test a line saying which file and line blocks it.

        In a hidden test the load may have been tried again after the worker saw the test's
        inputs: what the module's code raised then is shown as a hidden error is (its type and
        verified frames), never its text."""
        from grader.grading.shown import vouched
        from grader.util.i18n import tr

        error = module_error(exc, self.sources)
        seen = (exc.type_name, exc.detail, exc.traceback)
        if not hidden:
            self.public_blocks.add(seen)
        elif seen in self.public_blocks:
            hidden = False  # the same error a public test showed, before any hidden input: nothing new
        if hidden and not error["syntax"]:
            error = hidden_module_error(exc, self.sources)
        key = f"{error['file']}:{error['line']}:{error['text']}"
        if key not in self.reported_blocks:
            self.reported_blocks.add(key)
            self._artifacts().append(error)
        name = error["file"].rsplit("/", 1)[-1]
        msg_id = "fb.blocked_syntax" if error["syntax"] else "fb.blocked_import"
        if error["syntax"]:  # the trusted side's own compile of the submitted file
            summary = error["text"].strip().splitlines()[-1]
        else:
            summary = error["error"] if hidden else exc.message
        return tr(msg_id, file=vouched(name), line=vouched(str(error["line"] or "?")), error=vouched(summary[:300]))


# What the boundary says (in English, for logs) → the student's message in their language.
_FAULTS: tuple[tuple[str, str], ...] = (
    (r"your code did not finish in time", "fb.timeout"),
    (r"your code used more CPU time or memory", "fb.cpu_or_memory"),
    (r"your code ran out of memory", "fb.out_of_memory"),
    (r"your code printed more output", "fb.output_limit"),
    (r"your code wrote more to /tmp than allowed", "fb.tmp_limit"),
    (r"your code made a system call", "fb.syscall"),
    (r"the process running your code crashed \((?P<name>[^)]*)\)", "fb.crashed_signal"),
    (r"your code ended the process running it \(exit code (?P<code>-?\d+|None)\)", "fb.exited"),
    (r"your code closed the grader's connection", "fb.closed_channel"),
    (r"an object from before the worker restarted", "fb.stale_object"),
    (r"the grader's worker process|the worker did not start", "fb.worker_start"),
    (r"your code sent data the grader does not accept", "fb.bad_data"),
    (r"your code sent a message larger", "fb.too_large"),
    (r"your code sent (a malformed reply|an unexpected message)|your code called a function the grader", "fb.bad_reply"),
    (r"your module could not be loaded|your model could not be handed over", "fb.load_failed"),
)


def fault_text(message: str, seconds: float, output_bytes: int | None = None) -> str:
    """A worker fault's message in the student's language (a message built here already is);
    a limit the student ran into is named with its size."""
    import re

    from grader.util.i18n import tr

    for pattern, msg_id in _FAULTS:
        match = re.match(pattern, message)
        if match:
            fields = match.groupdict()
            if msg_id == "fb.timeout":
                return tr("fb.timeout_limit", seconds=f"{seconds:g}")
            if msg_id == "fb.output_limit" and output_bytes:
                mb, kb = output_bytes / 2**20, output_bytes // 1024
                return tr("fb.output_limit_n", limit=f"{mb:g} MB" if mb >= 1 else f"{kb} KB")
            return tr(msg_id, **fields)
    from grader.util.i18n import Message

    if isinstance(message, Message):
        return message
    return message[:1].upper() + message[1:]


def rebuild_text(item: pytest.Item, exercise_id: str = "") -> str:
    """For a public test: Python that rebuilds the inputs of its last call, with the imports
    it needs (numpy, and the exercise's function or class from the student's module, as run
    in the chapter's folder), and where the test is (public suites ship with the release).
    Hidden tests never record any."""
    from grader.grading.catalog import load_catalog
    from grader.grading.checks import rebuild_snippet
    from grader.util.i18n import tr

    snippet = rebuild_snippet()
    if not snippet:
        return ""
    where = f"grader/suites/{Path(str(item.path)).parent.name}/{Path(str(item.path)).name}"
    name = item.name.split("[", 1)[0]
    exercise = load_catalog().exercises.get(exercise_id)
    imports = ["import numpy as np"]
    if exercise is not None and exercise.module.isidentifier() and exercise.name.isidentifier():
        imports.append(f"from {exercise.module} import {exercise.name}")
    lines = "\n".join("    " + line for line in [*imports, *snippet.splitlines()])
    return "\n" + tr("fb.rebuild", test=name, file=where) + "\n" + lines


def crashed_call(call: pytest.CallInfo[None], exc: StudentCodeError, shape: SourceShape | None = None) -> str | None:
    """The call that crashed, as the suite described it for the student: the ``call`` text
    (function, argument shapes and dtypes, seed, non-default arguments; shapes only in hidden
    tests) held by the innermost suite frame, when it names the function the student's
    traceback starts in; else that function's name alone. In a hidden test (``shape`` given)
    that function counts only when its frame is verified against the submitted files."""
    import re

    first = re.search(r', line \d+, in (\w+)', exc.traceback or "")
    entry = first.group(1) if first else None
    if shape is not None and first is not None:
        row = (exc.traceback or "").splitlines()[(exc.traceback or "")[: first.start()].count("\n")]
        entry = entry if verified_frames(row, shape) else None
    described = None
    excinfo = call.excinfo
    if excinfo is not None:
        for entry_tb in reversed(excinfo.traceback):
            path = str(entry_tb.path)
            if "/suites/" not in path.replace("\\", "/"):
                continue
            value = entry_tb.frame.f_locals.get("call")
            if isinstance(value, str) and value:
                described = value
                break
    if described is not None:
        name = described.split("(", 1)[0].rsplit(".", 1)[-1]
        if entry is None or name == entry or (entry == "__init__" and name[:1].isupper()):
            return described
    if entry is not None and entry != "<module>":
        return f"{entry}(...)"
    return None


OUTPUT_LINES = 20  # per test, shown
OUTPUT_BYTES = 2048
OUTPUT_READ = 64 * 1024  # read at most this much of one test's output


def _output_file(client: Any) -> int | None:
    output = getattr(client, "_output", None) if client is not None else None
    try:
        return output.fileno() if output is not None else None
    except (OSError, ValueError):
        return None


def output_size(client: Any) -> int:
    fd = _output_file(client)
    try:
        return os.fstat(fd).st_size if fd is not None else 0
    except OSError:
        return 0


def output_since(client: Any, start: int) -> dict[str, Any] | None:
    """The worker's output after ``start`` (0 when the worker restarted and its file began
    again), at most ``OUTPUT_LINES`` lines and ``OUTPUT_BYTES`` bytes, and how much was left
    out. ``pread`` leaves the file position, which the worker shares, where it was."""
    fd = _output_file(client)
    if fd is None:
        return None
    size = output_size(client)
    if size < start:
        start = 0
    if size == start:
        return None
    try:
        data = os.pread(fd, min(size - start, OUTPUT_READ), start)
    except OSError:
        return None
    from grader.util.textclean import PROGRESS_BAR, settle

    text = settle(data.decode("utf-8", "replace"))  # progress bars: their last state, no escape fragments
    lines = text.splitlines()
    shown: list[str] = []
    used = 0
    for line in lines[:OUTPUT_LINES]:
        line = line[: OUTPUT_BYTES - used]
        shown.append(line)
        used += len(line.encode("utf-8")) + 1
        if used >= OUTPUT_BYTES:
            break
    left_out = len(lines) - len(shown) + (1 if size - start > OUTPUT_READ else 0)
    bars = any(PROGRESS_BAR.match(line) for line in lines)
    return {"text": "\n".join(shown), "lines_left_out": max(0, left_out), **({"progress_bars": True} if bars else {})}


_FRAME = None


def _frame_pattern() -> Any:
    import re

    global _FRAME
    if _FRAME is None:
        _FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')
    return _FRAME


def _source_line(sources: dict[str, tuple[str, bytes]], file: str, line: int) -> str | None:
    for display, data in sources.values():
        if display == file:
            lines = data.decode("utf-8", "replace").splitlines()
            if 1 <= line <= len(lines):
                return lines[line - 1].strip()[:200]
    return None


HIDDEN_FRAMES = 5  # the innermost frames a hidden test's error shows


def hidden_error(
    exc: StudentCodeError, sources: dict[str, tuple[str, bytes]], cache: dict[str, Any] | None = None
) -> tuple[str, str]:
    """A hidden test's error without anything the student's code could choose: the type when
    it is Python's own or a class the submitted files define, and the innermost frames as file,
    line and function, each checked against the files' syntax trees (``verified_frames``)."""
    import builtins

    shape = source_shape(tuple(sources.values()), cache)
    name = exc.type_name
    builtin = isinstance(getattr(builtins, name, None), type) and issubclass(getattr(builtins, name), BaseException)
    error = name if builtin or name in shape.classes else "Exception"
    rows = [f'  File "{file}", line {line}, in {func}' for file, line, func in verified_frames(exc.traceback, shape)]
    return error, "\n".join(rows[-HIDDEN_FRAMES:])


class SourceShape:
    """What the submitted files define, read from their syntax trees (never by matching text,
    which would count comments and strings): class names, and for each file the lines of each
    function's or class's body."""

    def __init__(self) -> None:
        self.classes: set[str] = set()
        self.bodies: dict[str, dict[str, list[tuple[int, int]]]] = {}  # file -> name -> [(first, last)]
        self.lines: dict[str, int] = {}  # file -> its number of lines (parsed files only)


def parse_budget(sources: Iterable[tuple[str, bytes]]) -> Iterator[tuple[str, bytes]]:
    """The (display name, source) pairs the trusted side may parse, in order: Python's parser
    is quadratic on some sources (an f-string of 300,000 fields: 76 s for 900 KB), so only
    exercise-sized files, and no more in all than reading a submission checks."""
    from grader.notebook.sources import MAX_CHECKED_BYTES, MAX_CHECKED_FILE_BYTES

    parsed = 0
    for display, data in sources:
        if len(data) > MAX_CHECKED_FILE_BYTES or parsed + len(data) > MAX_CHECKED_BYTES:
            continue
        parsed += len(data)
        yield display, data


def source_shape(sources: tuple[tuple[str, bytes], ...], cache: dict[str, Any] | None = None) -> SourceShape:
    """Once per target when ``cache`` (the target's ``names_cache``, dropped with it) is given.
    Only exercise-sized files are parsed (the parser is slow on some crafted sources); the
    others give no locations."""
    if cache is not None and isinstance(cache.get("shape"), SourceShape):
        return cache["shape"]  # type: ignore[no-any-return]
    import ast

    shape = SourceShape()
    for display, data in parse_budget(sources):
        try:
            tree = ast.parse(data, display)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        bodies = shape.bodies.setdefault(display, {})
        shape.lines[display] = data.count(b"\n") + 1
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
                if isinstance(node, ast.ClassDef):
                    shape.classes.add(node.name)
                last = node.end_lineno or node.body[-1].lineno
                bodies.setdefault(node.name, []).append((node.body[0].lineno, last))
    if cache is not None:
        cache["shape"] = shape
    return shape


def verified_frames(traceback_text: str, shape: SourceShape) -> list[tuple[str, int, str]]:
    """The frames of a student traceback that a run of the submitted files could have made:
    the file is a submitted one, the function is a def or class its syntax tree has, and the
    line is in that function's body. Any other frame (code the student compiled at run time,
    a name or line it chose) is left out."""
    import re

    frames = []
    for row in (traceback_text or "").splitlines():
        match = _frame_pattern().match(row)
        if not match:
            continue
        func = re.search(r", in (\S+)\s*$", row)
        bodies = shape.bodies.get(match["file"], {})
        spans = bodies.get(func[1]) if func else None
        line = int(match["line"][:9])
        if spans and any(first <= line <= last for first, last in spans):
            frames.append((match["file"], line, func[1]))
    return frames


def vouched_stack(frames: list[tuple[str, int, str]], shape: SourceShape) -> list[tuple[str, int, str]]:
    """Frames (file, line, function) of a stuck worker's stack that the submitted files vouch
    for: the function is a def or class in the file's syntax tree and the line is in its body,
    or the frame is the module's own code at a line the file has."""
    return [
        (file, line, name)
        for file, line, name in frames
        if (name == "<module>" and 1 <= line <= shape.lines.get(file, 0))
        or any(first <= line <= last for first, last in shape.bodies.get(file, {}).get(name, ()))
    ]


def with_source_lines(traceback_text: str, sources: dict[str, tuple[str, bytes]]) -> str:
    """A student traceback (frames only: the worker has no files to read lines from) with the
    line of code under each frame, from the sources the trusted side sent."""
    out = []
    for row in traceback_text.splitlines():
        out.append(row)
        match = _frame_pattern().match(row)
        if match:
            code = _source_line(sources, match["file"], int(match["line"]))
            if code:
                out.append("    " + code)
    return "\n".join(out)


def _maybe_newer_syntax(err: SyntaxError) -> bool:
    """Could the line be valid in a newer Python (PEP 695 ``type``/generics, PEP 701 f-strings,
    a soft keyword)? Then the report says which Python grades the code."""
    import re

    line = (err.text or "").strip()
    newer = (
        r"^type\s+\w+.*=",  # type aliases (3.12)
        r"^(async\s+)?(def|class)\s+\w+\s*\[",  # generic functions and classes (3.12)
        r"""f(["']).*\{[^}]*\1""",  # an f-string reusing its quote inside (3.12)
    )
    return (err.msg or "").startswith("invalid syntax") or any(re.search(p, line) for p in newer)


def module_error(exc: StudentCodeError, sources: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
    """What a module that did not load did wrong, as Python prints it: for a syntax error the
    file, line, the line with a caret under the column and the message (compiled here, on the
    trusted side, which parses the source without running any of it); for an error raised
    while importing, the traceback with its lines of code and the exception."""
    import sys
    import traceback

    from grader.util.i18n import tr

    if exc.type_name in ("SyntaxError", "IndentationError", "TabError"):
        # the same limits as reading a submission: larger sources get the worker's words
        named_first = sorted(sources.values(), key=lambda src: src[0].rsplit("/", 1)[-1] not in exc.detail)
        for display, data in parse_budget(named_first):
            try:
                compile(data, display, "exec", dont_inherit=True)
            except SyntaxError as err:
                text = "".join(traceback.format_exception_only(type(err), err)).rstrip()
                version = ".".join(map(str, sys.version_info[:3]))
                return {
                    "kind": "module_error",
                    "file": display,
                    "line": err.lineno or 0,
                    "syntax": True,
                    "text": text[:4000],
                    "note": tr("fb.python_version", version=version) if _maybe_newer_syntax(err) else "",
                    "grader": True,  # the trusted side's own compile of a submitted file
                }
            except Exception:  # noqa: BLE001 - a source the parser cannot take at all: say what the worker said
                continue
    frames = with_source_lines(exc.traceback.rstrip(), sources) if exc.traceback else ""
    rows = [match for row in frames.splitlines() if (match := _frame_pattern().match(row))]
    last = rows[-1] if rows else None
    head = "Traceback (most recent call last):\n" if frames else ""
    return {
        "kind": "module_error",
        "file": last["file"] if last else str(sources.get(getattr(exc, "module", ""), ("?",))[0]),
        "line": int(last["line"]) if last else 0,
        "syntax": False,
        "text": (head + frames + ("\n" if frames else "") + exc.message)[:4000],
        "note": "",
    }


def hidden_module_error(exc: StudentCodeError, sources: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
    """A module load error as a hidden test may show it: the type and verified frames (with
    their lines from the submitted files), never the exception's text."""
    from grader.grading.shown import vouched

    error, frames = hidden_error(exc, sources)
    rows = [match for row in frames.splitlines() if (match := _frame_pattern().match(row))]
    last = rows[-1] if rows else None
    text = ("Traceback (most recent call last):\n" + with_source_lines(frames, sources) + "\n" if frames else "") + error
    return {
        "kind": "module_error",
        "file": vouched(last["file"] if last else str(sources.get(getattr(exc, "module", ""), ("?",))[0])),
        "line": int(last["line"]) if last else 0,
        "syntax": False,
        "text": vouched(text),
        "note": "",
        "error": error,
        "grader": True,
    }
