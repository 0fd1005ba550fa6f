"""Emptying a scratch directory whatever a program left in it, without recursion.

A program controls the shape of what it leaves: a chain of thousands of nested directories
(deeper than Python's recursion limit, longer than ``PATH_MAX``), directories and files with
mode 000, dangling symlinks. ``shutil.rmtree`` and ``os.walk`` recurse in Python 3.11 and
join paths, so such a tree made them raise out of the executor. This walk keeps one open
directory fd at a time, moves by names relative to it (``..`` on the way up, which is
safe because the program that built the tree is dead and nothing renames under us), and
never follows a symlink. An entry that cannot be removed is skipped and named in the
returned list of problems, never raised.

Kept free of heavy imports (no ``logging``): the fork-server imports it, and every
child inherits what the fork-server has imported.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass
class Cleared:
    """What emptying a directory found: the bytes its files held (every name of a hard link
    counts; an upper bound) and one line per entry that could not be removed."""

    used_bytes: int = 0
    problems: list[str] = field(default_factory=list)


def clear_directory(path: str) -> Cleared:
    """Remove everything inside ``path`` (not ``path`` itself); an empty ``problems`` list
    in the answer means the directory is empty."""
    cleared = Cleared()
    problems = cleared.problems
    try:
        os.chmod(path, 0o700)
        fd = os.open(path, _DIR_FLAGS)
    except OSError as exc:
        problems.append(f"cannot open {path} for cleaning: {exc}")
        return cleared
    stack = [("", _unlink_files(fd, cleared))]
    while True:
        _, subdirs = stack[-1]
        if subdirs:
            name = subdirs.pop()
            try:
                os.chmod(name, 0o700, dir_fd=fd)  # not a symlink: _unlink_files checked with lstat
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                problems.append(f"cannot enter {name!r} under {path}: {exc}")
                continue
            os.close(fd)
            fd = child
            stack.append((name, _unlink_files(fd, cleared)))
            continue
        name, _ = stack.pop()
        if not stack:
            break
        try:
            parent = os.open("..", _DIR_FLAGS, dir_fd=fd)
        except OSError as exc:
            problems.append(f"cannot climb back out of {name!r} under {path}: {exc}")
            break
        os.close(fd)
        fd = parent
        try:
            os.rmdir(name, dir_fd=fd)
        except OSError as exc:
            problems.append(f"cannot remove directory {name!r} under {path}: {exc}")
    os.close(fd)
    return cleared


def remove_tree(path: str) -> list[str]:
    """Remove ``path`` and everything in it. Returns what could not be removed; never raises."""
    if not os.path.lexists(path):
        return []
    problems = clear_directory(path).problems
    if not problems:
        try:
            os.rmdir(path)
        except OSError as exc:
            problems.append(f"cannot remove {path}: {exc}")
    return problems


def _unlink_files(fd: int, cleared: Cleared) -> list[str]:
    """Unlink every non-directory in the directory ``fd`` and return its subdirectories'
    names; count the bytes removed and note whatever cannot be removed in ``cleared``."""
    subdirs: list[str] = []
    try:
        names = os.listdir(fd)
    except OSError as exc:
        cleared.problems.append(f"cannot list a scratch directory: {exc}")
        return []
    for name in names:
        try:
            info = os.lstat(name, dir_fd=fd)
            cleared.used_bytes += info.st_blocks * 512
            if stat.S_ISDIR(info.st_mode):
                subdirs.append(name)
            else:
                os.unlink(name, dir_fd=fd)
        except OSError as exc:
            cleared.problems.append(f"cannot remove {name!r} from a scratch directory: {exc}")
    return subdirs
