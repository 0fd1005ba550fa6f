"""What goes into the sandbox and what comes back: the executor's whole contract.

Other layers (tasks, eval, oversight) build :class:`Snippet` objects and read
:class:`ExecResult` objects; only :mod:`azr.executor` touches processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence


@dataclass(frozen=True)
class Snippet:
    """One unit of untrusted code.

    ``code`` is executed as a module body in a fresh namespace; if ``call`` is given it is
    then evaluated as an expression in that namespace and ``repr`` of its value is returned.
    ``seed_slot`` picks a group of workers: different slots run in different processes with
    different hash seeds and address layouts, so running one snippet under slot 0 and slot 1
    exposes results that depend on ``hash()`` or ``id()``.
    ``timeout_s`` is the wall-clock limit; ``None`` takes the executor's ``default_timeout_s``.
    """

    code: str
    call: str | None = None
    timeout_s: float | None = None
    seed_slot: int = 0


@dataclass(frozen=True)
class ExecResult:
    """The structured outcome of one snippet. ``ok`` is True only when it ran to completion.

    ``killed_by_limit`` names the limit that stopped it: ``wall_time`` (then ``timed_out``),
    ``cpu_time``, ``memory`` (a MemoryError after the child really used at least half its
    address-space limit, by the kernel's count; a single oversized request that is refused
    at once stays the program's own MemoryError), ``file_size`` or ``output``. ``error_type`` is the exception's class name, or one of ``Timeout``,
    ``Killed`` (by a signal), ``Exited`` (before returning), ``OutputLimit``,
    ``ReprTooLong``, ``SandboxError`` and ``WorkerLost``.
    """

    ok: bool
    value_repr: str | None = None
    stdout: str = ""
    stdout_truncated: bool = False
    error_type: str | None = None
    error_message: str | None = None
    timed_out: bool = False
    killed_by_limit: str | None = None
    duration_s: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def worker_lost(cls, message: str, *, timed_out: bool = False) -> ExecResult:
        """The result of a snippet whose worker (a process, or a cluster actor) died under it."""
        return cls(ok=False, error_type="WorkerLost", error_message=message, timed_out=timed_out,
                   killed_by_limit="wall_time" if timed_out else None)


@dataclass(frozen=True)
class LayerStatus:
    """One isolation layer of the sandbox and whether this host lets it apply.

    ``blocks`` says in words what the layer stops, so a missing layer tells the user
    exactly which attacks are no longer contained.
    """

    name: str
    active: bool
    detail: str
    blocks: str


class SnippetRunner(Protocol):
    """Anything that runs a batch of snippets and returns one result per snippet, in order."""

    def run_batch(self, snippets: Sequence[Snippet]) -> list[ExecResult]: ...
