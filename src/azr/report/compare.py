"""Several runs side by side: held-out rates with intervals, and each run's gap to its control.

A run "learned" only if it beats a control that did everything but the optimizer step
(``engine.apply_updates=false``): the same probes, the same buffer growth, the same
sampling noise. Runs are compared at equal wall time, counted from the end of each run's
step-0 evaluation (the base model's score), so the probe-set build and the first eval,
which one run may do and its control skip, are not counted against either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from azr.errors import AzrError
from azr.ledger import Ledger, Record
from azr.report.intervals import mcnemar_exact, newcombe, wilson

# Per-type in-loop curves a reader compares across runs: (metric prefix, title, y-axis title).
LOOP_CURVES = (
    ("valid_rate/", "Valid-proposal rate (training proposals)", "fraction valid"),
    ("solve_rate/", "Solve rate (training attempts)", "fraction solved"),
    ("reward/{type}/propose", "Proposer reward (learnability)", "mean reward"),
    ("learnable_share/", "Share of valid tasks with 0 < solve rate < 1", "share"),
)


class CompareError(AzrError):
    """Runs that cannot be compared: a missing ledger, one run only, or an unknown control."""


@dataclass(frozen=True)
class Measurement:
    """One held-out rate of one run at one evaluation, with what a paired test needs."""

    measure: str
    step: int
    elapsed_s: float
    successes: float
    trials: int
    outcomes: dict[str, bool] | None = None

    @property
    def rate(self) -> float:
        return self.successes / self.trials if self.trials else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.successes, self.trials)


@dataclass
class RunSeries:
    """What the comparison reads from one run's ledger."""

    name: str
    run_dir: Path
    config: dict[str, Any]
    start_s: float
    probe_digest: str | None = None
    measurements: list[Measurement] = field(default_factory=list)
    loop: dict[int, dict[str, float]] = field(default_factory=dict)
    loop_elapsed_s: dict[int, float] = field(default_factory=dict)

    @property
    def is_control(self) -> bool:
        return (self.config.get("engine") or {}).get("apply_updates") is False

    @property
    def last_eval_s(self) -> float:
        return max((m.elapsed_s for m in self.measurements), default=0.0)

    def measures(self) -> list[str]:
        return list(dict.fromkeys(m.measure for m in self.measurements))

    def at(self, measure: str, elapsed_s: float) -> Measurement | None:
        """The latest measurement of ``measure`` taken no later than ``elapsed_s``."""
        taken = [m for m in self.measurements if m.measure == measure and m.elapsed_s <= elapsed_s + 1e-6]
        return max(taken, key=lambda m: m.elapsed_s, default=None)


@dataclass(frozen=True)
class Gap:
    """A run's rate minus the control's, at the same wall time."""

    run: Measurement
    control: Measurement
    difference: float
    low: float
    high: float
    p_paired: float | None

    @property
    def verdict(self) -> str:
        if self.low > 0:
            return "above control"
        if self.high < 0:
            return "below control"
        return "no clear gap"


@dataclass
class Comparison:
    """Every run at one wall time, and each non-control run's gaps to the control."""

    runs: list[RunSeries]
    control: RunSeries | None
    equal_s: float
    measures: list[str]
    gaps: dict[tuple[str, str], Gap]
    same_probes: bool


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def _measure_name(key: str) -> str:
    return key.removeprefix("eval/")


def read_series(run_dir: Path, name: str) -> RunSeries:
    """Fold one run's ledger into a :class:`RunSeries` (read-only: safe while the run writes)."""
    if not (run_dir / "ledger.sqlite").is_file():
        raise CompareError(f"{run_dir} has no ledger.sqlite; give run directories written by `azr train`")
    with Ledger.open(run_dir, readonly=True) as ledger:
        records = list(ledger.records())
    start = next((r for r in records if r.kind == "run_start"), None)
    if start is None:
        raise CompareError(f"{run_dir}'s ledger has no run_start record; it is not a training run")
    step0 = [r for r in records if r.kind in ("probe_eval", "eval") and r.step == 0]
    origin = max((_seconds(r.created_at) for r in step0), default=_seconds(start.created_at))
    series = RunSeries(name=name, run_dir=run_dir, config=dict(start.payload.get("config") or {}), start_s=origin)
    for record in records:
        elapsed = max(0.0, _seconds(record.created_at) - origin)
        if record.kind == "probe_eval" and record.step is not None:
            series.probe_digest = record.payload.get("digest", series.probe_digest)
            series.measurements += _probe_measurements(record, elapsed)
        elif record.kind == "eval" and record.step is not None:
            series.measurements += _bench_measurements(record, elapsed)
        elif record.kind == "step_metrics" and record.step is not None:
            series.loop[record.step] = {k: float(v) for k, v in record.payload.items()
                                        if isinstance(v, (int, float)) and not isinstance(v, bool)}
            series.loop_elapsed_s[record.step] = elapsed
    return series


