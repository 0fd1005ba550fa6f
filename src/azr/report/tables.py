"""The report's tables as JSON rows: tasks with their attempts, families, oversight, scorecard.

Texts the model wrote are passed through as data and rendered with ``textContent`` in the
page, never as markup; long ones are cut with a note that says where the full text is.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from azr.oversight.scorecard import HISTORY_DIR, SCORECARD_JSON, SCORECARD_MD
from azr.report.families import FamilyMap
from azr.report.snapshot import AttemptRow, OversightRow, ProposalRow
from azr.tasks.registry import get_task_type, task_type_names
from azr.tasks.triplet import SEED_TASK, Task

log = logging.getLogger(__name__)

Row = dict[str, Any]


def cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… [{len(text) - limit} more characters; the full text is in the ledger: azr ledger export]"


def task_rows(proposals: list[ProposalRow], limit: int) -> list[Row]:
    """One row per proposal, valid or not, newest first: what the proposer wrote and what came of it."""
    return [
        {
            "id": row.id, "step": row.step, "phase": row.phase, "type": row.task_type, "valid": row.valid,
            "reason": row.reason, "program": cut(row.program, limit), "inputs": [cut(i, limit) for i in row.inputs],
            "outputs": [cut(o, limit) for o in row.outputs], "message": cut(row.message, limit),
            "reasoning": cut(row.completion, limit), "tokens": row.completion_tokens,
            "solve_rate": row.solve_rate, "reward": row.reward, "key": row.task_key,
        }
        for row in reversed(proposals)
    ]


def unproposed_task_rows(attempts: list[AttemptRow], proposed: set[str], limit: int) -> list[Row]:
    """Rows for tasks the solver attempted that no proposal in the ledger created.

    Those are the seed tasks, which the loop builds from the identity triplet without a
    proposal; they are rebuilt here the same way so their attempts have a program to sit
    under. A key that matches no seed keeps a row naming it, so no attempt goes unlisted.
    """
    seeds = _seed_tasks()
    rows: dict[str, Row] = {}
    for attempt in attempts:
        key = attempt.task_key
        if key in proposed or key in rows:
            continue
        row: Row = {"id": -(len(rows) + 1), "type": attempt.task_type, "phase": "seed", "valid": True, "tokens": 0,
                    "solve_rate": None, "reward": None, "key": key, "message": ""}
        seed = seeds.get(key)
        if seed is not None:
            row.update(step=0, reason="seed task", program=cut(seed.program, limit),
                       inputs=[p.input for p in seed.pairs], outputs=[p.output for p in seed.pairs],
                       reasoning="(no proposer: built from the identity seed triplet)")
        else:
            row.update(step=attempt.step, reason="task not proposed in this ledger", inputs=[], outputs=[],
                       program="(program not recorded in this ledger)", reasoning="")
        rows[key] = row
    return list(rows.values())


@lru_cache(maxsize=1)
def _seed_tasks() -> dict[str, Task]:
    seeds = [task for name in task_type_names() for task in get_task_type(name).seed_tasks(SEED_TASK)]
    return {task.key(): task for task in seeds}


def attempts_by_task(attempts: list[AttemptRow], per_task: int, limit: int) -> dict[str, list[Row]]:
    """The solver's attempts on each task (by task key), the latest ``per_task`` of them."""
    grouped: dict[str, list[AttemptRow]] = defaultdict(list)
    for row in attempts:
        grouped[row.task_key].append(row)
    return {
        key: [
            {"id": a.id, "step": a.step, "purpose": a.purpose, "answer": cut(a.answer or "", limit),
             "correct": a.correct, "malformed": a.malformed, "reason": a.reason, "reward": a.reward,
             "completion": cut(a.completion, limit)}
            for a in rows[-per_task:]
        ]
        for key, rows in grouped.items()
        if per_task > 0
    }


def family_rows(fmap: FamilyMap, limit: int) -> list[Row]:
    """Families in rank order (most growing first), each with its most typical program."""
    return [
        {
            "rank": rank, "label": fam.label, "size": fam.size, "first_step": fam.first_step,
            "last_step": fam.last_step, "early_share": fam.early_share, "recent_share": fam.recent_share,
            "growth": fam.growth, "types": fam.task_types, "example_program": cut(fam.example.program, limit),
            "example_input": cut(fam.example.inputs[0] if fam.example.inputs else "", limit),
            "example_output": cut(fam.example.outputs[0] if fam.example.outputs else "", limit),
            "example_step": fam.example.step,
        }
        for rank, fam in enumerate(fmap.families, start=1)
    ]


def oversight_rows(rows: list[OversightRow], limit: int) -> list[Row]:
    return [
        {"id": r.id, "step": r.step, "event": r.event, "verdict": r.verdict, "severity": r.severity, "kind": r.kind,
         "monitor": r.monitor, "reason": cut(r.reason, limit), "detail": cut(r.detail, limit)}
        for r in reversed(rows)
    ]


def latest_scorecard(run_dir: Path, limit: int) -> Row | None:
    """The newest scorecard oversight wrote: RUN_DIR/scorecard.md|json, else the newest in its history."""
    candidates = [run_dir / SCORECARD_MD, run_dir / SCORECARD_JSON]
    for folder in (run_dir / HISTORY_DIR, run_dir / "scorecards"):
        if folder.is_dir():
            candidates += sorted(folder.glob("*.md")) + sorted(folder.glob("*.json"))
    present = [path for path in candidates if path.is_file()]
    if not present:
        return None
    newest = max(present, key=lambda path: path.stat().st_mtime)
    card: Row = {"name": str(newest.relative_to(run_dir)), "markdown": None, "json": None}
    for path in (newest.with_suffix(".md"), newest.with_suffix(".json")):
        text = _read(path)
        if text is None:
            continue
        if path.suffix == ".md":
            card["markdown"] = cut(text, limit * 10)
        else:
            try:
                card["json"] = json.loads(text)
            except ValueError:
                card["json"] = {"unreadable": cut(text, limit)}
    return card


def _read(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        log.warning("cannot read scorecard %s: %s", path, exc)
        return None
