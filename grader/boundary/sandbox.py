"""OS sandbox around the worker: bubblewrap where the machine has it.

bwrap is started with ``--cap-drop ALL`` and a user namespace (when it runs as root it
would otherwise keep full privileges), no network, a private /tmp and every grader
path hidden under an empty tmpfs: the worker receives its student sources over the
channel, so it needs nothing of ours on disk.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

from grader.errors import UsageError

MODES = ("auto", "bwrap", "none")


@functools.cache
def bwrap_works() -> bool:
    """bwrap is installed and can create its namespaces here (containers may forbid it)."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False
    try:
        probe = subprocess.run(
            [exe, *_base_args(), "--", "/bin/true"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _base_args() -> list[str]:
    return [
        "--die-with-parent",
        "--unshare-all",
        "--cap-drop",
        "ALL",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
    ]


def choose(mode: str) -> str:
    if mode not in MODES:
        raise UsageError(f"Unknown sandbox '{mode}': use one of {', '.join(MODES)}.")
    if mode == "none":
        return "none"
    if bwrap_works():
        return "bwrap"
    if mode == "bwrap":
        raise UsageError("The bubblewrap sandbox was requested but 'bwrap' is not usable on this machine.")
    return "none"


def needed_paths(import_paths: list[str]) -> list[str]:
    """What the worker must still see: the interpreter, its prefixes and import paths."""
    import sys
    import sysconfig

    paths = [
        os.path.dirname(sys.executable),
        os.path.dirname(os.path.realpath(sys.executable)),
        sys.prefix,
        sys.base_prefix,
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["platstdlib"],
        *import_paths,
    ]
    seen: list[str] = []
    for p in paths:
        real = os.path.realpath(p)
        for candidate in (os.path.abspath(p), real):
            if candidate not in seen and os.path.exists(candidate):
                seen.append(candidate)
    return seen


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def safe_hides(hide: list[str], keep: list[str]) -> list[str]:
    """Hide paths that do not cover anything the worker needs (used without bwrap,
    where a covered path cannot be brought back)."""
    result = []
    for path in hide:
        real = os.path.realpath(path)
        if real != "/" and os.path.isdir(real) and not any(_inside(k, real) for k in keep):
            result.append(real)
    return result


def bwrap_command(command: list[str], hide: list[str], workdir: str, keep: list[str]) -> list[str]:
    args = ["bwrap", *_base_args()]
    hidden = []
    for path in hide:
        real = os.path.realpath(path)
        if os.path.isdir(real) and real != "/":
            args += ["--tmpfs", real]
            hidden.append(real)
    # A hidden folder that holds the interpreter (a venv under /tmp, say) gets it back, read-only.
    for path in keep:
        if any(_inside(path, h) for h in hidden + ["/tmp"]):
            args += ["--ro-bind", path, path]
    args += ["--chdir", "/"]
    return [*args, "--", *command]
