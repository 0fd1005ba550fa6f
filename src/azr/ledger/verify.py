"""Re-derive the ledger's hash chain and say exactly where it breaks.

Four kinds of damage are looked for: a record whose hash no longer follows from its
contents and its predecessor (an edit, or rows swapped), a gap in the ids (a deletion),
a table shorter than its head anchor (a cut-off end), and a step whose closing record
does not match the records before it. Missing append-only triggers are reported too:
someone removed them, most likely to edit the table.

The head anchor sits beside the database, so whoever deletes the last records and
re-creates the triggers can rewrite it to match; nothing inside the run directory then
shows the cut. Heads kept elsewhere (:mod:`azr.ledger.kept`) close that gap: each must
still be in the table with the hash it had.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from azr.ledger.anchor import HeadAnchor, anchor_mismatch, read_anchor
from azr.ledger.chain import GENESIS_HASH, record_hash
from azr.ledger.errors import LedgerError
from azr.ledger.kept import KeptHead
from azr.ledger.schema import STEP_END_KIND, missing_guards

MAX_LISTED = 50


@dataclass
class VerifyReport:
    """``ok`` is True when nothing is wrong; ``notes`` are harmless findings worth showing."""

    ok: bool
    checked: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    last_id: int = 0
    last_complete_step: int | None = None
    last_hash: str | None = None

    @property
    def head(self) -> KeptHead | None:
        """The head to keep outside the run directory, None for an empty ledger."""
        return KeptHead(self.last_id, self.last_hash) if self.last_hash else None


class _Problems:
    """Collects problems, listing the first MAX_LISTED and counting the rest."""

    def __init__(self) -> None:
        self.listed: list[str] = []
        self.hidden = 0

    def add(self, message: str) -> None:
        if len(self.listed) < MAX_LISTED:
            self.listed.append(message)
        else:
            self.hidden += 1

    def as_list(self) -> list[str]:
        tail = [f"... and {self.hidden} more problem(s)"] if self.hidden else []
        return self.listed + tail


class _StepCheck:
    """Checks each ``step_end`` against the run of same-step records just before it."""

    def __init__(self, problems: _Problems) -> None:
        self.problems = problems
        self.streak_step: int | None = None
        self.streak = 0
        self.last_closed: int | None = None

    def see(self, record_id: int, step: int | None, kind: str, payload: str) -> None:
        if kind != STEP_END_KIND:
            if step is not None and step == self.streak_step:
                self.streak += 1
            else:
                self.streak_step, self.streak = step, (1 if step is not None else 0)
            return
        self._close(record_id, step, payload)
        self.streak_step, self.streak = None, 0

    def _close(self, record_id: int, step: int | None, payload: str) -> None:
        where = f"record {record_id} (end of step {step})"
        try:
            body = json.loads(payload)
            expected = int(body["records"])
        except (ValueError, KeyError, TypeError):
            self.problems.add(f"{where}: its payload is not a valid step closing record")
            return
        if step is None:
            self.problems.add(f"{where}: a step closing record without a step")
            return
        if self.last_closed is not None and step <= self.last_closed:
            self.problems.add(f"{where}: step {step} closes after step {self.last_closed}; steps are out of order")
        self.last_closed = step
        have = self.streak if self.streak_step == step else 0
        if have < expected:
            self.problems.add(
                f"{where}: the step committed {expected} record(s) but only {have} precede its closing record"
            )


def verify_ledger(conn: sqlite3.Connection, run_dir: Path, kept: Sequence[KeptHead] = ()) -> VerifyReport:
    """Walk every record in id order in one read snapshot and report what does not hold.

    ``kept`` are heads recorded outside the run directory; each must still be there, unchanged.
    """
    problems = _Problems()
    notes: list[str] = []
    try:
        anchor = read_anchor(run_dir)
    except LedgerError as exc:
        anchor = None
        problems.add(str(exc))
    for name in missing_guards(conn):
        problems.add(f"the append-only trigger {name!r} is missing: someone removed it, likely to change records")

    steps = _StepCheck(problems)
    prev_hash, expected_id, checked = GENESIS_HASH, 1, 0
    hash_at_anchor: str | None = None
    count_to_anchor = 0
    wanted = {head.last_id for head in kept}
    found: dict[int, str] = {}
    cursor = conn.execute("SELECT id, step, kind, created_at, payload, hash FROM records ORDER BY id")
    for record_id, step, kind, created_at, payload, digest in cursor:
        checked += 1
        after_gap = record_id != expected_id
        if after_gap:
            problems.add(f"records {expected_id}..{record_id - 1} are missing: they were deleted")
        if record_hash(prev_hash, record_id, step, kind, created_at, payload) != digest and not after_gap:
            problems.add(
                f"record {record_id} (step {step}, kind {kind!r}): its hash does not follow from its contents "
                "and the record before it: it was edited, moved or inserted"
            )
        steps.see(record_id, step, kind, payload)
        if record_id in wanted:
            found[record_id] = digest
        if anchor is not None and record_id <= anchor.last_id:
            count_to_anchor += 1
            if record_id == anchor.last_id:
                hash_at_anchor = digest
        prev_hash, expected_id = digest, record_id + 1
    last_id = expected_id - 1

    _check_anchor(anchor, last_id, hash_at_anchor, count_to_anchor, checked, problems, notes)
    _check_kept(kept, found, last_id, problems)
    last_step = conn.execute("SELECT MAX(step) FROM records WHERE kind = ?", (STEP_END_KIND,)).fetchone()[0]
    listed = problems.as_list()
    return VerifyReport(
        ok=not listed, checked=checked, problems=listed, notes=notes, last_id=last_id, last_complete_step=last_step,
        last_hash=prev_hash if checked else None,
    )


def _check_kept(kept: Sequence[KeptHead], found: dict[int, str], last_id: int, problems: _Problems) -> None:
    for head in kept:
        if head.last_id > last_id:
            problems.add(
                f"the ledger ends at record {last_id} but a head kept outside the run directory says it reached "
                f"record {head.last_id}: {head.last_id - last_id} record(s) were cut off the end"
            )
        elif found.get(head.last_id) != head.last_hash:
            problems.add(
                f"record {head.last_id} no longer has the hash kept outside the run directory: "
                "it or a record before it was changed, or records after a cut were written anew"
            )


def _check_anchor(
    anchor: HeadAnchor | None,
    last_id: int,
    hash_at_anchor: str | None,
    count_to_anchor: int,
    checked: int,
    problems: _Problems,
    notes: list[str],
) -> None:
    if anchor is None:
        if checked:
            problems.add("the head anchor file is missing: records cut off the end could not be detected")
        return
    mismatch = anchor_mismatch(anchor, last_id, hash_at_anchor)
    if mismatch:
        problems.add(mismatch)
    elif count_to_anchor != anchor.records:
        problems.add(
            f"the head anchor counted {anchor.records} record(s) up to record {anchor.last_id}, "
            f"the table holds {count_to_anchor}"
        )
    if last_id > anchor.last_id:
        notes.append(
            f"{last_id - anchor.last_id} record(s) after the head anchor: committed while this check ran, "
            "or just before a crash; the next writer advances the anchor"
        )
