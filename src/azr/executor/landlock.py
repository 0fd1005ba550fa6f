"""Landlock, applied with raw system calls: a read allow-list, one writable directory,
no exec, no TCP, and (ABI 6+) no signals or abstract sockets reaching outside the sandbox.

The fork-server confines itself with the file-system and network ruleset once, so every
child inherits it; each child then adds a nested domain that only scopes signals and
abstract sockets, so it cannot reach even the fork-server that made it (ABI 6+).
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass

from azr.executor._libc import syscall

_CREATE_RULESET = 444
_ADD_RULE = 445
_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13
FS_TRUNCATE = 1 << 14
FS_IOCTL_DEV = 1 << 15
NET_BIND_TCP = 1 << 0
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1

_FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi_version() -> int:
    """The kernel's Landlock ABI version, or 0 when Landlock is absent or disabled."""
    try:
        return syscall(_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION)
    except OSError:
        return 0


def _fs_rights(abi: int) -> int:
    """Every file-system right this ABI knows, so nothing is left unhandled (= allowed)."""
    rights = (FS_MAKE_SYM << 1) - 1
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


@dataclass(frozen=True)
class Coverage:
    """What a ruleset built on this kernel can enforce."""

    fs: bool
    net: bool
    scope: bool

    @classmethod
    def for_abi(cls, abi: int) -> Coverage:
        return cls(fs=abi >= 1, net=abi >= 4, scope=abi >= 6)


def build_ruleset(read_paths: list[str], write_dir: str, abi: int) -> int:
    """Create a ruleset fd: read ``read_paths``, read/write ``write_dir``, nothing else.

    Missing read paths are skipped; the write directory must exist.
    """
    handled = _fs_rights(abi)
    attr = _RulesetAttr(handled, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = syscall(_CREATE_RULESET, ctypes.byref(attr), size, 0)
    read = FS_READ_FILE | FS_READ_DIR
    write = handled & ~(FS_EXECUTE | FS_MAKE_CHAR | FS_MAKE_BLOCK | FS_MAKE_SOCK | FS_MAKE_FIFO)
    try:
        for path in read_paths:
            _add_path(ruleset, path, read, required=False)
        _add_path(ruleset, write_dir, write, required=True)
    except BaseException:
        os.close(ruleset)
        raise
    return ruleset


def _add_path(ruleset: int, path: str, rights: int, *, required: bool) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        if required:
            raise
        return
    try:
        if not os.path.isdir(path):
            rights &= _FILE_RIGHTS
        rule = _PathBeneathAttr(rights, fd)
        syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0)
    finally:
        os.close(fd)


def build_scope_ruleset(abi: int) -> int | None:
    """A ruleset that handles only scopes, for a child's nested domain; None before ABI 6."""
    if abi < 6:
        return None
    attr = _RulesetAttr(0, 0, SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL)
    return syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(_RulesetAttr), 0)


def restrict_self(ruleset: int) -> None:
    """Enforce the ruleset on the calling thread; needs no_new_privs set first."""
    syscall(_RESTRICT_SELF, ruleset, 0)
