"""Totals over a whole run, from its per-step metrics: what ``azr train`` tells a person at the end.

The source is ``metrics.jsonl`` (one row per step, every session of a resumed run), not the
ledger: the totals then cover the whole run and cost nothing to compute, where reading a long
run's proposals back from the ledger would mean gigabytes of prompts.

Rows hold the step's counts (``count/proposed/T`` and the like). Rows written before the
loop recorded counts hold only rates; their counts are rebuilt from the sizes the step works
with: a type that was proposed at all got ``proposals_per_type`` requests, and a type that
was solved at all got exactly ``solves_per_type`` attempts (the loop pads the group).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

StepRow = dict[str, float]


@dataclass(frozen=True)
class TypeTotals:
    """One task type over the run: proposals made and kept, solver attempts made and solved."""

    task_type: str
    proposed: int
    valid: int
    attempts: int
    solved: int

    @property
    def valid_fraction(self) -> float | None:
        return self.valid / self.proposed if self.proposed else None

    @property
    def accuracy(self) -> float | None:
        return self.solved / self.attempts if self.attempts else None


@dataclass(frozen=True)
class RunTotals:
    """The run as a whole: which steps were recorded, how long they took, and each type's totals."""

    steps: int
    first_step: int | None
    last_step: int | None
    step_seconds: float
    phase_seconds: dict[str, float]
    types: list[TypeTotals]

    @property
    def seconds_per_step(self) -> float | None:
        return self.step_seconds / self.steps if self.steps else None

    @property
    def overall(self) -> TypeTotals:
        """All task types together."""
        return TypeTotals(
            "all",
            proposed=sum(t.proposed for t in self.types),
            valid=sum(t.valid for t in self.types),
            attempts=sum(t.attempts for t in self.types),
            solved=sum(t.solved for t in self.types),
        )


PHASES = ("generate", "execute", "update")


def read_step_rows(path: Path) -> list[StepRow]:
    """The rows of ``metrics.jsonl`` in step order, one per step (a step written twice keeps its last row).

    A missing file is a run without steps; a line cut short by a kill is skipped, since the
    step it belonged to is rerun or rewound on resume.
    """
    if not path.is_file():
        return []
    by_step: dict[int, StepRow] = {}
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int):
            by_step[row["step"]] = row
    return [by_step[step] for step in sorted(by_step)]


def run_totals(rows: list[StepRow], task_types: list[str], proposals_per_type: int, solves_per_type: int) -> RunTotals:
    """Add up ``rows``: per-step metrics as the loop records them, each with its ``step``.

    A step-0 row holds the base model's evaluation before any update, not a step: it is left out.
    """
    rows = [row for row in rows if int(row["step"]) >= 1]
    steps = [int(row["step"]) for row in rows]
    return RunTotals(
        steps=len(rows),
        first_step=min(steps, default=None),
        last_step=max(steps, default=None),
        step_seconds=sum(row.get("time/step", 0.0) for row in rows),
        phase_seconds={phase: sum(row.get(f"time/{phase}", 0.0) for row in rows) for phase in PHASES},
        types=[_type_totals(rows, name, proposals_per_type, solves_per_type) for name in task_types],
    )


def _type_totals(rows: list[StepRow], name: str, proposals_per_type: int, solves_per_type: int) -> TypeTotals:
    proposed = valid = attempts = solved = 0
    for row in rows:
        made, kept = _counts(row, name, "proposed", "valid", "valid_rate", proposals_per_type)
        tried, right = _counts(row, name, "attempts", "solved", "solve_rate", solves_per_type)
        proposed, valid, attempts, solved = proposed + made, valid + kept, attempts + tried, solved + right
    return TypeTotals(name, proposed=proposed, valid=valid, attempts=attempts, solved=solved)


def _counts(row: StepRow, name: str, total: str, hits: str, rate: str, size: int) -> tuple[int, int]:
    """(total, hits) of one kind for type ``name`` in one row: its counts, else rebuilt from its rate."""
    if f"count/{total}/{name}" in row:
        return round(row[f"count/{total}/{name}"]), round(row.get(f"count/{hits}/{name}", 0.0))
    fraction = row.get(f"{rate}/{name}")
    if fraction is None:
        return 0, 0
    return size, round(fraction * size)
