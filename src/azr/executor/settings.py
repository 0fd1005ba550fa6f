"""What the executor tells each fork-server at start: plain data, sent as JSON.

Kept apart from :mod:`azr.executor.config` so the worker never imports pydantic (every
module a worker imports is inherited by every sandboxed child).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerSettings:
    """One fork-server's settings; layers that are off on this host come as None/0/False."""

    scratch: str
    uid: int | None
    landlock_abi: int
    seccomp: bool
    rlimits: list[tuple[str, int]]
    cpu_time_s: int
    preload: list[str]
    read_paths: list[str]
    max_output_bytes: int
    output_kill_bytes: int
    max_value_bytes: int
    max_scratch_bytes: int
