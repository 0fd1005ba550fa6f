"""Copy a ledger out to JSON Lines or Parquet for analysis tools that do not speak SQLite.

Payloads differ from kind to kind, so Parquet keeps each payload as JSON text in one
column rather than guessing a schema; JSON Lines nests it as an object.

An export leaves the hash chain behind, so a copy of a tampered ledger would look as
good as any other: the ledger is verified first, and one that fails is not exported
unless the caller forces it (and is then told what is wrong).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from azr.ledger.errors import LedgerError
from azr.ledger.records import Record
from azr.ledger.store import Ledger

FORMATS = ("jsonl", "parquet")
BATCH_ROWS = 5000

PARQUET_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("step", pa.int64()),
        ("kind", pa.string()),
        ("created_at", pa.string()),
        ("hash", pa.string()),
        ("payload", pa.string()),
    ]
)


@dataclass(frozen=True)
class Export:
    """Where the records went, and what verification found wrong (empty: the ledger verified)."""

    path: Path
    problems: list[str] = field(default_factory=list)


def export_ledger(
    run_dir: str | Path, fmt: str, out_path: str | Path | None = None, kind: str | None = None, force: bool = False
) -> Export:
    """Verify the ledger, then write every record (or those of one kind) to ``out_path``.

    A ledger that fails verification raises :class:`LedgerError` and nothing is written,
    unless ``force``: then it is exported and the problems come back with the path.
    Without ``out_path`` the file goes beside the ledger as ``ledger.<fmt>`` (or
    ``ledger-<kind>.<fmt>``). The ledger is opened read-only, so a running job is safe.
    """
    if fmt not in FORMATS:
        raise LedgerError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    run_dir = Path(run_dir)
    if out_path is None:
        stem = "ledger" if kind is None else f"ledger-{kind}"
        out_path = run_dir / f"{stem}.{fmt}"
    out_path = Path(out_path)
    with Ledger.open(run_dir, readonly=True) as ledger:
        report = ledger.verify()
        if not report.ok and not force:
            more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
            raise LedgerError(
                f"refusing to export {run_dir}: its ledger fails verification: {report.problems[0]}{more}; "
                f"see `azr ledger verify {run_dir}`, or pass --force to export it anyway"
            )
        out_path.parent.mkdir(parents=True, exist_ok=True)
        records = ledger.records(kind=kind)
        if fmt == "jsonl":
            _write_jsonl(records, out_path)
        else:
            _write_parquet(records, out_path)
    return Export(out_path, report.problems)


def record_row(record: Record) -> dict[str, object]:
    """One record as a flat dict, the shape both formats share."""
    return {
        "id": record.id,
        "step": record.step,
        "kind": record.kind,
        "created_at": record.created_at,
        "hash": record.hash,
        "payload": record.payload,
    }


def _write_jsonl(records: Iterator[Record], out_path: Path) -> None:
    with open(out_path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record_row(record), ensure_ascii=False) + "\n")


def _write_parquet(records: Iterator[Record], out_path: Path) -> None:
    with pq.ParquetWriter(out_path, PARQUET_SCHEMA) as writer:
        batch: list[dict[str, object]] = []
        for record in records:
            row = record_row(record)
            row["payload"] = json.dumps(record.payload, ensure_ascii=False, sort_keys=True)
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                writer.write_table(pa.Table.from_pylist(batch, schema=PARQUET_SCHEMA))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=PARQUET_SCHEMA))
