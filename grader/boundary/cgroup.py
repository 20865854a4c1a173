"""A memory cap the kernel counts in full: one cgroup per worker, where the grader may make one.

The address-space cap (RLIMIT_AS) counts what a process maps, not what it holds: memory
in a tmpfs or a detached shared segment escapes it, and TensorFlow's large reservations
make it loose. A cgroup's ``memory.max`` counts every page the worker is charged for. So
where this process can create cgroups below its own (cgroup v2 with the memory
controller delegated to it, or the v1 memory hierarchy), every worker gets one: made
by the trusted side with ``memory.max`` (v1: ``memory.limit_in_bytes``) and ``pids.max``
set, entered by the worker itself before it imports anything heavy (it is handed an open
``cgroup.procs`` and writes ``0``, which works from inside bubblewrap too: the kernel
checks the opener's rights), and removed once the worker has ended. Elsewhere the worker
falls back to RLIMIT_AS; its isolation line says which one it got.
"""

from __future__ import annotations

import functools
import os
import secrets
import time

PIDS_MAX = 512  # threads count as tasks (TensorFlow starts dozens); processes are refused anyway


def _mounts() -> list[tuple[str, str, str, str]]:
    """(mount root, mount point, fs type, super options) of every cgroup file system."""
    found = []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                fields, rest = left.split(), right.split()
                if len(fields) >= 5 and len(rest) >= 3 and rest[0] in ("cgroup", "cgroup2"):
                    found.append((fields[3], fields[4], rest[0], rest[2]))
    except OSError:
        pass
    return found


def _own_dirs() -> list[tuple[str, str]]:
    """(version, folder) of this process's own memory cgroup, v2 first."""
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as f:
            lines = [line.rstrip("\n").split(":", 2) for line in f]
    except OSError:
        return []
    out = []
    for root, point, fstype, options in _mounts():
        for parts in lines:
            if len(parts) != 3:
                continue
            _, controllers, path = parts
            if fstype == "cgroup2" and controllers == "":
                version = "v2"
            elif fstype == "cgroup" and "memory" in controllers.split(",") and "memory" in options.split(","):
                version = "v1"
            else:
                continue
            if not (path == root or path.startswith(root.rstrip("/") + "/")):
                continue
            folder = os.path.join(point, path[len(root):].lstrip("/"))
            out.append((version, folder))
    out.sort(key=lambda vf: vf[0] != "v2")
    return out


def _v2_ready(folder: str) -> bool:
    """The memory and pids controllers are (or can be) given to this folder's children."""
    try:
        with open(os.path.join(folder, "cgroup.subtree_control"), encoding="utf-8") as f:
            enabled = f.read().split()
        missing = [c for c in ("memory", "pids") if c not in enabled]
        if missing:
            with open(os.path.join(folder, "cgroup.subtree_control"), "w", encoding="utf-8") as f:
                f.write(" ".join("+" + c for c in missing))
        return True
    except OSError:
        return False


@functools.cache
def parent() -> tuple[str, str] | None:
    """(version, folder) under which worker cgroups can be made here, or None.
    ``GRADE_MEMORY_CGROUP=0`` in the environment asks for the address-space cap instead."""
    if os.environ.get("GRADE_MEMORY_CGROUP", "1").strip() == "0":
        return None
    for version, folder in _own_dirs():
        if not os.access(folder, os.W_OK):
            continue
        if version == "v2" and not _v2_ready(folder):
            continue
        try:
            group = WorkerCgroup.create(64, (version, folder))
        except OSError:
            continue
        group.close()
        return version, folder
    return None


def _write(folder: str, name: str, value: str) -> bool:
    try:
        with open(os.path.join(folder, name), "w", encoding="ascii") as f:
            f.write(value)
        return True
    except FileNotFoundError:
        return False


class WorkerCgroup:
    """One worker's cgroup: its limits set, an open ``cgroup.procs`` for the worker to join."""

    def __init__(self, version: str, folder: str, procs_fd: int, memory_mb: int) -> None:
        self.version = version
        self.folder = folder
        self.procs_fd = procs_fd
        self.memory_mb = memory_mb

    @classmethod
    def create(cls, memory_mb: int, where: tuple[str, str] | None = None) -> WorkerCgroup:
        version, base = where or parent() or (None, None)
        if version is None or base is None:
            raise OSError("no cgroup can be made here")
        folder = os.path.join(base, f"grade-worker-{os.getpid()}-{secrets.token_hex(6)}")
        os.mkdir(folder, 0o755)
        try:
            size = str(int(memory_mb) * 1024 * 1024)
            if version == "v2":
                if not _write(folder, "memory.max", size):
                    raise OSError("memory.max is missing: the memory controller is not enabled")
                _write(folder, "memory.swap.max", "0")
                _write(folder, "pids.max", str(PIDS_MAX))
            else:
                if not _write(folder, "memory.limit_in_bytes", size):
                    raise OSError("memory.limit_in_bytes is missing")
                try:
                    _write(folder, "memory.memsw.limit_in_bytes", size)  # no swapping past the cap
                except OSError:
                    pass
            fd = os.open(os.path.join(folder, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC)
        except OSError:
            _remove(folder)
            raise
        return cls(version, folder, fd, int(memory_mb))

    def oom_killed(self) -> bool:
        """The kernel killed a process of this cgroup for going past its memory cap."""
        name = "memory.events" if self.version == "v2" else "memory.oom_control"
        try:
            with open(os.path.join(self.folder, name), encoding="ascii") as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill" and value.strip().isdigit():
                        return int(value) > 0
        except OSError:
            pass
        return False

    def close(self) -> None:
        """Forget the worker's cgroup (its processes have ended by now)."""
        if self.procs_fd >= 0:
            os.close(self.procs_fd)
            self.procs_fd = -1
        _remove(self.folder)


def _remove(folder: str) -> None:
    # A killed worker may take a moment to leave: retry briefly, then leave it (empty, harmless).
    # (Polled finely: a killed worker usually leaves within a few milliseconds.)
    for attempt in range(100):
        try:
            os.rmdir(folder)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.002 if attempt < 50 else 0.018)
