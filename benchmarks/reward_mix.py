"""What a value-shaping mix changes: the same self-play run with and without an explainability term.

Both arms are real `azr train` runs of the packaged default model with the same preset, seed,
reply style and thread count (one each, side by side). The mixed arm adds the explainability
term (the reasoning states what the reply answers, docs/oversight.md "Value shaping") to both
roles' rewards. Read back from each run's ``metrics.jsonl`` and compared over the steps both
reached:

- valid-proposal rate and solver accuracy: what the mix costs in raw performance;
- malformed rates: whether replies keep the reasoning-then-answer shape;
- reasoning length (characters) per role, and the explainability term's mean per role, which
  the default arm does not weigh and so does not compute: "-" there.

Run: `.venv/bin/python benchmarks/reward_mix.py --steps 12 --deadline-min 55 --keep runs/reward-mix`.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from _arms import Arm, mean_of, per_type, run_arms


def arms(weight: float, proposer_tokens: int, solver_tokens: int) -> list[Arm]:
    style = ("tasks.reply_style=think", f"selfplay.proposer.max_new_tokens={proposer_tokens}",
             f"selfplay.solver.max_new_tokens={solver_tokens}")
    return [
        Arm("task-reward", style),
        Arm(f"explainability-{weight:g}", (*style, f"selfplay.rewards.solve.explainability={weight}",
                                             f"selfplay.rewards.propose.explainability={weight}")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="cpu-small")
    parser.add_argument("--steps", type=int, default=3, help="self-play steps per arm at most")
    parser.add_argument("--deadline-min", type=float, help="interrupt both arms after this many minutes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weight", type=float, default=0.5, help="the explainability term's weight, both roles")
    parser.add_argument("--proposer-tokens", type=int, default=320)
    parser.add_argument("--solver-tokens", type=int, default=256)
    parser.add_argument("--keep", type=Path, help="keep the runs here (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="azr-reward-mix-") as scratch:
        root = args.keep or Path(scratch)
        deadline = args.deadline_min * 60 if args.deadline_min else None
        results = run_arms(arms(args.weight, args.proposer_tokens, args.solver_tokens), args.preset, args.steps,
                           args.seed, root, together=True, deadline_s=deadline)
    shared = min(len(rows) for rows, _ in results.values())
    table = Table(title=f"reward mixes, preset {args.preset}, think style, seed {args.seed}, steps 1-{shared} "
                        "(both arms), one torch thread per arm, arms side by side")
    columns = ("arm", "valid proposals", "solver accuracy", "malformed propose", "malformed solve",
               "reasoning chars propose", "reasoning chars solve", "explain. propose", "explain. solve",
               "s/step", "steps run")
    for column in columns:
        table.add_column(column, justify="left" if column == "arm" else "right")
    for name, (rows, _) in results.items():
        rows_ = rows[:shared]
        table.add_row(
            name,
            per_type(rows_, "valid_rate/{t}"),
            per_type(rows_, "solve_rate/{t}"),
            per_type(rows_, "malformed_rate/{t}/propose"),
            per_type(rows_, "malformed_rate/{t}/solve"),
            per_type(rows_, "reasoning_chars/{t}/propose"),
            per_type(rows_, "reasoning_chars/{t}/solve"),
            per_type(rows_, "reward_term/{t}/propose/explainability"),
            per_type(rows_, "reward_term/{t}/solve/explainability"),
            mean_of(rows_, ["time/step"]),
            str(len(rows)),
        )
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
