"""Which reply style a small model should train with: short real self-play runs, one per style.

Absolute Zero's replies reason inside ``<think>`` before they answer, and any other shape
earns the format penalty. A model too small to follow that shape would spend its whole
run being punished for format, so the CPU presets' style is chosen by what this measures:
for each style, a few steps of the real main path (``azr train`` on the packaged default
model, same preset, seed and thread count), read back from each run's ``metrics.jsonl``:

- malformed rate per role: replies that do not have the style's shape;
- valid-proposal rate and solver accuracy: what the loop can learn from at all;
- tokens generated and seconds per step: what the style costs.

The think arm gets a larger token budget, since its reasoning comes before the answer and a
reply cut off by the budget is malformed. Arms run one after another, never together.

Run: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/reply_style.py --steps 3`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from _arms import Arm, mean_of, per_type, run_arms


def arms(think_proposer_tokens: int, think_solver_tokens: int) -> list[Arm]:
    return [
        Arm("direct", ("tasks.reply_style=direct",)),
        Arm("think", ("tasks.reply_style=think",
                      f"selfplay.proposer.max_new_tokens={think_proposer_tokens}",
                      f"selfplay.solver.max_new_tokens={think_solver_tokens}")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="cpu-small")
    parser.add_argument("--steps", type=int, default=3, help="self-play steps per arm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--think-proposer-tokens", type=int, default=320)
    parser.add_argument("--think-solver-tokens", type=int, default=256)
    parser.add_argument("--keep", type=Path, help="keep the runs here (default: a temporary directory)")
    args = parser.parse_args()
    table = Table(title=f"reply styles, preset {args.preset}, {args.steps} steps each, "
                        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    for column in ("style", "malformed propose", "malformed solve", "valid proposals", "solver accuracy",
                   "tokens/step", "s/step", "run wall s"):
        table.add_column(column, justify="left" if column == "style" else "right")
    with tempfile.TemporaryDirectory(prefix="azr-reply-style-") as scratch:
        root = args.keep or Path(scratch)
        results = run_arms(arms(args.think_proposer_tokens, args.think_solver_tokens), args.preset, args.steps,
                           args.seed, root)
        for name, (rows, wall) in results.items():
            table.add_row(
                name,
                per_type(rows, "malformed_rate/{t}/propose"),
                per_type(rows, "malformed_rate/{t}/solve"),
                per_type(rows, "valid_rate/{t}"),
                per_type(rows, "solve_rate/{t}"),
                mean_of(rows, ["tokens/generated"]),
                mean_of(rows, ["time/step"]),
                f"{wall:.0f}",
            )
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
