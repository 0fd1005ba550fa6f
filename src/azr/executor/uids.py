"""Sandbox uids per executor: each live executor on a host leases a block no other one holds.

Workers that shared a uid would share its RLIMIT_NPROC budget (one busy executor could make
another's children fail to start threads) and would be one uid for the kernel's
permission checks. A uid is held by an exclusive ``flock`` on its own lock file for the
executor's lifetime; the kernel drops the lock when the process dies, so a crashed run
leaks nothing and needs no clean-up.
"""

from __future__ import annotations

import fcntl
import tempfile
from pathlib import Path
from typing import IO

from azr.executor.errors import ExecutorError

LEASE_DIR = Path(tempfile.gettempdir()) / "azr-uid-leases"
MAX_BLOCKS = 64


class UidLease:
    """``size`` consecutive uids from ``first``, held until :meth:`release`."""

    def __init__(self, first: int, size: int, handles: list[IO[str]]) -> None:
        self.first = first
        self.size = size
        self._handles = handles

    def release(self) -> None:
        """Give the uids back; safe to call twice."""
        for handle in self._handles:
            handle.close()
        self._handles = []


def lease_uids(base: int, size: int, lease_dir: Path = LEASE_DIR, max_blocks: int = MAX_BLOCKS) -> UidLease:
    """The first block ``base + k * size`` (k < ``max_blocks``) whose every uid is free."""
    lease_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for block in range(max_blocks):
        first = base + block * size
        handles = _lock_all(lease_dir, range(first, first + size))
        if handles is not None:
            return UidLease(first, size, handles)
    raise ExecutorError(
        f"every block of {size} sandbox uids from {base} to {base + max_blocks * size - 1} is held by another "
        f"running executor on this host (locks in {lease_dir}); stop some, or set executor.sandbox_uid to a "
        "free range"
    )


def _lock_all(lease_dir: Path, uids: range) -> list[IO[str]] | None:
    """Locks on every uid in ``uids``, or None (and nothing held) if one is taken."""
    handles: list[IO[str]] = []
    for uid in uids:
        handle = open(lease_dir / f"{uid}.lock", "a", encoding="utf-8")  # not inherited by workers (PEP 446)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            for held in handles:
                held.close()
            return None
        handles.append(handle)
    return handles
