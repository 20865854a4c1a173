"""The worker's confinement, run in the worker before any student code: the seccomp filter
(``install_seccomp``), limits and its cgroup (``apply_limits``, ``join_cgroup``), the mount
plan without bubblewrap (``enter_allow_list``), the chroot jail (``enter_jail``), a private
IPC namespace (``enter_private_ipc``), dropping capabilities and privileges.

Like the worker, this file is never imported by the grader: its source is sent with the
worker's and run by the bootstrap as the module ``_grader_confine``. Standard library only.
"""

# mypy: ignore-errors
from __future__ import annotations

import ctypes
import os
import platform
import resource
import signal
import sys

# --- seccomp -------------------------------------------------------------------------

_ARCHES = {
    # machine: (AUDIT_ARCH, seccomp syscall nr, denied syscalls, clone, clone3, socket)
    # Denied: new processes (fork/vfork; clone is checked below), exec, ptrace, reading or
    # writing another process's memory, taking its file descriptors, raising limits,
    # sending signals to anyone, and kernel interfaces no exercise needs (io_uring, which
    # would bypass this filter, BPF, perf events, userfaultfd, the key rings), and every kind
    # of IPC object that outlives the process or holds memory its address-space cap does not
    # count: System V shared memory, semaphores and message queues, POSIX message queues,
    # memfd (numpy and TensorFlow use none of them once imported). Sockets: only unix ones,
    # never a datagram one, and no connect or bind: a pair made with socketpair works, while
    # the machine's abstract sockets stay out of reach also where the worker has no network
    # namespace of its own (the chroot jail).
    "x86_64": (
        0xC000003E,
        317,
        {"fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "ptrace": 101, "process_vm_readv": 310,
         "process_vm_writev": 311, "setrlimit": 160, "prlimit64": 302,
         "kill": 62, "tkill": 200, "tgkill": 234, "pidfd_send_signal": 424,
         "mount": 165, "umount2": 166, "unshare": 272, "setns": 308,
         "pidfd_open": 434, "pidfd_getfd": 438, "io_uring_setup": 425, "bpf": 321,
         "perf_event_open": 298, "userfaultfd": 323, "keyctl": 250, "add_key": 248, "request_key": 249,
         "shmget": 29, "shmat": 30, "shmctl": 31, "shmdt": 67, "semget": 64, "semop": 65, "semctl": 66,
         "semtimedop": 220, "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71, "mq_open": 240,
         "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243, "mq_notify": 244,
         "mq_getsetattr": 245, "memfd_create": 319, "memfd_secret": 447, "connect": 42, "bind": 49},
        56,
        435,
        41,
    ),
    "aarch64": (
        0xC00000B7,
        277,
        {"execve": 221, "execveat": 281, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
         "setrlimit": 164, "prlimit64": 261,
         "kill": 129, "tkill": 130, "tgkill": 131, "pidfd_send_signal": 424,
         "mount": 40, "umount2": 39, "unshare": 97, "setns": 268,
         "pidfd_open": 434, "pidfd_getfd": 438, "io_uring_setup": 425, "bpf": 280,
         "perf_event_open": 241, "userfaultfd": 282, "keyctl": 219, "add_key": 217, "request_key": 218,
         "mq_open": 180, "mq_unlink": 181, "mq_timedsend": 182, "mq_timedreceive": 183, "mq_notify": 184,
         "mq_getsetattr": 185, "msgget": 186, "msgctl": 187, "msgrcv": 188, "msgsnd": 189, "semget": 190,
         "semctl": 191, "semtimedop": 192, "semop": 193, "shmget": 194, "shmctl": 195, "shmat": 196,
         "shmdt": 197, "memfd_create": 279, "memfd_secret": 447, "connect": 203, "bind": 200},
        220,
        435,
        198,
    ),
}


