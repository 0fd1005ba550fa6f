"""What a reader gets back for each ledger row."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Record:
    """One ledger row. ``step`` is None for records outside any step (run start, acks)."""

    id: int
    step: int | None
    kind: str
    payload: dict[str, Any]
    created_at: str
    hash: str

    @classmethod
    def from_row(cls, row: tuple[int, int | None, str, str, str, str]) -> "Record":
        record_id, step, kind, created_at, payload, digest = row
        return cls(id=record_id, step=step, kind=kind, payload=json.loads(payload), created_at=created_at, hash=digest)
