"""Run a command confined the way Docker's default profile confines a root container.

Docker runs a container's root with a short list of capabilities (no CAP_SYS_ADMIN) and
a seccomp profile that refuses to make namespaces or mount anything. There, bubblewrap
and the worker's own namespaces both fail, while chroot and setuid still work: the case
the grader's jail is for. This module reproduces that confinement on a machine where
the tests run as root, so the jail can be tested without Docker:

* every capability outside Docker's default set leaves the bounding set, and the
  effective, permitted, inheritable and ambient sets are cut to what remains;
* ``no_new_privs`` is set;
* a seccomp filter returns EPERM for ``unshare``, ``setns``, ``mount``, ``umount2``,
  ``pivot_root``, the new mount API (``fsopen``, ``fsmount``, ``fsconfig``, ``open_tree``,
  ``move_mount``, ``mount_setattr``) and ``clone`` with any namespace flag, and ENOSYS for
  ``clone3`` (its flags are out of a filter's reach; the C library falls back to clone).

Use: ``python tests/container_profile.py [--cap-drop CAP_X]... COMMAND [ARG...]`` runs COMMAND so confined
(as root, on x86_64 or aarch64), or ``confine()`` in a process of one's own (a
``preexec_fn``). ``confined_command(cmd)`` is the argument list for ``subprocess``.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
import sys

# Docker's default capability set (moby: oci/caps/defaults.go), by number.
DOCKER_CAPS = {
    "CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_FOWNER": 3, "CAP_FSETID": 4, "CAP_KILL": 5,
    "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13,
    "CAP_SYS_CHROOT": 18, "CAP_MKNOD": 27, "CAP_AUDIT_WRITE": 29, "CAP_SETFCAP": 31,
}  # fmt: skip

# Namespace flags of clone(2): NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME.
CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80

_SYSCALLS = {
    "x86_64": {
        "arch": 0xC000003E, "clone": 56, "clone3": 435, "capget": 125, "capset": 126,
        "refused": {"unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155,
                    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
                    "fspick": 433, "mount_setattr": 442},
    },
    "aarch64": {
        "arch": 0xC00000B7, "clone": 220, "clone3": 435, "capget": 90, "capset": 91,
        "refused": {"unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41,
                    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
                    "fspick": 433, "mount_setattr": 442},
    },
}  # fmt: skip

_PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_NR = {"x86_64": 317, "aarch64": 277}


def _filter(machine: str) -> bytes:
    """The BPF program: refuse namespaces and mounts, allow the rest."""
    spec = _SYSCALLS[machine]
    ld_abs, jeq, jset, ret = 0x20, 0x15, 0x45, 0x06
    allow, eperm, enosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38

    def ins(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    prog = [ins(ld_abs, 4), ins(jeq, spec["arch"], 1, 0), ins(ret, eperm), ins(ld_abs, 0)]
    for nr in spec["refused"].values():
        prog += [ins(jeq, nr, 0, 1), ins(ret, eperm)]
    prog += [ins(jeq, spec["clone3"], 0, 1), ins(ret, enosys)]
    # clone: flags are the first argument (its low 32 bits hold every namespace flag)
    prog += [ins(jeq, spec["clone"], 0, 3), ins(ld_abs, 16), ins(jset, CLONE_NAMESPACES, 0, 1), ins(ret, eperm)]
    prog += [ins(ret, allow)]
    return b"".join(prog)


def confine(cap_drop: tuple[str, ...] = ()) -> None:
    """Confine this process (and whatever it execs) like root in a default Docker container
    (``cap_drop``: capabilities of Docker's set to drop as well, as ``docker run --cap-drop``)."""
    machine = platform.machine()
    if machine not in _SYSCALLS:
        raise OSError(f"container_profile: no syscall table for {machine}")
    libc = ctypes.CDLL(None, use_errno=True)
    keep = {bit for name, bit in DOCKER_CAPS.items() if name not in cap_drop}
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last + 1):
        if cap not in keep and libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), f"container_profile: cannot drop capability {cap} from the bounding set")
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    # effective = permitted = Docker's set (what we hold of it), inheritable empty
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    libc.syscall(_SYSCALLS[machine]["capget"], ctypes.byref(header), ctypes.byref(data))
    mask = [sum(1 << c for c in keep if c < 32), sum(1 << (c - 32) for c in keep if c >= 32)]
    for word in (0, 1):
        data[word * 3 + 0] &= mask[word]  # effective
        data[word * 3 + 1] &= mask[word]  # permitted
        data[word * 3 + 2] = 0  # inheritable
    if libc.syscall(_SYSCALLS[machine]["capset"], ctypes.byref(header), ctypes.byref(data)) != 0:
        raise OSError(ctypes.get_errno(), "container_profile: capset failed")
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "container_profile: cannot set no_new_privs")
    code = _filter(machine)
    buf = ctypes.create_string_buffer(code, len(code))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = SockFprog(len(code) // 8, ctypes.addressof(buf))
    if libc.syscall(_SECCOMP_NR[machine], _SECCOMP_SET_MODE_FILTER, 0, ctypes.byref(prog)) != 0:
        raise OSError(ctypes.get_errno(), "container_profile: cannot install the seccomp filter")


def available() -> bool:
    """The emulation can be applied here (root on a known architecture)."""
    return os.geteuid() == 0 and platform.machine() in _SYSCALLS


def confined_command(command: list[str], cap_drop: tuple[str, ...] = ()) -> list[str]:
    """``command`` run under the emulation, for ``subprocess``."""
    drops = [arg for name in cap_drop for arg in ("--cap-drop", name)]
    return [sys.executable, os.path.abspath(__file__), *drops, *command]


def main(argv: list[str]) -> None:
    cap_drop = []
    while len(argv) >= 2 and argv[0] == "--cap-drop":
        if argv[1] not in DOCKER_CAPS:
            sys.exit(f"container_profile: unknown capability {argv[1]}")
        cap_drop.append(argv[1])
        argv = argv[2:]
    if not argv:
        sys.exit(__doc__)
    confine(tuple(cap_drop))
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
