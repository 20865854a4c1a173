"""What the worker may see of the file system: an allow-list, as one mount plan.

The plan names the few things a worker needs to run: the interpreter and its shared
library, the standard library, the system's shared libraries, and the packages it
imports (numpy and msgpack; TensorFlow/Keras and their dependencies for chapter 8),
each bound read-only at its own path; an empty private ``/tmp``; a minimal ``/dev``;
``/proc`` of its own PID namespace. Everything else -- the project tree, ``.git``,
solutions, other checkouts, home folders, submissions, ``/etc`` -- is simply not there.
Python package folders that ride along inside a bound folder (``site-packages`` of the
base interpreter, Debian's ``dist-packages``) are covered by empty folders first, and
only the allowed packages are bound back.

The same plan is carried out in three ways:

* by bubblewrap, where it is installed and usable (``bwrap_command``), with
  ``--unshare-all``, ``--cap-drop ALL`` and a user namespace mapping the worker to
  uid/gid 65534 (nobody), also when the grader runs as root;
* without bubblewrap, by the worker itself (``worker.enter_allow_list``): a private
  mount (and, when not root, user) namespace, a new root on a tmpfs holding the same
  binds, ``chroot``, then uid/gid 65534.

* without namespaces (root in a container under Docker's default profile: no
  CAP_SYS_ADMIN, but CAP_SYS_CHROOT, CAP_SETUID and CAP_SETGID), by a *jail*
  (``grader.boundary.jail``): the plan laid out once on disk, each worker using ``chroot``
  into it and becoming uid/gid 65534, with a ``/tmp`` folder of its own and no ``/proc``.

Where none of these can be had, isolation is *weak*: the report says so (and which
capability was missing) and ``grade collect`` refuses to run unless told
``--allow-weak-isolation``.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

from grader.util.errors import UsageError

MODES = ("auto", "bwrap", "none")
NOBODY = 65534
# Always in the worker's import path: the channel's codec needs msgpack, the suites numpy.
BASE_MODULES = ("numpy", "msgpack")
# The private /tmp is memory: capped, so a worker cannot fill the machine's memory with
# files (its address-space cap does not count them). Covering folders stay tiny.
TMP_BYTES = 64 * 1024 * 1024
COVER_BYTES = 64 * 1024


# --- the plan ---------------------------------------------------------------------------


def _real(path: str) -> str:
    return os.path.realpath(path)


def interpreter() -> str:
    """The real interpreter binary (a venv's python is a symlink to it): the worker runs
    it directly, so the venv itself need not be visible."""
    return _real(sys.executable)


def _module_site(name: str) -> str | None:
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
        return None
    origin = _real(spec.origin)
    # a package's __init__.py: its folder's parent; a single-file module: its folder
    return os.path.dirname(os.path.dirname(origin)) if spec.submodule_search_locations else os.path.dirname(origin)


def _entries_of(name: str, site: str) -> list[str]:
    """A module's own entries in its site folder: the package, its vendored shared
    libraries (``numpy.libs``) and its metadata."""
    found = [p for p in (os.path.join(site, name), os.path.join(site, name + ".py")) if os.path.exists(p)]
    found += [p for p in glob.glob(os.path.join(site, name + ".libs")) if os.path.isdir(p)]
    found += glob.glob(os.path.join(site, glob.escape(name) + "-*.dist-info"))
    return found


@functools.cache
def _closure_entries(roots: tuple[str, ...]) -> tuple[str, ...]:
    """Top-level entries of the distributions that provide ``roots`` and of everything
    they require (from the installed metadata; extras are left out)."""
    from importlib import metadata

    def key(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    seen: set[str] = set()
    todo = list(roots)
    entries: set[str] = set()
    while todo:
        name = todo.pop()
        if key(name) in seen:
            continue
        seen.add(key(name))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        # one realpath per top-level entry, not per file (TensorFlow lists ~20,000 files)
        tops = {file.parts[0] for file in dist.files or [] if file.parts}
        for top in tops:
            if top and top != ".." and not top.endswith(".pth"):
                entries.add(_real(str(dist.locate_file(top))))
        for req in dist.requires or []:
            if "extra ==" in req.replace("extra==", "extra =="):
                continue
            m = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", req)
            if m:
                todo.append(m.group(0))
    return tuple(sorted(e for e in entries if os.path.exists(e)))


def _distribution_names(module: str) -> list[str]:
    """Distribution names to try for an importable module (tensorflow may be tensorflow-cpu)."""
    return [module, module + "-cpu", module.replace("_", "-")]


def package_entries(needs: tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
    """(entries to bind, import paths) for the base modules and a chapter's needs."""
    binds: list[str] = []
    paths: list[str] = []
    for name in BASE_MODULES:
        site = _module_site(name)
        if site is None:
            continue
        binds += _entries_of(name, site)
        if site not in paths:
            paths.append(site)
    if needs:
        roots = []
        for name in needs:
            site = _module_site(name)
            if site is None:
                continue
            if site not in paths:
                paths.append(site)
            roots += _distribution_names(name)
        binds += _closure_entries(tuple(roots))
    seen: list[str] = []
    for p in binds:
        if p not in seen:
            seen.append(p)
    return seen, paths


def _python_package_dirs(folder: str) -> list[str]:
    """Folders of third-party packages inside a folder the plan binds whole."""
    found = []
    for pattern in ("site-packages", "dist-packages", "python3*/site-packages", "python3*/dist-packages"):
        found += [p for p in glob.glob(os.path.join(folder, pattern)) if os.path.isdir(p) and not os.path.islink(p)]
    return found


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


@functools.cache
def _runtime_plan() -> tuple[tuple[str, ...], ...]:
    """The part of the plan that is the same for every chapter."""
    plan: list[tuple[str, ...]] = []
    bound: list[str] = []
    # System shared libraries (libc, libm, libstdc++ for TensorFlow...): the folders, or
    # the symlinks a merged /usr has in their place.
    for folder in ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/lib32", "/usr/lib32"):
        if os.path.islink(folder):
            plan.append(("symlink", os.readlink(folder), folder))
        elif os.path.isdir(folder):
            plan.append(("ro-bind", folder, folder))
            bound.append(folder)
    exe = interpreter()
    plan.append(("ro-bind", exe, exe))
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    ldlib = sysconfig.get_config_var("LDLIBRARY") or ""
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and libdir and ldlib:
        for lib in sorted(glob.glob(os.path.join(libdir, glob.escape(ldlib) + "*"))):
            lib = _real(lib)
            if not any(_under(lib, b) for b in bound):
                plan.append(("ro-bind", lib, lib))
    for folder in (sysconfig.get_path("stdlib"), sysconfig.get_config_var("DESTSHARED")):
        if folder and os.path.isdir(folder):
            real = _real(folder)
            if not any(_under(real, b) for b in bound):
                plan.append(("ro-bind", real, real))
                bound.append(real)
    if os.path.isfile("/etc/ld.so.cache"):
        plan.append(("ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"))
    # Third-party packages that ride along inside a bound folder are covered; the
    # allowed ones are bound back by the caller.
    for folder in bound:
        for pkgs in _python_package_dirs(folder):
            plan.append(("tmpfs", str(COVER_BYTES), pkgs))
    return tuple(plan)


def plan(needs: tuple[str, ...] = ()) -> tuple[list[tuple[str, ...]], list[str]]:
    """(mount plan, import paths) for a worker of a chapter with these needs.

    Steps, in order: ``("tmpfs", size, path)``, ``("dev", path)``, ``("proc", path)``,
    ``("ro-bind", source, path)``, ``("symlink", target, path)`` and ``("remount-ro", path)``.
    Every folder the plan makes to hold a bind ends read-only; the one writable place is
    the private ``/tmp``."""
    entries, paths = package_entries(needs)
    runtime = list(_runtime_plan()) + [("ro-bind", e, e) for e in entries]
    # /tmp first. A runtime that lives under /tmp (a fresh clone's venv) gets a folder of
    # its own there, /tmp/<top>, made to hold its binds and then frozen: /tmp stays
    # writable, the way to the runtime does not.
    holders = sorted({
        "/tmp/" + parts[2]
        for step in runtime
        if step[0] != "tmpfs" and len(parts := Path(step[-1]).parts) > 3 and parts[1] == "tmp"
    })
    steps: list[tuple[str, ...]] = [("tmpfs", str(TMP_BYTES), "/tmp"), ("dev", "/dev"), ("proc", "/proc")]
    steps += [("tmpfs", str(COVER_BYTES), holder) for holder in holders]
    steps += runtime
    # The covering folders now hold the allowed packages' mount points: they freeze too.
    steps += [("remount-ro", step[-1]) for step in runtime if step[0] == "tmpfs"]
    steps += [("remount-ro", holder) for holder in holders]
    return steps, paths


# --- bubblewrap ---------------------------------------------------------------------------


def _bwrap_base() -> list[str]:
    return [
        "--die-with-parent",
        "--unshare-all",
        "--unshare-user",
        "--uid", str(NOBODY),
        "--gid", str(NOBODY),
        "--cap-drop", "ALL",
        "--new-session",
    ]  # fmt: skip


@functools.cache
def bwrap_path() -> str | None:
    """The bubblewrap this process probes and runs (the first on its PATH), or None."""
    return shutil.which("bwrap")


@functools.cache
def _bwrap_has_size() -> bool:
    """bubblewrap 0.7 and later cap a tmpfs (``--size``); older ones leave it at half the memory."""
    try:
        text = subprocess.run([bwrap_path() or "bwrap", "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--size" in text


_PROBE_LOCK = threading.Lock()


def bwrap_works() -> bool:
    """bwrap is installed and can create its namespaces here (containers may forbid it).
    Asked once per process (a probe sandbox that runs the interpreter: ~40 ms)."""
    with _PROBE_LOCK:
        return _bwrap_probe()


@functools.cache
def _bwrap_probe() -> bool:
    exe = bwrap_path()
    if exe is None:
        return False
    steps, _ = plan()
    try:
        probe = subprocess.run(
            [exe, *_bwrap_base(), *_bwrap_plan_args(steps), "--", interpreter(), "-I", "-S", "-c", "pass"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _bwrap_plan_args(steps: list[tuple[str, ...]]) -> list[str]:
    args: list[str] = []
    for step in steps:
        kind = step[0]
        if kind == "ro-bind":
            args += ["--ro-bind", step[1], step[2]]
        elif kind == "symlink":
            args += ["--symlink", step[1], step[2]]
        elif kind == "tmpfs":
            args += (["--size", step[1]] if _bwrap_has_size() else []) + ["--tmpfs", step[2]]
        elif kind == "remount-ro":
            args += ["--remount-ro", step[1]]
        elif kind == "dev":
            args += ["--dev", step[1]]
        elif kind == "proc":
            args += ["--proc", step[1]]
    return args


def bwrap_command(command: list[str], steps: list[tuple[str, ...]]) -> list[str]:
    # Once everything is in place, the root and /dev become read-only too: only /tmp
    # can be written (workers forked from one fork server share this sandbox, and the
    # fork server empties it after each), so nothing one submission writes can shadow
    # a module or reach the next.
    return [
        bwrap_path() or "bwrap", *_bwrap_base(), *_bwrap_plan_args(steps),
        "--remount-ro", "/dev", "--remount-ro", "/",
        "--chdir", "/", "--", *command,
    ]  # fmt: skip


# --- choosing -------------------------------------------------------------------------------


def choose_without_waiting(mode: str) -> tuple[str, bool]:
    """``choose``'s answer without waiting for the probe: for "auto" where bubblewrap is
    installed and this process has not probed it yet, ("bwrap", True), True meaning "not
    verified" (bubblewrap asked for by name is probed first, and refused plainly).

    A worker started that way is its own probe: bubblewrap that cannot make its namespaces
    exits before the worker says it is ready, and the caller then probes and starts the
    worker again with ``choose``'s answer. So a check that gets bubblewrap does not wait for
    (or share its two CPUs with) a probe sandbox, and one that cannot still gets exactly
    what ``choose`` gives."""
    if mode == "auto" and _bwrap_probe.cache_info().currsize == 0 and bwrap_path() is not None:
        return "bwrap", True
    return choose(mode), False


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


@functools.cache
def namespaces_work() -> bool:
    """The kernel lets this process make a private mount namespace (with a user
    namespace when not root): what the worker's own allow-list needs without bwrap."""
    import ctypes
    import tempfile

    scratch = tempfile.mkdtemp(prefix="grade-probe-")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            # CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC [| CLONE_NEWUSER], as the worker asks;
            # then a private tmpfs (some kernels give the namespace but no right to mount)
            flags = 0x00020000 | 0x40000000 | 0x08000000 | (0x10000000 if os.geteuid() != 0 else 0)
            if libc.unshare(flags) == 0 and libc.mount(None, b"/", None, (1 << 14) | (1 << 18), None) == 0:
                code = 0 if libc.mount(b"tmpfs", scratch.encode(), b"tmpfs", 6, b"size=4k") == 0 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    os.rmdir(scratch)
    return os.waitstatus_to_exitcode(status) == 0


_CAPS = {"CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SYS_CHROOT": 18}


def _effective_caps() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return 0


@functools.cache
def jail_missing() -> str | None:
    """Why a chroot jail cannot be had here (the missing capability), or None when it can:
    a child process ``chroot``s into an empty folder and becomes uid/gid 65534."""
    if os.geteuid() != 0:
        return f"root (the grader runs as uid {os.geteuid()}; chroot and setuid need root)"
    caps = _effective_caps()
    missing = [name for name, bit in _CAPS.items() if not caps >> bit & 1]
    if missing:
        return " and ".join(missing)
    import ctypes
    import tempfile

    scratch = tempfile.mkdtemp(prefix="grade-probe-")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.chroot(scratch.encode()) == 0:
                os.chdir("/")
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
                code = 0
        except OSError:
            code = 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    os.rmdir(scratch)
    return None if os.waitstatus_to_exitcode(status) == 0 else "CAP_SYS_CHROOT (chroot was refused)"


def strength(mode: str) -> str:
    """'bwrap', 'namespaces', 'jail' or 'weak': what a worker started with ``mode`` will get."""
    chosen = choose(mode)
    if chosen == "bwrap":
        return "bwrap"
    if namespaces_work():
        return "namespaces"
    return "jail" if jail_missing() is None else "weak"
