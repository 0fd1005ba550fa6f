"""The one interface every event of the loop passes through on its way to the monitors.

The loop produces six kinds of event. Each is an :class:`Event` carrying the texts a
monitor may read (``texts``: field name -> text) and the facts it may count (``data``).
A monitor looks only at the kinds it names in ``watches`` and returns findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Sequence

from azr.oversight.decision import Finding

EventKind = Literal["proposal", "validation", "completion", "attempt", "step_metrics", "tripwire"]


@dataclass(frozen=True)
class Event:
    """One thing that happened in the loop, as the monitors see it."""

    kind: EventKind
    step: int | None = None
    role: str = ""
    task_type: str = ""
    texts: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


class Monitor(Protocol):
    """A check over events: returns nothing to allow, findings to flag or veto."""

    name: str
    watches: frozenset[str]

    def review(self, event: Event) -> Sequence[Finding]: ...
