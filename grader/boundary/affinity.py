"""One CPU for the grader and a student's worker while they talk.

A check is a conversation: the grader sends a request and waits, the worker answers and
waits. On two CPUs every message wakes a process on the other CPU, and in a virtual machine
that wake-up is an interrupt between CPUs: about 50 µs per round trip here, against 7 µs
when both processes share one CPU. So once a worker is ready (it imports numpy in parallel
with pytest's collection first), the grader's thread and the worker move to the CPU the
grader is on, and the grader's thread is released when the worker is gone; other processes
(another chapter's session, the next batch) keep the other CPUs. Only for numpy chapters:
TensorFlow's are left to the scheduler.
"""

from __future__ import annotations

import os


def current_cpu() -> int | None:
    """The CPU this process last ran on (``/proc/self/stat``, field 39), or None."""
    try:
        with open("/proc/self/stat", "rb") as f:
            data = f.read()
        return int(data.rsplit(b")", 1)[1].split()[36])
    except (OSError, ValueError, IndexError):
        return None


class Pin:
    """The calling thread's CPU affinity, narrowed to one CPU and given back (to that thread,
    whichever thread gives it back: a worker may be closed from another thread)."""

    def __init__(self) -> None:
        self.saved: set[int] | None = None
        self.thread = 0  # the pinned thread's id for the kernel (0: none)

    def narrow(self) -> int | None:
        """Keep the calling thread on the CPU it is on; that CPU, or None where it cannot be
        done (one CPU allowed anyway, no ``sched_setaffinity``, refused)."""
        if self.saved is not None or not hasattr(os, "sched_setaffinity"):
            return None
        import threading

        thread = threading.get_native_id()
        try:
            allowed = os.sched_getaffinity(thread)
            cpu = current_cpu()
            if cpu is None or cpu not in allowed or len(allowed) < 2:
                return None
            os.sched_setaffinity(thread, {cpu})
        except OSError:
            return None
        self.saved, self.thread = allowed, thread
        return cpu

    def release(self) -> None:
        saved, self.saved = self.saved, None
        if saved is not None:
            try:
                os.sched_setaffinity(self.thread, saved)
            except OSError:  # the thread has ended
                pass
