"""Arms of a benchmark: real `azr train` runs of the main path that differ only in overrides.

Shared by the benchmarks that compare settings by running them (reply styles, reward mixes):
same preset, seed and thread count per arm, read back from each run's ``metrics.jsonl``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

from azr.selfplay.run_totals import read_step_rows

TYPES = ("deduction", "abduction", "induction")


@dataclass(frozen=True)
class Arm:
    """A name and the `key=value` overrides that make the arm."""

    name: str
    overrides: tuple[str, ...]


def train_command(arm: Arm, preset: str, steps: int, seed: int, run_dir: Path) -> list[str]:
    return [str(Path(sys.executable).with_name("azr")), "train", "--preset", preset, "--steps", str(steps),
            "--run-dir", str(run_dir), f"seed={seed}", *arm.overrides]


def run_arms(arms: list[Arm], preset: str, steps: int, seed: int, root: Path, together: bool = False,
             deadline_s: float | None = None) -> dict[str, tuple[list[dict], float]]:
    """Each arm's per-step rows and wall time, one thread each.

    ``together`` runs the arms side by side (one core each) instead of one after another;
    ``deadline_s`` sends each still-running arm SIGINT then, which ends it after its step.
    An interrupted arm (exit 130) counts; any other failure stops the benchmark.
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    results: dict[str, tuple[list[dict], float]] = {}
    batches = [arms] if together else [[arm] for arm in arms]
    for batch in batches:
        started = time.perf_counter()
        root.mkdir(parents=True, exist_ok=True)
        procs = {}
        for arm in batch:
            with open(root / f"{arm.name}.log", "w") as log:
                procs[arm.name] = subprocess.Popen(train_command(arm, preset, steps, seed, root / arm.name), env=env,
                                                   stdout=log, stderr=subprocess.STDOUT)
        walls: dict[str, float] = {}
        interrupted: set[str] = set()
        while len(walls) < len(procs):
            for name, proc in procs.items():
                if name not in walls and proc.poll() is not None:
                    walls[name] = time.perf_counter() - started
                elif (name not in walls and name not in interrupted and deadline_s is not None
                      and time.perf_counter() - started > deadline_s):
                    proc.send_signal(signal.SIGINT)
                    interrupted.add(name)
            time.sleep(1.0)
        for arm in batch:
            proc = procs[arm.name]
            if proc.returncode not in (0, 130):
                log = (root / f"{arm.name}.log").read_text(errors="replace")
                raise SystemExit(f"arm {arm.name} failed ({proc.returncode}):\n{log[-3000:]}")
            results[arm.name] = (read_step_rows(root / arm.name / "metrics.jsonl"), walls[arm.name])
    return results


def per_type(rows: list[dict], pattern: str) -> str:
    """The mean over every task type of a metric named ``pattern`` with ``{t}`` for the type."""
    return mean_of(rows, [pattern.format(t=t) for t in TYPES])


def mean_of(rows: list[dict], names: list[str]) -> str:
    values = [row[name] for row in rows for name in names if name in row]
    return f"{mean(values):.2f}" if values else "-"
