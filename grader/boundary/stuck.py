"""Where a worker that ran out of time was stuck: its stack, written by ``faulthandler``
shortly before the deadline into a pipe, read by the trusted side after the worker is gone
(bounded), and the student's frames picked out of it."""

from __future__ import annotations

import os
import re

MAX_STACK = 64 * 1024  # bytes of a stuck worker's stack dump read
MAX_STACK_FRAMES = 50


def parse_stack(text: str, student_files: set[str]) -> list[tuple[str, int, str]]:
    """The student frames of the thread that serves requests, innermost first, from a
    ``faulthandler`` dump (``File "f.py", line 3 in name`` lines under a thread header). The
    serving thread is the one whose stack reaches the worker's own code."""
    frame = re.compile(r'^\s*File "(?P<file>[^"\n]{1,300})", line (?P<line>\d{1,9}) in (?P<name>\S{1,100})\s*$')
    threads: list[list[tuple[str, int, str]]] = [[]]
    for row in text.splitlines()[: 20 * MAX_STACK_FRAMES]:
        if row.startswith(("Thread 0x", "Current thread 0x", "Stack (most recent call first)")):
            threads.append([])
            continue
        match = frame.match(row)
        if match:
            threads[-1].append((match["file"], int(match["line"]), match["name"]))
    serving = [t for t in threads if any(f[0] == "<grader-worker>" for f in t)]
    chosen = serving[-1] if serving else []
    return [f for f in chosen if f[0] in student_files][:MAX_STACK_FRAMES]


def read_stack(fd: int, student_files: set[str]) -> list[tuple[str, int, str]]:
    """The frames of the student's files (as their display paths name them), innermost
    first, from the stack pipe's reading end ``fd`` (non-blocking; at most ``MAX_STACK``
    bytes; the student could have written anything there: the plugin checks each frame
    against the sources)."""
    data = b""
    while len(data) < MAX_STACK:
        try:
            chunk = os.read(fd, MAX_STACK - len(data))
        except (BlockingIOError, OSError):
            break
        if not chunk:
            break
        data += chunk
    return parse_stack(data.decode("utf-8", "replace"), student_files)
