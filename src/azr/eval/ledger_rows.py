"""Eval scores as ledger rows (kind ``"eval"``), so a run's accuracy can be followed over steps."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Protocol

from azr.eval.results import BenchResult, EvalReport

EVAL_KIND = "eval"
_STEP_DIR = re.compile(r"^step-(\d+)$")
_RUN_MARKER = "run.json"


class EvalSink(Protocol):
    """Where eval rows go: an open :class:`azr.ledger.Ledger` (outside a step transaction)."""

    def append(self, kind: str, payload: dict[str, Any], step: int | None = None) -> int: ...


def run_of_checkpoint(checkpoint: Path) -> tuple[Path, int] | None:
    """(run dir, step) when ``checkpoint`` is ``RUN_DIR/checkpoints/step-N`` of a valid run, else None."""
    checkpoint = Path(checkpoint).resolve()
    match = _STEP_DIR.match(checkpoint.name)
    if not match or checkpoint.parent.name != "checkpoints":
        return None
    run_dir = checkpoint.parent.parent
    return (run_dir, int(match.group(1))) if (run_dir / _RUN_MARKER).is_file() else None


def eval_payload(bench: BenchResult, model: str, source: str) -> dict[str, Any]:
    """One row: the scores with what is needed to compare rows (items, samples, sampling)."""
    return {
        "bench": bench.name,
        "pass@1": bench.pass1,
        "pass_at": {str(k): v for k, v in bench.pass_at.items()},
        "n_items": bench.n_items,
        "samples": bench.samples,
        "sampling": bench.sampling,
        "seconds": round(bench.seconds, 3),
        "model": model,
        "source": source,
    }


def write_eval_rows(sink: EvalSink, report: EvalReport, step: int | None, source: str) -> int:
    """Append one row per benchmark; returns how many were written."""
    for bench in report.benches.values():
        sink.append(EVAL_KIND, eval_payload(bench, report.model, source), step=step)
    return len(report.benches)
