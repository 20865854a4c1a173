"""The jail: the worker's allow-listed runtime laid out once in a folder, for ``chroot``.

Root in a container under Docker's default profile has neither bubblewrap nor
namespaces (no CAP_SYS_ADMIN; seccomp refuses unshare, mount, setns, pivot_root), but it
keeps CAP_SYS_CHROOT, CAP_SETUID and CAP_SETGID. There the worker's mount plan is
carried out once, on disk: every file the plan binds is hard-linked (copied where the
file system refuses a link, or where the file is not root's) to the same path under a
jail folder, folders the plan covers stay empty, ``/proc`` is no file system but a
folder holding ``/proc/self/exe`` (a link to the interpreter) and ``/proc/self/cmdline``
(naming only the interpreter), which TensorFlow reads to find itself, and
``/dev`` holds the few device nodes the plan names. Each worker then ``chroot``s into the jail,
drops to uid/gid 65534 and works in an empty ``/tmp/<random>`` of its own, made by the
trusted side (mode 0700, owned by nobody) and removed after it; the jail's ``/tmp`` can
be searched but not listed or written. The same seccomp filter and limits follow.

The jail is built on first use (or with ``python -m grader.cli.jail``), kept under
``/var/cache/dl-grade/jails/<key>`` (``GRADE_JAIL_DIR`` elsewhere), where the key is a
hash of what the plan binds (paths, and each source's inode, size and time): a changed
runtime gets a new jail. ``manifest.json`` records the sha256 of every file; before a
jail is used, each entry is checked against it (root's, not writable by others, the
same inode and size), ``--verify`` hashes every file's content again and ``--prune``
removes jails of runtimes no longer in use. Everything in
the jail is root's and read-only to the worker.

System library folders (``/usr/lib``...) are bound whole by bubblewrap; the jail takes
only their shared libraries (``*.so*``), which is all a worker loads from them.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import secrets
import shutil
import stat
from pathlib import Path

from grader.boundary import sandbox

NOBODY = sandbox.NOBODY
SYSTEM_LIB_FOLDERS = ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/lib32", "/usr/lib32")
DEFAULT_BASE = "/var/cache/dl-grade/jails"
_DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9)}
MANIFEST = "manifest.json"
FORMAT = 1


def base_dir() -> Path:
    return Path(os.environ.get("GRADE_JAIL_DIR") or DEFAULT_BASE)


# --- what the jail holds ------------------------------------------------------------------


def _is_library(name: str) -> bool:
    return name.endswith(".so") or ".so." in name


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def entries(steps: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The jail's contents for a mount plan, in creation order:
    ``("dir", path)``, ``("file", source, path)``, ``("symlink", target, path)``,
    ``("text", content, path)``, ``("dev", path)`` and ``("tmp", path)``."""
    covers = [s[-1] for s in steps if s[0] == "tmpfs" and s[-1] != "/tmp"]
    out: list[tuple[str, ...]] = []
    for step in steps:
        kind = step[0]
        if kind == "ro-bind":
            source, target = step[1], step[2]
            libraries_only = target in SYSTEM_LIB_FOLDERS
            if os.path.isdir(source) and not os.path.islink(source):
                out += _walk(source, target, covers, libraries_only)
            elif os.path.isfile(source):
                out.append(("file", os.path.realpath(source), target))
        elif kind == "symlink":
            out.append(("symlink", step[1], step[2]))
        elif kind == "dev":
            out.append(("dev", step[1]))
        elif kind == "tmpfs" and step[-1] == "/tmp":
            out.append(("tmp", "/tmp"))
        elif kind == "proc":
            # No /proc file system: only what TensorFlow reads to find its own path (the
            # interpreter's, and a command line that names nothing but the interpreter)
            out += [("dir", "/proc"), ("dir", "/proc/self"), ("symlink", sandbox.interpreter(), "/proc/self/exe"),
                    ("text", sandbox.interpreter() + "\0", "/proc/self/cmdline")]
        # covering tmpfs: the folder stays empty
    seen: set[str] = set()
    unique = []
    for entry in out:
        if entry[-1] not in seen:
            seen.add(entry[-1])
            unique.append(entry)
    return unique


