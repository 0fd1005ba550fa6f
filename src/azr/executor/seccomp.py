"""A seccomp-BPF filter assembled here, so no libseccomp is needed.

Default allow, then deny what a task program never needs and an escape would: every
socket (no socket reaches outside the sandbox, so there is nothing a program could
legitimately connect to), new processes (fork, vfork, clone without CLONE_THREAD, exec),
ptrace, mounts and namespaces, bpf, io_uring, keyrings, kernel modules, cross-process
memory access, clock and host settings, and state that would outlive the program or reach
other processes: System V and POSIX IPC objects, extended attributes, timestamps
(Landlock does not cover metadata writes on host files), inotify and fanotify, and memfds
(their pages count against no rlimit but RLIMIT_FSIZE per file, so 64 of them held 512 MiB
past RLIMIT_AS). Calls that
name a process (prlimit, priorities, scheduling, I/O priority, session and group calls)
are allowed only in the form that means "myself" (pid 0), so a program can neither change
its worker nor probe host pids; capget, whose pid hides in a struct, is refused outright. Threads stay possible (RLIMIT_NPROC bounds them).

Two filters stack: the fork-server loads the long one (which must leave fork and
pidfd_open open: it makes and watches the children; it never names another process in
the calls checked by pid), and every child adds a short one that closes fork and
pidfd_open. Both are compiled once per worker; a child pays one prctl call, and the kernel
compiles and analyses every filter a process loads, so the child's is kept to a dozen
instructions (a 105-instruction one cost ~80 us more per snippet). Denials are one
comparison and one return each, so no jump is ever longer than BPF allows and the
kernel's per-syscall cache can skip the filters for every call whose verdict does not
depend on its arguments.
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
_CLONE_THREAD = 0x00010000
_X32_SYSCALL_BIT = 0x40000000
_PRIO_PROCESS = 0
_IOPRIO_WHO_PROCESS = 1

_PID = ((0, 0),)  # first argument 0: the calling process (or thread)
_WHO_PROCESS_SELF = ((0, _PRIO_PROCESS), (1, 0))
_IO_WHO_PROCESS_SELF = ((0, _IOPRIO_WHO_PROCESS), (1, 0))

# x86_64 numbers (checked against asm/unistd_64.h by the tests; the *xattrat calls are
# newer than some headers).
_X86_64 = {
    "arch": 0xC000003E,
    "clone": 56, "clone3": 435,
    "deny": {
        "shmget": 29, "shmat": 30, "shmctl": 31, "socket": 41, "socketpair": 53, "fork": 57, "vfork": 58,
        "execve": 59, "semget": 64, "semop": 65, "semctl": 66, "shmdt": 67, "msgget": 68, "msgsnd": 69,
        "msgrcv": 70, "msgctl": 71, "ptrace": 101, "syslog": 103, "capget": 125, "utime": 132, "uselib": 134,
        "personality": 135, "vhangup": 153, "pivot_root": 155, "adjtimex": 159, "chroot": 161, "acct": 163,
        "settimeofday": 164, "mount": 165, "umount2": 166, "swapon": 167, "swapoff": 168, "reboot": 169,
        "sethostname": 170, "setdomainname": 171, "iopl": 172, "ioperm": 173, "init_module": 175,
        "delete_module": 176, "quotactl": 179, "lookup_dcookie": 212, "semtimedop": 220, "clock_settime": 227,
        "utimes": 235, "mq_open": 240, "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243,
        "mq_notify": 244, "mq_getsetattr": 245, "kexec_load": 246, "add_key": 248, "request_key": 249,
        "keyctl": 250, "inotify_init": 253, "inotify_add_watch": 254, "inotify_rm_watch": 255,
        "migrate_pages": 256, "futimesat": 261, "unshare": 272, "move_pages": 279, "utimensat": 280,
        "inotify_init1": 294, "perf_event_open": 298, "fanotify_init": 300, "fanotify_mark": 301,
        "name_to_handle_at": 303, "open_by_handle_at": 304, "clock_adjtime": 305, "setns": 308,
        "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "finit_module": 313,
        "memfd_create": 319, "kexec_file_load": 320, "bpf": 321, "execveat": 322, "userfaultfd": 323, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430,
        "fsconfig": 431, "fsmount": 432, "fspick": 433, "pidfd_getfd": 438, "process_madvise": 440,
        "mount_setattr": 442, "quotactl_fd": 443, "memfd_secret": 447, "process_mrelease": 448,
    },
    # Refused as "not supported", the answer of a file system without xattrs, which
    # shutil.copystat and similar code already take in their stride.
    "no_xattr": {
        "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "getxattr": 191, "lgetxattr": 192,
        "fgetxattr": 193, "listxattr": 194, "llistxattr": 195, "flistxattr": 196, "removexattr": 197,
        "lremovexattr": 198, "fremovexattr": 199, "setxattrat": 463, "getxattrat": 464,
        "listxattrat": 465, "removexattrat": 466,
    },
    # Allowed only when the arguments (index, value) name the caller itself.
    "self_only": {
        "setpgid": (109, _PID), "getpgid": (121, _PID), "getsid": (124, _PID), "getpriority": (140, _WHO_PROCESS_SELF),
        "setpriority": (141, _WHO_PROCESS_SELF), "sched_setparam": (142, _PID), "sched_getparam": (143, _PID),
        "sched_setscheduler": (144, _PID), "sched_getscheduler": (145, _PID),
        "sched_rr_get_interval": (148, _PID), "sched_setaffinity": (203, _PID),
        "sched_getaffinity": (204, _PID), "ioprio_set": (251, _IO_WHO_PROCESS_SELF),
        "ioprio_get": (252, _IO_WHO_PROCESS_SELF), "get_robust_list": (274, _PID), "prlimit64": (302, _PID),
        "sched_setattr": (314, _PID), "sched_getattr": (315, _PID),
    },
    # In the child only: the fork-server needs it for its children; a child has none.
    "child_deny": {"pidfd_open": 434},
}
ARCHES = {"x86_64": _X86_64}

Insn = tuple[int, int, int, int]


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
    table = ARCHES[machine]
    return True, (f"BPF filter for {machine}, {len(denied_syscalls(machine))} system calls denied, "
                  f"{len(table['self_only'])} allowed only on the caller itself")


def syscall_number(name: str, machine: str | None = None) -> int | None:
    """The number of a system call this module knows by name (for raw calls elsewhere), or
    None on an architecture without a table."""
    table = ARCHES.get(machine or platform.machine())
    if table is None:
        return None
    for group in ("deny", "no_xattr", "child_deny"):
        if name in table[group]:
            return table[group][name]
    return table["self_only"][name][0]


def denied_syscalls(machine: str | None = None) -> list[str]:
    """Names of the system calls the filters refuse outright (beyond the argument checks)."""
    table = ARCHES[machine or platform.machine()]
    return sorted([*table["deny"], *table["no_xattr"], *table["child_deny"], "clone3"])


def _ret(action: int) -> Insn:
    return (_RET_K, 0, 0, action)


def _arg(index: int) -> Insn:
    """Load the low 32 bits of argument ``index``: every argument checked here is an int."""
    return (_LD_W_ABS, 0, 0, 16 + 8 * index)


def _deny(number: int, code: int) -> list[Insn]:
    return [(_JEQ_K, 0, 1, number), _ret(_RET_ERRNO | code)]


def _when(number: int, body: list[Insn]) -> list[Insn]:
    """Run ``body`` (which always returns) for syscall ``number``; skip it for any other.
    The syscall number stays in the accumulator for the next test."""
    return [(_JEQ_K, 0, len(body), number)] + body


def _only_if(conditions: tuple[tuple[int, int], ...]) -> list[Insn]:
    """Allow when every (argument, value) pair holds, else EPERM."""
    body: list[Insn] = []
    for done, (index, value) in enumerate(conditions, 1):
        body += [_arg(index), (_JEQ_K, 0, 2 * (len(conditions) - done) + 1, value)]
    return body + [_ret(_RET_ALLOW), _ret(_RET_ERRNO | errno.EPERM)]


def assemble(*, allow_fork: bool, machine: str | None = None) -> list[Insn]:
    """The fork-server's filter (``allow_fork``) or the one each child stacks on top of it.

    The server's filter denies everything in the deny and xattr tables and allows the
    pid-naming calls only on the caller, but leaves clone and pidfd_open open because the
    server must fork and watch. The child's filter only closes clone for new processes
    (threads stay allowed) and pidfd_open; everything else it inherits from the server's.
    """
    table = ARCHES[machine or platform.machine()]
    prog: list[Insn] = [(_LD_W_ABS, 0, 0, _OFF_ARCH), (_JEQ_K, 1, 0, table["arch"]), _ret(_RET_KILL_PROCESS),
                        (_LD_W_ABS, 0, 0, _OFF_NR)]
    if allow_fork:
        prog += [(_JGE_K, 0, 1, _X32_SYSCALL_BIT), _ret(_RET_ERRNO | errno.EPERM)]
        prog += _deny(table["clone3"], errno.ENOSYS)  # glibc then falls back to clone, which we can check
        for number in sorted(table["deny"].values()):
            prog += _deny(number, errno.EPERM)
        for number in sorted(table["no_xattr"].values()):
            prog += _deny(number, errno.EOPNOTSUPP)
        for number, conditions in sorted(table["self_only"].values()):
            prog += _when(number, _only_if(conditions))
    else:
        prog += _when(table["clone"], [_arg(0), (_JSET_K, 0, 1, _CLONE_THREAD),
                                       _ret(_RET_ALLOW), _ret(_RET_ERRNO | errno.EPERM)])
        for number in sorted(table["child_deny"].values()):
            prog += _deny(number, errno.EPERM)
    return prog + [_ret(_RET_ALLOW)]


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
