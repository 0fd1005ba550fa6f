"""The hash chain: how a record's bytes and its place in the ledger become its hash.

Each hash covers the previous record's hash, the record's own id, step, kind, timestamp
and payload text. Covering the id means a row moved to another position no longer
matches; covering the previous hash means an edit anywhere breaks every later link.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from azr.ledger.errors import LedgerError

GENESIS_HASH = "0" * 64


def canonical_json(payload: dict[str, Any], kind: str) -> str:
    """Serialise a payload to one stable text so the same dict always hashes the same.

    Non-finite floats (a NaN loss, say) are kept, written as the strings "NaN",
    "Infinity" and "-Infinity": the ledger must not drop what happened, and standard
    JSON readers (pyarrow, browsers) reject bare NaN tokens.
    """
    if not isinstance(payload, dict):
        raise LedgerError(f"ledger record {kind!r}: the payload must be a dict, not {type(payload).__name__}")
    try:
        return json.dumps(
            _finite(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise LedgerError(
            f"ledger record {kind!r}: payload is not JSON-serialisable ({exc}); "
            "convert objects first, e.g. with dataclasses.asdict"
        ) from exc


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def record_hash(prev_hash: str, record_id: int, step: int | None, kind: str, created_at: str, payload_json: str) -> str:
    """SHA-256 over the record's fields, each on its own line, chained to ``prev_hash``."""
    step_text = "" if step is None else str(step)
    text = "\n".join((prev_hash, str(record_id), step_text, kind, created_at, payload_json))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
