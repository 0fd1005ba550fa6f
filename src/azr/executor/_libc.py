"""Raw system calls through ctypes, so the sandbox needs no compiled extension or package."""

from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

# PyDLL keeps the GIL held across the call, so a child made by raw_fork starts with the
# interpreter in the same consistent state the parent was in.
_raw = ctypes.PyDLL(None, use_errno=True)
_raw.fork.restype = ctypes.c_int
_raw.fork.argtypes = []

_libc.mount.restype = ctypes.c_int
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.unshare.restype = ctypes.c_int
_libc.unshare.argtypes = [ctypes.c_int]

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18
PR_SET_PDEATHSIG = 1
PR_GET_SECCOMP = 21
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
SECCOMP_MODE_FILTER = 2


def syscall(number: int, *args: int | ctypes._SimpleCData | ctypes.Array | None) -> int:
    """Call ``syscall(2)``; raise OSError with the kernel's errno on failure."""
    converted = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    result = _libc.syscall(ctypes.c_long(number), *converted)
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    """Call ``prctl(2)`` (pointers are passed as integer addresses); raise OSError on failure."""
    result = _libc.prctl(option, arg2, arg3, arg4, arg5)
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def unshare(flags: int) -> None:
    """Call ``unshare(2)`` (Python 3.11 has no ``os.unshare``); raise OSError on failure."""
    if _libc.unshare(flags) < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    """Call ``mount(2)``; raise OSError with the kernel's errno on failure."""
    encoded = [None if v is None else v.encode() for v in (source, target, fstype, data)]
    if _libc.mount(encoded[0], encoded[1], encoded[2], flags, encoded[3]) < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{os.strerror(err)}: {target}")


def raw_fork() -> int:
    """fork(2) without CPython's after-fork bookkeeping in the child.

    That bookkeeping (re-initialising thread state, locks, at-fork hooks) exists for
    processes with several threads; a single-threaded fork-server does not need it, and on
    a virtual machine where each page fault is costly it is a third of a child's cost.
    Only for single-threaded callers.
    """
    pid = _raw.fork()
    if pid < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return pid
