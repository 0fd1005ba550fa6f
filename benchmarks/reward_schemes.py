"""What the two proposer reward schemes make of the same proposals: a recorded run, re-scored.

A run is trained under one scheme, but its ledger holds everything either scheme needs
for every proposer rollout: whether it was malformed, valid, and its solve rate. Both are
applied here to the same groups (one per step and task type, as in training) and turned
into task-relative advantages, so the difference the scheme makes to the policy gradient
is read off real proposals instead of being argued from the equations.

The question is the one the reference's scheme answers: under the paper's equations a
valid task that is always or never solved earns 0, a hair above a failed one, and after
group normalisation it sits close to a learnable task; under the reference's it is
punished. The table shows each kind of proposal's mean advantage under both schemes, and
the share of groups with no signal at all (every reward equal).

Run: `.venv/bin/python benchmarks/reward_schemes.py runs/NAME` (any finished or running run).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path
from statistics import mean
from typing import get_args

from rich.console import Console
from rich.table import Table

from azr.engine.advantages import task_relative_advantages
from azr.ledger import Ledger
from azr.selfplay.rewards import RewardScheme, proposer_reward
from azr.tasks.base import REWARD_MALFORMED

WELL_FORMED_INVALID = -0.5
KINDS = ("malformed", "invalid", "never solved", "always solved", "learnable")


def kind_of(payload: dict) -> str:
    """Which of ``KINDS`` one proposal record is."""
    if payload["malformed"]:
        return "malformed"
    if not payload["valid"]:
        return "invalid"
    rate = payload["solve_rate"]
    if rate == 0.0:
        return "never solved"
    if rate == 1.0:
        return "always solved"
    return "learnable"


def read_groups(run_dir: Path) -> dict[tuple[int, str], list[dict]]:
    """Trained proposals by (step, task type); a step rewound on resume keeps only its rerun."""
    groups: dict[tuple[int, str], list[dict]] = defaultdict(list)
    with Ledger.open(run_dir, readonly=True) as ledger:
        for record in ledger.records():
            if record.kind == "rewind":
                discarded = set(record.payload["discarded_steps"])
                for key in [key for key in groups if key[0] in discarded]:
                    del groups[key]
            elif record.kind == "proposal" and record.payload["phase"] == "train":
                groups[record.step, record.payload["task_type"]].append(record.payload)
    return groups


def rescore(groups: dict[tuple[int, str], list[dict]], scheme: RewardScheme) -> tuple[dict[str, list[float]], int]:
    """Advantages per kind of proposal under ``scheme``, and how many groups had no signal."""
    by_kind: dict[str, list[float]] = defaultdict(list)
    flat = 0
    for payloads in groups.values():
        rewards = [
            proposer_reward(scheme, p["valid"], REWARD_MALFORMED if p["malformed"] else WELL_FORMED_INVALID,
                            p["solve_rate"])
            for p in payloads
        ]
        flat += len(set(rewards)) == 1
        for payload, advantage in zip(payloads, task_relative_advantages(rewards, ["g"] * len(rewards))):
            by_kind[kind_of(payload)].append(advantage)
    return by_kind, flat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", type=Path, help="a run directory with a ledger")
    args = parser.parse_args()
    if not (args.run_dir / "ledger.sqlite").is_file():
        parser.error(f"{args.run_dir} holds no ledger.sqlite")
    groups = read_groups(args.run_dir)
    if not groups:
        parser.error(f"{args.run_dir} has no trained proposals yet")
    schemes = get_args(RewardScheme)
    scored = {scheme: rescore(groups, scheme) for scheme in schemes}
    counts = {kind: len(scored[schemes[0]][0].get(kind, [])) for kind in KINDS}
    table = Table(title=f"{args.run_dir}: {len(groups)} proposer groups, {sum(counts.values())} proposals")
    table.add_column("proposal")
    table.add_column("count", justify="right")
    for scheme in schemes:
        table.add_column(f"mean adv., {scheme}", justify="right")
    for kind in KINDS:
        cells = [f"{mean(scored[s][0][kind]):+.2f}" if counts[kind] else "-" for s in schemes]
        table.add_row(kind, str(counts[kind]), *cells)
    table.add_row("groups with no signal", "", *[f"{scored[s][1]} of {len(groups)}" for s in schemes])
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