def _seccomp_program(machine: str) -> list[tuple[int, int, int, int]] | None:
    spec = _ARCHES.get(machine)
    if spec is None:
        return None
    audit_arch, _, denied, clone_nr, clone3_nr, socket_nr = spec
    ld, jeq, jset, jge, ret, alu_and = 0x20, 0x15, 0x45, 0x35, 0x06, 0x54
    sock_dgram = 2
    allow, eperm, enosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38
    clone_thread, af_unix = 0x00010000, 1
    # (code, k, jump-if-true label, jump-if-false label); ("label", name) marks a place.
    ins: list[tuple] = [
        (ld, 4, None, None),  # seccomp_data.arch
        (jeq, audit_arch, None, "deny"),
        (ld, 0, None, None),  # seccomp_data.nr
        (jge, 0x40000000, "deny", None),  # x32 system calls
    ]
    ins += [(jeq, nr, "deny", None) for nr in denied.values() if nr is not None]
    ins += [
        (jeq, clone3_nr, "nosys", None),  # glibc then falls back to clone
        (jeq, clone_nr, "clone", None),
        (jeq, socket_nr, "socket", None),
        (ret, allow, None, None),
        ("label", "clone"),
        (ld, 16, None, None),  # args[0], low word: clone flags
        (jset, clone_thread, "allow", "deny"),  # threads yes, processes no
        ("label", "socket"),
        (ld, 16, None, None),  # args[0]: address family
        (jeq, af_unix, None, "deny"),
        (ld, 24, None, None),  # args[1]: socket type (with SOCK_CLOEXEC / SOCK_NONBLOCK)
        (alu_and, 0xF, None, None),
        (jeq, sock_dgram, "deny", "allow"),
        ("label", "allow"),
        (ret, allow, None, None),
        ("label", "deny"),
        (ret, eperm, None, None),
        ("label", "nosys"),
        (ret, enosys, None, None),
    ]
    labels, pos = {}, 0
    for item in ins:
        if item[0] == "label":
            labels[item[1]] = pos
        else:
            pos += 1
    program = []
    for item in ins:
        if item[0] == "label":
            continue
        code, k, jt, jf = item
        here = len(program)
        program.append((code, labels[jt] - here - 1 if jt else 0, labels[jf] - here - 1 if jf else 0, k))
    return program


