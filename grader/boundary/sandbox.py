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


def bwrap_command(command: list[str], hide: list[str], workdir: str) -> list[str]:
    args = ["bwrap", *_base_args()]
    for path in hide:
        if os.path.isdir(path) and path != "/":
            args += ["--tmpfs", os.path.realpath(path)]
    args += ["--chdir", "/"]
    return [*args, "--", *command]