def _walk(source: str, target: str, covers: list[str], libraries_only: bool) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = [("dir", target)]
    for folder, dirs, files in os.walk(source):
        rel = os.path.relpath(folder, source)
        here = target if rel == "." else os.path.join(target, rel)
        kept = []
        for name in sorted(dirs):
            path = os.path.join(here, name)
            if any(path == c and not _under(target, c) for c in covers):
                found.append(("dir", path))  # covered: present, empty
                continue
            if os.path.islink(os.path.join(folder, name)):
                if not libraries_only:
                    found.append(("symlink", os.readlink(os.path.join(folder, name)), path))
                continue
            kept.append(name)
            if not libraries_only:
                found.append(("dir", path))
        dirs[:] = kept
        for name in sorted(files):
            if libraries_only and not _is_library(name):
                continue
            src, path = os.path.join(folder, name), os.path.join(here, name)
            if libraries_only:  # the folders on the way to a library
                for parent in _parents(path, target):
                    found.append(("dir", parent))
            if os.path.islink(src):
                found.append(("symlink", os.readlink(src), path))
            elif os.path.isfile(src):
                found.append(("file", src, path))
    return found


def _parents(path: str, top: str) -> list[str]:
    parts = []
    parent = os.path.dirname(path)
    while _under(parent, top) and parent != top:
        parts.append(parent)
        parent = os.path.dirname(parent)
    return list(reversed(parts))


def _identity(items: list[tuple[str, ...]]) -> str:
    h = hashlib.sha256(f"jail format {FORMAT}\n".encode())
    for entry in items:
        h.update("\0".join(entry).encode("utf-8", "surrogateescape"))
        if entry[0] == "file":
            try:
                st = os.stat(entry[1])
                h.update(f"\0{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}".encode())
            except OSError:
                h.update(b"\0missing")
        h.update(b"\n")
    return h.hexdigest()[:24]


# --- building -------------------------------------------------------------------------------


