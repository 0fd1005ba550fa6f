"""What the report knows about a run: the ledger folded into plain rows, read incrementally.

The report and the live dashboard share one reader. It remembers the last record id it
saw, so the dashboard reads only what the run appended since its last look, and it never
writes: the ledger is opened read-only each time, so a running job is never disturbed.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azr.ledger import Ledger, Record

log = logging.getLogger(__name__)


@dataclass
class ProposalRow:
    """One proposer rollout: what it wrote, whether it became a task, how hard that task was."""

    id: int
    step: int
    phase: str
    task_type: str
    valid: bool
    reason: str
    program: str
    inputs: list[str]
    outputs: list[str]
    message: str
    completion: str
    completion_tokens: int
    solve_rate: float | None
    reward: float | None
    task_key: str | None


@dataclass
class AttemptRow:
    """One solver rollout on one task, with the executor's verdict."""

    id: int
    step: int
    purpose: str
    task_type: str
    task_key: str
    answer: str | None
    correct: bool
    malformed: bool
    reason: str
    reward: float | None
    completion: str
    completion_tokens: int


@dataclass
class EvalPoint:
    """One benchmark score at one step (from ``eval`` records)."""

    step: int
    name: str
    value: float


@dataclass
class OversightRow:
    """One oversight decision, flag, veto or alert, flattened to what a timeline shows."""

    id: int
    step: int | None
    event: str
    verdict: str
    severity: str
    kind: str
    monitor: str
    reason: str
    detail: str


@dataclass
class RunSnapshot:
    """Everything read from a run's ledger so far, grouped for the views."""

    run_dir: Path
    last_id: int = 0
    config: dict[str, Any] = field(default_factory=dict)
    proposals: list[ProposalRow] = field(default_factory=list)
    attempts: list[AttemptRow] = field(default_factory=list)
    metrics: dict[int, dict[str, float]] = field(default_factory=dict)
    evals: list[EvalPoint] = field(default_factory=list)
    oversight: list[OversightRow] = field(default_factory=list)
    oversight_allowed: int = 0
    checkpoints: list[int] = field(default_factory=list)
    rewound_steps: set[int] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def steps(self) -> list[int]:
        """Steps that have metrics, in order."""
        return sorted(self.metrics)


