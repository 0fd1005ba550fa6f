"""Everything the page shows, as one JSON-ready dict built from a :class:`RunSnapshot`.

The static report embeds this dict; the dashboard serves it at ``/views.json`` and the
page redraws from it. One builder, one renderer: the two can never show different things.
"""

from __future__ import annotations

import time
from typing import Any

from azr.report import figures, tables
from azr.report.config import ReportConfig
from azr.report.families import task_families
from azr.report.snapshot import RunSnapshot

Views = dict[str, Any]

NOTES = {
    "curves": "No step metrics yet: the run has not finished its first training step.",
    "difficulty": "No valid proposal has a solve rate yet (they get one in training steps, not in seeding).",
    "families": "No valid proposal yet, so there are no task families to map.",
    "eval": "No evaluation records in this ledger (kind \"eval\"): run `azr eval` on a checkpoint of this run, "
            "or enable in-training evaluation.",
    "oversight": "No oversight records in this ledger (kind \"oversight\"): oversight is off for this run, "
                 "or the run has not reached its first step.",
    "scorecard": "No scorecard in the run directory yet: oversight writes one every N steps and at the end.",
    "tasks": "Only the newest proposals are listed (see max_tasks); every one is in the ledger: azr ledger export.",
}
ALL_ALLOWED = "Oversight reviewed {count} event(s) and allowed every one: nothing was flagged or vetoed."


def build_views(snap: RunSnapshot, config: ReportConfig) -> Views:
    """The figures, tables and notes of the page; absent sections carry a note saying why."""
    valid = [row for row in snap.proposals if row.valid]
    fmap = task_families(valid, config.embedder, config.max_families, config.map_points)
    limit = config.max_text_chars
    figs = {
        "rewards": figures.metric_lines(snap.metrics, "reward/", "Rewards per (task type, role)", "mean reward"),
        "reward_terms": figures.metric_lines(snap.metrics, "reward_term/", "Reward terms per (task type, role), "
                                             "unweighted", "mean term value"),
        "reasoning": figures.metric_lines(snap.metrics, "reasoning_chars/", "Reasoning length per (task type, role)",
                                          "characters inside <think>"),
        "valid_rate": figures.metric_lines(snap.metrics, "valid_rate/", "Valid-proposal rate", "fraction valid",
                                           y_range=[0, 1.02]),
        "solve_rate": figures.solve_rates(snap.metrics),
        "malformed": figures.metric_lines(snap.metrics, "malformed_rate/", "Malformed replies per (task type, role)",
                                          "fraction malformed", y_range=[0, 1.02]),
        "lengths": figures.completion_lengths(snap.proposals, snap.attempts),
        "difficulty": figures.difficulty(snap.proposals),
        "family_map": figures.family_map(fmap),
        "family_shares": figures.family_shares(fmap),
        "eval": figures.eval_curves(snap.evals),
        "oversight": figures.oversight_timeline(snap.oversight),
    }
    scorecard = tables.latest_scorecard(snap.run_dir, limit)
    listed = snap.proposals[-config.max_tasks:]
    unproposed = tables.unproposed_task_rows(snap.attempts, {row.task_key for row in snap.proposals}, limit)
    keys = {row.task_key for row in listed} | {row["key"] for row in unproposed}
    attempts = [row for row in snap.attempts if row.task_key in keys]
    present = {
        "curves": bool(snap.metrics),
        "tasks": len(listed) == len(snap.proposals),
        "difficulty": figs["difficulty"] is not None,
        "families": bool(fmap.families),
        "eval": bool(snap.evals),
        "oversight": bool(snap.oversight),
        "scorecard": scorecard is not None,
    }
    steps = snap.steps
    return {
        "meta": {
            "run_dir": str(snap.run_dir),
            "last_id": snap.last_id,
            "first_step": steps[0] if steps else None,
            "last_step": steps[-1] if steps else None,
            "counts": dict(sorted(snap.counts.items())),
            "model": str((snap.config.get("engine") or {}).get("model", "")),
            "checkpoints": snap.checkpoints,
            "rewound_steps": sorted(snap.rewound_steps),
            "built_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "embedder": config.embedder,
            "oversight_allowed": snap.oversight_allowed,
        },
        "figures": {name: fig for name, fig in figs.items() if fig is not None},
        "notes": _notes(present, snap.oversight_allowed),
        "families": tables.family_rows(fmap, limit),
        "oversight": tables.oversight_rows(snap.oversight, limit),
        "scorecard": scorecard,
        "tasks": tables.task_rows(listed, limit) + unproposed,
        "attempts": tables.attempts_by_task(attempts, config.attempts_per_task, limit),
    }


def _notes(present: dict[str, bool], allowed: int) -> dict[str, str]:
    notes = {name: note for name, note in NOTES.items() if not present[name]}
    if "oversight" in notes and allowed:
        notes["oversight"] = ALL_ALLOWED.format(count=allowed)
    return notes
