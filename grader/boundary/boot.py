"""How a worker process starts: the bootstrap a fresh ``python -I -S`` runs, the frame it
reads (import paths and the codec's, confinement's and worker's sources: nothing of any student's), the
environment it gets, and ``WorkerConfig``, what one worker is allowed. Used by the channel
(a worker of its own) and the fork server (workers forked from one started this way)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent

# Both bootstraps (BOOTSTRAP here, the fork server's ZYGOTE) run this once they hold the boot
# frame as ``boot``: the import paths, then the codec and confinement as modules of their own.
INSTALL_HELPERS = """
sys.path[:0] = boot['paths']
m = types.ModuleType('_grader_codec')
exec(compile(boot['codec'], '<grader-codec>', 'exec'), m.__dict__)
sys.modules['_grader_codec'] = m
c = types.ModuleType('_grader_confine')
exec(compile(boot['confine'], '<grader-confine>', 'exec'), c.__dict__)
sys.modules['_grader_confine'] = c
"""

# Runs as `python -I -S -c BOOTSTRAP RFD WFD SFD CGFD` (CGFD: its cgroup's cgroup.procs, or -1): reads one JSON frame with the import
# paths and the codec and worker sources, then runs the worker, which reads its own
# configuration (the student's sources, limits, mount plan) as the next frame. SFD is
# where the worker writes its stack when a request nears its deadline.
BOOTSTRAP = """
import os, sys, json, struct, types
r, w = int(sys.argv[1]), int(sys.argv[2])
def _read(n):
    b = b''
    while len(b) < n:
        c = os.read(r, n - len(b))
        if not c:
            os._exit(3)
        b += c
    return b
boot = json.loads(_read(struct.unpack('>I', _read(4))[0]))
""" + INSTALL_HELPERS + """g = {'__name__': '__grader_worker__', 'READ_FD': r, 'WRITE_FD': w, 'STACK_FD': int(sys.argv[3]),
     'CGROUP_FD': int(sys.argv[4])}
code = compile(boot['worker'], '<grader-worker>', 'exec')
del boot, m, c
exec(code, g)
"""

STUDENT_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    # TensorFlow: one thread per pool (2-core machines, reproducible sums) and no
    # oneDNN rewrites (faster start here, the same numbers run after run).
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "LANG": "C.UTF-8",
}




@dataclass
class WorkerConfig:
    sources: dict[str, tuple[str, bytes]]  # module name -> (path shown in tracebacks, source)
    memory_mb: int | None = 1024  # memory cap (the worker's cgroup, else its address space); None for no cap
    cpu_s: int | None = 120  # CPU seconds for the worker's whole life
    output_bytes: int = 4 * 1024 * 1024  # what the student may print
    call_timeout: float = 10.0  # wall seconds for one request
    startup_timeout: float = 30.0
    sandbox: str = "auto"  # "auto" (bwrap when present), "bwrap", "none" (the worker's own namespaces)
    seccomp: bool = True
    needs: tuple[str, ...] = ()  # heavy packages the worker may see and import (e.g. tensorflow)
    preload: list[str] = field(default_factory=list)  # modules imported before the limits (e.g. keras)
    share_cpu: bool = False  # once ready, the worker and the grader's thread keep to one CPU (affinity.py)


def boot_frame(import_paths: list[str]) -> dict[str, Any]:
    """What a fresh interpreter needs to become a worker (or a fork server): import
    paths and the codec's, confinement's and worker's sources. Nothing of any student's."""
    return {
        "paths": import_paths,
        "codec": (_HERE / "codec.py").read_text(encoding="utf-8"),
        "worker": (_HERE / "worker.py").read_text(encoding="utf-8"),
        "confine": (_HERE / "confine.py").read_text(encoding="utf-8"),
    }


def student_env() -> dict[str, str]:
    """The whole environment of a worker: nothing of the grader's own passes; its home
    and temporary folder are the private /tmp, the plan's one writable place."""
    return {**STUDENT_ENV, "PATH": "/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp"}