def install_seccomp() -> bool:
    machine = platform.machine()
    prog = _seccomp_program(machine)
    if prog is None:
        return False

    class SockFilter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]

    filters = (SockFilter * len(prog))(*[SockFilter(*ins) for ins in prog])
    fprog = SockFprog(len(prog), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        return False
    seccomp_nr = _ARCHES[machine][1]
    # seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog): all threads.
    rc = libc.syscall(seccomp_nr, 1, 1, ctypes.byref(fprog))
    return rc == 0


# --- limits and privileges ------------------------------------------------------------


def join_cgroup(fd: int) -> bool:
    """Enter the cgroup the trusted side made for this worker (``fd``: its open
    ``cgroup.procs``; writing 0 moves the writer). Done before anything heavy is imported,
    so what the worker allocates is counted there."""
    if fd is None or fd < 0:
        return False
    try:
        os.write(fd, b"0")
        return True
    except OSError:
        return False
    finally:
        try:
            os.close(fd)
        except OSError:
            pass


def apply_limits(limits: dict, in_cgroup: bool = False) -> list[str]:
    applied = []
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails instead of killing
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    memory_mb = limits.get("memory_mb")
    if memory_mb and in_cgroup:
        applied.append(f"memory: cgroup {memory_mb} MB")
    elif memory_mb:
        size = int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
        applied.append(f"memory: RLIMIT_AS {memory_mb} MB")
    output_bytes = limits.get("output_bytes")
    if output_bytes:
        resource.setrlimit(resource.RLIMIT_FSIZE, (output_bytes, output_bytes))
        applied.append(f"output {output_bytes // 1024} KB")
    cpu_s = limits.get("cpu_s")
    if cpu_s:
        resource.setrlimit(resource.RLIMIT_CPU, (int(cpu_s), int(cpu_s) + 2))
        applied.append(f"cpu {cpu_s} s")
    return applied


def _others_can_read(path: str) -> bool:
    """Every directory from / down to path is readable and searchable by other users."""
    import stat

    path = os.path.realpath(path)
    while True:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return False
        if stat.S_ISDIR(mode) and (mode & 0o005) != 0o005:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


NOBODY = 65534
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_DEVICES = ("null", "zero", "full", "random", "urandom")
_PROC_FILES = ("cpuinfo", "meminfo", "stat")


def _mount(libc, source, target, fstype, flags, data=None) -> None:
    enc = lambda v: None if v is None else os.fsencode(v)  # noqa: E731
    if libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _bind_read_only(libc, source: str, target: str) -> None:
    _mount(libc, source, target, None, _MS_BIND | _MS_REC)
    # A mount seen through a user namespace keeps the flags it was locked with: keep them.
    locked = os.statvfs(source).f_flag & (_MS_NOSUID | _MS_NODEV | _MS_NOEXEC | 1024 | 2048)
    _mount(libc, None, target, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | locked)


def _mountpoint(path: str, like: str | None) -> None:
    if like is not None and not os.path.isdir(like):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if not os.path.exists(path):
            open(path, "a").close()
    else:
        os.makedirs(path, exist_ok=True)


def enter_allow_list(steps: list, newroot: str) -> str | None:
    """Without bubblewrap: carry out the trusted side's mount plan ourselves.

    Private mount, network and IPC namespaces (and a user namespace when not root,
    mapping us to nobody), a tmpfs at ``newroot`` holding only the planned read-only binds, an empty
    ``/tmp`` and a few device nodes; then ``chroot`` into it and become uid/gid 65534.
    Returns what was done, or None when the kernel gives no namespaces (weak isolation)."""
    libc = ctypes.CDLL(None, use_errno=True)
    root = os.geteuid() == 0
    uid, gid = os.geteuid(), os.getegid()
    # CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC [| CLONE_NEWUSER]: a mount table of our
    # own, no network at all (not even the host's abstract unix sockets), no SysV IPC.
    if libc.unshare(0x00020000 | 0x40000000 | 0x08000000 | (0 if root else 0x10000000)) != 0:
        return None
    try:
        if not root:
            for name, text in (("setgroups", "deny"), ("uid_map", f"{NOBODY} {uid} 1"), ("gid_map", f"{NOBODY} {gid} 1")):
                with open(f"/proc/self/{name}", "w") as f:
                    f.write(text)
        _mount(libc, None, "/", None, _MS_REC | _MS_PRIVATE)
        _mount(libc, "tmpfs", newroot, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=16m,mode=755")
        for step in steps:
            kind, target = step[0], newroot + step[-1]
            if kind == "ro-bind":
                _mountpoint(target, step[1])
                _bind_read_only(libc, step[1], target)
            elif kind == "symlink":
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.symlink(step[1], target)
            elif kind == "tmpfs":
                _mountpoint(target, None)
                mode = "1777" if step[-1] == "/tmp" else "755"
                _mount(libc, "tmpfs", target, "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={step[1]},mode={mode}")
            elif kind == "remount-ro":
                _mount(libc, None, target, None, _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
            elif kind == "dev":
                for name in _DEVICES:
                    if os.path.exists(f"/dev/{name}"):
                        _mountpoint(f"{target}/{name}", f"/dev/{name}")
                        _mount(libc, f"/dev/{name}", f"{target}/{name}", None, _MS_BIND)
            elif kind == "proc":
                # This process keeps its PID namespace, so there is no /proc of its own
                # to mount: it gets its own /proc/<pid> as /proc/self (TensorFlow reads
                # /proc/self/exe and maps) and a few machine-wide counters, nobody else's.
                own = os.path.realpath("/proc/self")
                _mountpoint(target + "/self", own)
                _bind_read_only(libc, own, target + "/self")
                for name in _PROC_FILES:
                    _mountpoint(f"{target}/{name}", f"/proc/{name}")
                    _bind_read_only(libc, f"/proc/{name}", f"{target}/{name}")
        os.chdir(newroot)
        if libc.chroot(b".") != 0:
            raise OSError(ctypes.get_errno(), "chroot")
    except OSError as exc:
        # Nothing is confined yet and nothing was gained: go on with weak isolation (the
        # report says so; grade collect checks beforehand that a plan can be carried out).
        sys.stderr.write(f"the worker could not build its private file system: {exc}\n")
        os.chdir("/")
        return None
    try:
        os.chdir("/")
        _mount(libc, None, "/", None, _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
        os.chdir("/tmp")
        if root:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        else:
            drop_capabilities()
    except OSError as exc:
        # Inside the new root but still privileged: this worker must not run student code.
        sys.stderr.write(f"the worker could not leave its privileges: {exc}\n")
        os._exit(70)
    return "allow-list root: private mount and network namespaces, chroot, uid nobody"


def drop_capabilities() -> bool:
    """Root that cannot change uid still loses every capability (ptrace, DAC override...)."""
    capset_nr = {"x86_64": 126, "aarch64": 91}.get(platform.machine())
    if capset_nr is None:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in range(64):
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP; fails harmlessly past the last cap
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable for both words: all 0
    return libc.syscall(capset_nr, ctypes.byref(header), ctypes.byref(data)) == 0


def _close_other_fds(keep: set) -> None:
    """Close every descriptor but ``keep``: one that led outside (a folder) would let a
    chrooted process climb out of its root."""
    try:
        open_fds = sorted(int(n) for n in os.listdir("/proc/self/fd"))
    except OSError:
        open_fds = list(range(3, 1024))
    for fd in open_fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def enter_jail(root: str, tmp: str, keep: set) -> str | None:
    """Without namespaces (root under a container's default profile): ``chroot`` into the
    jail the trusted side laid out (the allow-listed runtime, root's and read-only), close
    every other descriptor, become uid/gid 65534 and work in this worker's own empty
    ``tmp`` folder there. None when chroot itself is refused (weak isolation)."""
    libc = ctypes.CDLL(None, use_errno=True)
    _close_other_fds(keep)  # before: /proc/self/fd is not there afterwards
    try:
        os.chdir(root)
        if libc.chroot(b".") != 0:
            raise OSError(ctypes.get_errno(), "chroot")
        os.chdir("/")
    except OSError as exc:
        sys.stderr.write(f"the worker could not enter its jail: {exc}\n")
        os.chdir("/")
        return None
    try:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)  # from root to another uid: every capability goes too
        os.chdir(tmp)
        os.environ["TMPDIR"] = os.environ["HOME"] = tmp
        import tempfile

        tempfile.tempdir = None
        if os.getuid() != NOBODY or os.geteuid() != NOBODY or os.getgid() != NOBODY:
            raise OSError("the ids did not change")
    except OSError as exc:
        # Inside the jail but still privileged: this worker must not run student code.
        sys.stderr.write(f"the worker could not leave its privileges: {exc}\n")
        os._exit(70)
    try:
        os.setuid(0)
    except OSError:
        pass
    else:
        os._exit(70)
    return "jail root: chroot into the allow-listed runtime, no /proc, uid nobody"


def enter_private_ipc() -> bool:
    """Inside bubblewrap: an IPC namespace of this worker's own. The fork server's children
    all live in one sandbox, so they would share its namespace (and anything one left in
    it). A nested user namespace makes a new one possible without privileges; the
    capabilities it brings are dropped at once, and the ids stay what they were."""
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.geteuid(), os.getegid()
    if libc.unshare(0x10000000 | 0x08000000) != 0:  # CLONE_NEWUSER | CLONE_NEWIPC
        return False
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    except OSError:
        pass  # unmapped, the ids read as the overflow id: nobody all the same
    if not drop_capabilities():
        sys.stderr.write("the worker could not drop the capabilities of its IPC namespace\n")
        os._exit(70)
    return True


def drop_privileges() -> str | None:
    if os.geteuid() != 0:
        return None
    # An unprivileged uid must still be able to import the standard library and numpy;
    # where Python lives in a private home (pyenv under /root), stay as we are.
    if not all(_others_can_read(p) for p in [sys.base_prefix, sys.prefix, *sys.path] if p and os.path.exists(p)):
        return None
    try:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    except OSError:
        return None
    return "unprivileged uid"
