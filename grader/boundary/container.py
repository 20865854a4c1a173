"""The memory a container gives the grader, and the worker's cap fitted under it.

The worker's memory cap (``RLIMIT_AS``, per chapter from the catalog: 1024 MB, chapter 8
4096 MB) must stay below the container's own limit: above it the kernel's OOM killer ends
the container's biggest process, the grader itself as likely as the student's code, and no
result is written (Gradescope's default machine has 768 MB). The container's limit is its
cgroup's ``memory.max`` (cgroup v2) or ``memory.limit_in_bytes`` (v1), the smallest on the
way from this process's cgroup up to the root; ``GRADE_MEMORY_LIMIT_MB`` stands in for it
(a lower figure only: it can never raise the cap). Stdlib only.
"""

from __future__ import annotations

import os
from pathlib import Path

CGROUP_MOUNT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
RESERVE_MB = 256  # the grader's own share under the limit: pytest, the fork server, page cache
MIN_CAP_MB = 256  # below this no worker starts (Python with numpy); never cap lower
_UNLIMITED = 1 << 60  # v1 writes 9223372036854771712 for "no limit"


def _read_limit(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text or text == "max":
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return value if 0 < value < _UNLIMITED else None


def _candidates(mount: Path, proc_cgroup: Path) -> list[Path]:
    """The limit files that can bound this process: its cgroup's and every parent's, for
    v2 (``0::/path``) and v1's memory controller (``N:memory:/path``), under the mount and
    the mount's own root (a container sees its cgroup as ``/``, or under its host path)."""
    try:
        lines = proc_cgroup.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    files: list[Path] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        if controllers == "":
            bases, name = [mount, mount / "unified"], "memory.max"
        elif "memory" in controllers.split(","):
            bases, name = [mount / "memory", mount / controllers], "memory.limit_in_bytes"
        else:
            continue
        segments = [s for s in rel.strip().split("/") if s and s != ".."]
        for base in bases:
            for i in range(len(segments), -1, -1):
                files.append(base.joinpath(*segments[:i]) / name)
    for base, name in ((mount, "memory.max"), (mount / "memory", "memory.limit_in_bytes")):
        files.append(base / name)
    seen: set[Path] = set()
    return [f for f in files if not (f in seen or seen.add(f))]  # type: ignore[func-returns-value]


def container_limit_mb(mount: Path = CGROUP_MOUNT, proc_cgroup: Path = PROC_CGROUP) -> int | None:
    """The container's memory limit in MB (``GRADE_MEMORY_LIMIT_MB`` or the cgroup's,
    whichever is lower), or None where nothing limits it."""
    found = [v for v in (_read_limit(f) for f in _candidates(mount, proc_cgroup)) if v is not None]
    limit = min(found) // (1024 * 1024) if found else None
    override = os.environ.get("GRADE_MEMORY_LIMIT_MB", "").strip()
    if override.isdigit() and int(override) > 0:
        limit = min(limit, int(override)) if limit is not None else int(override)
    return limit


def fit_memory_mb(wanted_mb: int | None, limit_mb: int | None = None) -> int | None:
    """The worker's memory cap: the chapter's ``wanted_mb`` lowered to leave ``RESERVE_MB``
    for the grader under the container's limit (never below ``MIN_CAP_MB``). None (no cap)
    becomes the fitted figure where a limit exists."""
    limit = container_limit_mb() if limit_mb is None else limit_mb
    if limit is None:
        return wanted_mb
    room = max(MIN_CAP_MB, limit - RESERVE_MB)
    return room if wanted_mb is None else min(wanted_mb, room)