class LedgerFollower:
    """Folds a run's ledger into a :class:`RunSnapshot`, continuing from where it stopped."""

    def __init__(self, run_dir: str | Path) -> None:
        self.snapshot = RunSnapshot(run_dir=Path(run_dir))

    def poll(self) -> int:
        """Read every record appended since the last poll; returns how many were read."""
        read = 0
        with Ledger.open(self.snapshot.run_dir, readonly=True) as ledger:
            for record in ledger.records(after_id=self.snapshot.last_id):
                self._fold(record)
                read += 1
        return read

    def _fold(self, record: Record) -> None:
        snap = self.snapshot
        snap.last_id = record.id
        snap.counts[record.kind] = snap.counts.get(record.kind, 0) + 1
        reader = _READERS.get(record.kind)
        if reader is None:
            return
        try:
            reader(snap, record)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("record %d (%s) has an unexpected payload and is left out of the report: %s",
                        record.id, record.kind, exc)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: Any) -> float | None:
    """A finite float, or None: the ledger writes NaN and infinities as strings."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _step(record: Record) -> int:
    return record.step if record.step is not None else 0


def _read_run_start(snap: RunSnapshot, record: Record) -> None:
    snap.config = dict(record.payload.get("config") or {})


def _read_proposal(snap: RunSnapshot, record: Record) -> None:
    p = record.payload
    task = p.get("task") or {}
    pairs = task.get("pairs") or []
    inputs = [pair["input"] for pair in pairs] if pairs else [_text(i) for i in p.get("inputs") or []]
    outputs = [pair["output"] for pair in pairs]
    if not outputs:
        outputs = [_text(e.get("value_repr")) for e in p.get("executions") or [] if e.get("ok")][: len(inputs)]
    snap.proposals.append(ProposalRow(
        id=record.id,
        step=_step(record),
        phase=_text(p.get("phase")),
        task_type=_text(p.get("task_type")),
        valid=bool(p.get("valid")),
        reason=_text(p.get("reason")),
        program=_text(task.get("program") or p.get("program")),
        inputs=inputs,
        outputs=outputs,
        message=_text(task.get("message") or p.get("message")),
        completion=_text(p.get("completion")),
        completion_tokens=int(p.get("completion_tokens") or 0),
        solve_rate=_number(p.get("solve_rate")),
        reward=_number(p.get("reward")),
        task_key=p.get("task_key"),
    ))


def _read_attempt(snap: RunSnapshot, record: Record) -> None:
    p = record.payload
    snap.attempts.append(AttemptRow(
        id=record.id,
        step=_step(record),
        purpose=_text(p.get("purpose")),
        task_type=_text(p.get("task_type")),
        task_key=_text(p.get("task_key")),
        answer=None if p.get("answer") is None else _text(p.get("answer")),
        correct=bool(p.get("correct")),
        malformed=bool(p.get("malformed")),
        reason=_text(p.get("reason")),
        reward=_number(p.get("reward")),
        completion=_text(p.get("completion")),
        completion_tokens=int(p.get("completion_tokens") or 0),
    ))


def _read_metrics(snap: RunSnapshot, record: Record) -> None:
    values = {name: _number(value) for name, value in record.payload.items()}
    snap.metrics[_step(record)] = {name: value for name, value in values.items() if value is not None}


def _read_eval(snap: RunSnapshot, record: Record) -> None:
    """One point per pass@k of a benchmark row (azr.eval's shape); rows without a step are not plotted."""
    p = record.payload
    step = record.step if record.step is not None else p.get("step")
    if step is None:
        return
    bench = _text(p.get("bench") or p.get("benchmark") or p.get("name") or "eval")
    source = _text(p.get("source"))
    if isinstance(p.get("pass_at"), dict):
        scores = {f"pass@{k}": v for k, v in p["pass_at"].items()}
    elif isinstance(p.get("scores"), dict):
        scores = p["scores"]
    else:
        scores = {key: value for key, value in p.items() if key.startswith("pass@") or key == "accuracy"}
    for key, value in scores.items():
        number = _number(value)
        if number is not None:
            name = f"{bench} {key}" + (f" · {source}" if source else "")
            snap.evals.append(EvalPoint(step=int(step), name=name, value=number))


def _read_probe_eval(snap: RunSnapshot, record: Record) -> None:
    """The held-out probes' greedy solve and valid-proposal rates (``probe_eval`` records), one point per type."""
    if record.step is None:
        return
    rates = {**(record.payload.get("solve_rates") or {}), **(record.payload.get("valid_rates") or {})}
    for key, value in rates.items():
        number = _number(value)
        if number is not None and isinstance(key, str) and not key.endswith("/n"):
            snap.evals.append(EvalPoint(step=record.step, name=key.removeprefix("eval/"), value=number))


def _read_oversight(snap: RunSnapshot, record: Record) -> None:
    """Keep what a timeline needs from decisions, throttle actions and resume acks.

    The hub records every decision, "allow" included; plain allows are only counted, or
    they would bury the flags and vetoes a reader is looking for.
    """
    p = record.payload
    event = _text(p.get("event") or "event")
    findings = [f for f in p.get("findings") or [] if isinstance(f, dict)]
    if event == "decision" and p.get("verdict", "allow") == "allow" and not findings:
        snap.oversight_allowed += 1
        return
    top = findings[0] if findings else {}
    span = top.get("span") if isinstance(top.get("span"), dict) else None
    sample = p.get("sample") if isinstance(p.get("sample"), dict) else {}
    detail = span.get("text") if span else next(iter(sample.values()), "")
    if event == "action":
        verdict, monitor, reason = _text(p.get("action")), "throttle", _text(p.get("reason"))
    elif event == "resume_ack":
        verdict, monitor, reason = "resume", "operator", f"acknowledged: {_text(p.get('ack'))}"
    else:
        verdict = _text(p.get("verdict") or top.get("verdict") or event)
        monitor = _text(top.get("monitor") or p.get("on") or event)
        reason = _text(top.get("reason") or p.get("reason"))
    snap.oversight.append(OversightRow(
        id=record.id,
        step=record.step,
        event=event if event != "decision" else f"{event} on {_text(p.get('on'))}".strip(),
        verdict=verdict,
        severity=_text(top.get("severity")),
        kind=_text(top.get("kind")),
        monitor=monitor,
        reason=reason,
        detail=_text(detail),
    ))


def _read_checkpoint(snap: RunSnapshot, record: Record) -> None:
    snap.checkpoints.append(int(record.payload.get("step", _step(record))))


def _read_rewind(snap: RunSnapshot, record: Record) -> None:
    """Steps whose model updates a crash lost; their records stay, and the page names them."""
    snap.rewound_steps |= {int(step) for step in record.payload.get("discarded_steps") or []}


_READERS = {
    "run_start": _read_run_start,
    "proposal": _read_proposal,
    "attempt": _read_attempt,
    "step_metrics": _read_metrics,
    "eval": _read_eval,
    "probe_eval": _read_probe_eval,
    "oversight": _read_oversight,
    "checkpoint": _read_checkpoint,
    "rewind": _read_rewind,
}


def read_snapshot(run_dir: str | Path) -> RunSnapshot:
    """The whole ledger of ``run_dir``, read once."""
    follower = LedgerFollower(run_dir)
    follower.poll()
    return follower.snapshot