def _hash_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _inside(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def _place_file(source: str, dest: str) -> None:
    """A hard link to ``source`` where it is root's and nobody else may write it, else a
    root-owned, read-only copy."""
    st = os.stat(source)
    if st.st_uid == 0 and not st.st_mode & 0o022:
        try:
            os.link(source, dest)
            return
        except OSError:
            pass  # another file system, or links refused: copy
    shutil.copyfile(source, dest, follow_symlinks=True)
    os.chown(dest, 0, 0)
    os.chmod(dest, 0o755 if st.st_mode & 0o111 else 0o644)


def _build_into(root: str, items: list[tuple[str, ...]]) -> dict[str, list]:
    files: dict[str, list] = {}
    os.makedirs(root, mode=0o755)
    for entry in items:
        kind, path = entry[0], entry[-1]
        dest = _inside(root, path)
        os.makedirs(os.path.dirname(dest), mode=0o755, exist_ok=True)
        if kind == "dir":
            os.makedirs(dest, mode=0o755, exist_ok=True)
        elif kind == "file":
            if os.path.lexists(dest):
                continue
            _place_file(entry[1], dest)
            st = os.lstat(dest)
            files[path] = [_hash_file(dest), st.st_size, st.st_ino]
        elif kind == "symlink":
            if not os.path.lexists(dest):
                os.symlink(entry[1], dest)
        elif kind == "text":
            with open(dest, "x", encoding="utf-8") as f:
                f.write(entry[1])
            os.chmod(dest, 0o444)
            st = os.lstat(dest)
            files[path] = [_hash_file(dest), st.st_size, st.st_ino]
        elif kind == "dev":
            os.makedirs(dest, mode=0o755, exist_ok=True)
            for name, (major, minor) in _DEVICES.items():
                try:
                    os.mknod(os.path.join(dest, name), 0o666 | stat.S_IFCHR, os.makedev(major, minor))
                    os.chmod(os.path.join(dest, name), 0o666)
                except OSError:
                    pass  # no CAP_MKNOD: a /dev without it (Python needs none of them)
        elif kind == "tmp":
            os.makedirs(dest, exist_ok=True)
            os.chmod(dest, 0o711)  # each worker's own folder is reachable, the list is not
    for folder, dirs, _ in os.walk(root):
        for name in dirs:
            path = os.path.join(folder, name)
            if not os.path.islink(path) and os.path.relpath(path, root) != "tmp":
                os.chown(path, 0, 0)
                os.chmod(path, 0o755)
    os.chown(root, 0, 0)
    os.chmod(root, 0o755)
    return files


def _check(jail: Path, manifest: dict, full: bool = False) -> str | None:
    """None when the jail is what its manifest says, else what is wrong."""
    root = jail / "root"
    for folder in (jail, root):
        st = os.lstat(folder)
        if st.st_uid != 0 or st.st_mode & 0o022 or not stat.S_ISDIR(st.st_mode):
            return f"{folder} is not root's read-only folder"
    st = os.lstat(root / "tmp")
    if st.st_uid != 0 or stat.S_IMODE(st.st_mode) != 0o711:
        return "its /tmp is not root's with mode 0711"
    for path, (digest, size, ino) in manifest["files"].items():
        dest = _inside(str(root), path)
        try:
            st = os.lstat(dest)
        except OSError:
            return f"{path} is missing"
        if not stat.S_ISREG(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
            return f"{path} is not a root-owned read-only file"
        if st.st_size != size or st.st_ino != ino:
            return f"{path} changed"
        if full and _hash_file(dest) != digest:
            return f"{path}: its content hash differs from the manifest"
    return None


@contextlib.contextmanager
def _lock(base: Path):
    fd = os.open(base / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _prepare_base(base: Path) -> None:
    """The jails' folder, and every folder above it, is root's and nobody else can write
    it (or, like /tmp, it is sticky: nobody can move root's entries)."""
    base.mkdir(parents=True, exist_ok=True, mode=0o755)
    st = os.lstat(base)
    if st.st_uid != 0 or st.st_mode & 0o022 or not stat.S_ISDIR(st.st_mode):
        raise OSError(f"{base} must be a folder of root's that nobody else can write")
    for parent in Path(os.path.realpath(base)).parents:
        st = os.lstat(parent)
        if st.st_uid != 0 or (st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX):
            raise OSError(f"{parent} (above the jails) can be changed by others than root")


def ensure(needs: tuple[str, ...] = ()) -> str:
    """The jail's root folder for a chapter with these needs: checked, or built now."""
    return _ensure(tuple(needs))


@functools.cache
def _ensure(needs: tuple[str, ...]) -> str:
    steps, _ = sandbox.plan(needs)
    items = entries(steps)
    key = _identity(items)
    base = base_dir()
    _prepare_base(base)
    jail = base / key
    with _lock(base):
        problem = _load_and_check(jail)
        if problem is None:
            return str(jail / "root")
        if jail.exists():
            shutil.rmtree(jail)
        scratch = base / f".build-{key}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            os.makedirs(scratch, mode=0o755)
            files = _build_into(str(scratch / "root"), items)
            manifest = {"format": FORMAT, "key": key, "needs": list(needs), "files": files}
            with open(scratch / MANIFEST, "w", encoding="utf-8") as f:
                json.dump(manifest, f)
            os.chmod(scratch / MANIFEST, 0o644)
            os.rename(scratch, jail)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        problem = _load_and_check(jail)
        if problem is not None:
            raise OSError(f"the jail just built at {jail} does not check: {problem}")
    return str(jail / "root")


def _load_and_check(jail: Path, full: bool = False) -> str | None:
    try:
        with open(jail / MANIFEST, encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return "no manifest"
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        return "an unknown manifest"
    try:
        return _check(jail, manifest, full)
    except OSError as exc:
        return str(exc)


# --- each worker's /tmp ------------------------------------------------------------------------


def make_tmp(root: str) -> str:
    """A new empty folder of nobody's under the jail's /tmp; its path inside the jail."""
    name = "w-" + secrets.token_hex(16)
    path = os.path.join(root, "tmp", name)
    os.mkdir(path, 0o700)
    os.chown(path, NOBODY, NOBODY)
    return "/tmp/" + name


def remove_tmp(root: str, inside: str) -> None:
    """Remove a worker's /tmp folder and all it left (links are removed, never followed)."""
    name = os.path.basename(inside)
    if not name.startswith("w-") or inside != "/tmp/" + name:
        return
    path = os.path.join(root, "tmp", name)
    # The worker has ended. rmtree removes links, never follows them, and root may enter
    # folders the worker made unreadable; nothing here changes a mode (that would follow).
    shutil.rmtree(path, ignore_errors=True)


def tmp_full(root: str, tmp: str, max_bytes: int, max_entries: int) -> bool:
    """Whether the worker's /tmp in the jail (``tmp`` inside ``root``) holds more than
    ``max_bytes`` or ``max_entries`` names. Walked through descriptors with O_NOFOLLOW: the
    worker runs meanwhile and may swap a folder for a link; links are never followed."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    total = count = 0
    try:
        stack = [os.open(os.path.join(root, tmp.lstrip("/")), flags)]
    except OSError:
        return False
    try:
        while stack:
            fd = stack.pop()
            try:
                with os.scandir(fd) as listing:
                    for entry in listing:
                        count += 1
                        try:
                            st = entry.stat(follow_symlinks=False)
                            total += st.st_blocks * 512
                            if entry.is_dir(follow_symlinks=False):
                                stack.append(os.open(entry.name, flags, dir_fd=fd))
                        except OSError:
                            continue
                        if total > max_bytes or count > max_entries:
                            return True
            except OSError:
                pass
            finally:
                os.close(fd)
    finally:
        for fd in stack:
            os.close(fd)
    return False
