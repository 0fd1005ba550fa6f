"""A seccomp-BPF filter assembled here, so no libseccomp is needed.

Default allow, then deny what a task program never needs and an escape would: sockets
other than AF_UNIX, new processes (fork, vfork, clone without CLONE_THREAD, exec),
ptrace, mounts and namespaces, bpf, io_uring, keyrings, kernel modules, cross-process
memory access, clock and host settings. Threads stay possible (RLIMIT_NPROC bounds them).
Two filters stack: the fork-server loads one that denies all of the above except fork (it
must make the children), and every child adds a short one that closes fork too. Both are
compiled once per worker; a child pays one prctl call.
"""

from __future__ import annotations

import ctypes
import errno
import platform

from azr.executor._libc import PR_GET_SECCOMP, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prctl

_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06
_OFF_NR = 0
_OFF_ARCH = 4
_OFF_ARG0_LOW = 16
_AF_UNIX = 1
_CLONE_THREAD = 0x00010000
_X32_SYSCALL_BIT = 0x40000000

# x86_64 numbers (checked against asm/unistd_64.h by the tests).
_X86_64 = {
    "arch": 0xC000003E,
    "socket": 41, "clone": 56, "clone3": 435,
    "deny": {
        "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "ptrace": 101, "syslog": 103,
        "uselib": 134, "personality": 135, "vhangup": 153, "pivot_root": 155, "adjtimex": 159,
        "chroot": 161, "acct": 163, "settimeofday": 164, "mount": 165, "umount2": 166, "swapon": 167,
        "swapoff": 168, "reboot": 169, "sethostname": 170, "setdomainname": 171, "iopl": 172,
        "ioperm": 173, "init_module": 175, "delete_module": 176, "quotactl": 179, "lookup_dcookie": 212,
        "clock_settime": 227, "kexec_load": 246, "add_key": 248, "request_key": 249, "keyctl": 250,
        "migrate_pages": 256, "unshare": 272, "move_pages": 279, "perf_event_open": 298,
        "fanotify_init": 300, "name_to_handle_at": 303, "open_by_handle_at": 304, "clock_adjtime": 305,
        "setns": 308, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "finit_module": 313,
        "kexec_file_load": 320, "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428, "move_mount": 429,
        "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "pidfd_getfd": 438,
        "mount_setattr": 442, "quotactl_fd": 443, "memfd_secret": 447,
    },
}
ARCHES = {"x86_64": _X86_64}


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def supported() -> tuple[bool, str]:
    """Whether this kernel and CPU architecture can take our filter, and why not."""
    machine = platform.machine()
    if machine not in ARCHES:
        return False, f"no syscall table for architecture {machine}"
    try:
        prctl(PR_GET_SECCOMP)
    except OSError as exc:
        return False, f"kernel refuses seccomp ({exc.strerror})"
    return True, f"BPF filter for {machine}, {len(denied_syscalls(machine))} system calls denied"


def denied_syscalls(machine: str | None = None) -> list[str]:
    """Names of the system calls the filter refuses outright (beyond the argument checks)."""
    table = ARCHES[machine or platform.machine()]
    return sorted(table["deny"]) + ["clone3"]


def assemble(*, allow_fork: bool, machine: str | None = None) -> list[tuple[int, int, int, int]]:
    """The fork-server's filter (``allow_fork``) or the one each child stacks on top of it.

    The server's filter denies everything in the table and non-AF_UNIX sockets, but leaves
    clone open because the server must fork. The child's filter only closes clone for new
    processes (threads stay allowed): everything else it inherits from the server's filter,
    and a short filter is quicker for the kernel to load for every snippet.
    """
    table = ARCHES[machine or platform.machine()]
    prog: list[tuple[int, object, object, int]] = [
        (_LD_W_ABS, 0, 0, _OFF_ARCH),
        (_JEQ_K, 0, "kill", table["arch"]),
        (_LD_W_ABS, 0, 0, _OFF_NR),
    ]
    if allow_fork:
        prog += [(_JGE_K, "deny", 0, _X32_SYSCALL_BIT),
                 (_JEQ_K, "nosys", 0, table["clone3"]),
                 (_JEQ_K, "socket", 0, table["socket"])]
        prog += [(_JEQ_K, "deny", 0, number) for number in sorted(table["deny"].values())]
    else:
        prog.append((_JEQ_K, "clone", 0, table["clone"]))
    prog.append((_RET_K, 0, 0, _RET_ALLOW))
    tail: list[tuple[str | None, tuple[int, object, object, int]]] = [
        ("socket", (_LD_W_ABS, 0, 0, _OFF_ARG0_LOW)),
        (None, (_JEQ_K, "allow", "deny", _AF_UNIX)),
        ("clone", (_LD_W_ABS, 0, 0, _OFF_ARG0_LOW)),
        (None, (_JSET_K, "allow", "deny", _CLONE_THREAD)),
        ("allow", (_RET_K, 0, 0, _RET_ALLOW)),
        ("deny", (_RET_K, 0, 0, _RET_ERRNO | errno.EPERM)),
        ("nosys", (_RET_K, 0, 0, _RET_ERRNO | errno.ENOSYS)),
        ("kill", (_RET_K, 0, 0, _RET_KILL_PROCESS)),
    ]
    return _resolve(prog, tail)


def _resolve(prog: list[tuple[int, object, object, int]],
             tail: list[tuple[str | None, tuple[int, object, object, int]]]) -> list[tuple[int, int, int, int]]:
    """Append the labelled tail and turn label jumps into the forward offsets BPF wants."""
    labels: dict[str, int] = {}
    for label, insn in tail:
        if label:
            labels[label] = len(prog)
        prog.append(insn)
    resolved = []
    for index, (code, jt, jf, k) in enumerate(prog):
        jt_off = labels[jt] - index - 1 if isinstance(jt, str) else jt
        jf_off = labels[jf] - index - 1 if isinstance(jf, str) else jf
        if not (isinstance(jt_off, int) and isinstance(jf_off, int) and 0 <= jt_off <= 255 and 0 <= jf_off <= 255):
            raise ValueError(f"seccomp jump out of range at instruction {index}")
        resolved.append((code, jt_off, jf_off, k))
    return resolved


class Filter:
    """A compiled filter kept alive in memory so each child can load it cheaply."""

    def __init__(self, *, allow_fork: bool, machine: str | None = None) -> None:
        insns = assemble(allow_fork=allow_fork, machine=machine)
        self._array = (_SockFilter * len(insns))(*[_SockFilter(*insn) for insn in insns])
        self._prog = _SockFprog(len(insns), self._array)
        self.size = len(insns)

    def install(self) -> None:
        """Load the filter into the calling process; requires no_new_privs (or CAP_SYS_ADMIN)."""
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(self._prog))