def _probe_measurements(record: Record, elapsed: float) -> list[Measurement]:
    """One measurement per probe rate, with each probe's outcome for the paired test."""
    payload = record.payload
    rates = {**(payload.get("solve_rates") or {}), **(payload.get("valid_rates") or {})}
    solved = [(r.get("task_type", ""), r.get("task_key", ""), bool(r.get("correct")))
              for r in payload.get("results") or []]
    proposed = [(p.get("task_type", ""), p.get("prompt_key", ""), bool(p.get("valid")))
                for p in payload.get("proposals") or []]
    out = []
    for key, rate in rates.items():
        if key.endswith("/n") or f"{key}/n" not in rates:
            continue
        kind, _, task_type = _measure_name(key).partition("-")
        rows = solved if kind == "probe" else proposed
        mine = [(k, ok) for t, k, ok in rows if task_type in ("all", t)]
        outcomes = dict(mine) if len(mine) == int(rates[f"{key}/n"]) else None
        trials = int(rates[f"{key}/n"])
        out.append(Measurement(_measure_name(key), record.step or 0, elapsed, round(float(rate) * trials), trials,
                               outcomes))
    return out


def _bench_measurements(record: Record, elapsed: float) -> list[Measurement]:
    payload = record.payload
    trials = int(payload.get("n_items") or 0)
    rate = payload.get("pass@1")
    if not trials or not isinstance(rate, (int, float)) or not math.isfinite(rate):
        return []
    source = str(payload.get("source") or "")
    name = str(payload.get("bench") or "eval") + (f" ({source})" if source and source != "in-training" else "")
    return [Measurement(name, record.step or 0, elapsed, float(rate) * trials, trials)]


def run_names(run_dirs: Sequence[Path]) -> list[str]:
    """Each run's folder name, or its last two path parts where folder names repeat."""
    names = [d.name for d in run_dirs]
    if len(set(names)) == len(names):
        return names
    return [str(Path(d.parent.name) / d.name) for d in run_dirs]


def compare(run_dirs: Sequence[Path], control: Path | None = None) -> Comparison:
    """Read every run, find the control, and measure each run against it at equal wall time."""
    if len(run_dirs) < 2:
        raise CompareError("give at least two run directories: a run and its control (engine.apply_updates=false)")
    runs = [read_series(Path(d), name) for d, name in zip(run_dirs, run_names([Path(d) for d in run_dirs]))]
    chosen = _control(runs, control)
    evaluated = [r for r in runs if r.measurements]
    if not evaluated:
        raise CompareError("none of these runs has an evaluation record; train with eval.every_n_steps > 0")
    equal_s = min(r.last_eval_s for r in evaluated)
    measures = list(dict.fromkeys(m for r in runs for m in r.measures()))
    gaps: dict[tuple[str, str], Gap] = {}
    if chosen is not None:
        for run in runs:
            if run is chosen:
                continue
            for measure in measures:
                gap = _gap(run.at(measure, equal_s), chosen.at(measure, equal_s))
                if gap is not None:
                    gaps[(run.name, measure)] = gap
    digests = {r.probe_digest for r in runs if r.probe_digest}
    return Comparison(runs, chosen, equal_s, measures, gaps, same_probes=len(digests) <= 1)


def _control(runs: list[RunSeries], control: Path | None) -> RunSeries | None:
    if control is not None:
        for run in runs:
            if run.run_dir.resolve() == Path(control).resolve():
                return run
        raise CompareError(f"--control {control} is not one of the runs given; list it among the runs too")
    controls = [r for r in runs if r.is_control]
    if len(controls) > 1:
        raise CompareError(f"several runs have engine.apply_updates=false ({', '.join(r.name for r in controls)}); "
                           "pick one with --control")
    return controls[0] if controls else None


def _gap(run: Measurement | None, control: Measurement | None) -> Gap | None:
    if run is None or control is None:
        return None
    diff, low, high = newcombe(run.successes, run.trials, control.successes, control.trials)
    paired = None
    if run.outcomes is not None and control.outcomes is not None and run.outcomes.keys() == control.outcomes.keys():
        only_run = sum(run.outcomes[k] and not control.outcomes[k] for k in run.outcomes)
        only_control = sum(control.outcomes[k] and not run.outcomes[k] for k in run.outcomes)
        paired = mcnemar_exact(only_run, only_control)
    return Gap(run, control, diff, low, high, paired)


def loop_metric(series: RunSeries, prefix: str, task_type: str) -> list[tuple[int, float]]:
    """(step, value) of one per-type in-loop metric; ``prefix`` may hold ``{type}``."""
    name = prefix.format(type=task_type) if "{type}" in prefix else prefix + task_type
    return [(step, values[name]) for step, values in sorted(series.loop.items()) if name in values]


def pooled_valid(series: RunSeries, since_s: float, until_s: float) -> tuple[float, int]:
    """Valid proposals and proposals made, over the training steps that ended in (since_s, until_s]."""
    valid = proposed = 0.0
    for step, values in series.loop.items():
        if since_s < series.loop_elapsed_s[step] <= until_s:
            valid += sum(v for k, v in values.items() if k.startswith("count/valid/"))
            proposed += sum(v for k, v in values.items() if k.startswith("count/proposed/"))
    return valid, int(proposed)
