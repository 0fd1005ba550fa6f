"""Evaluation from inside the self-play loop: a fixed CRUXEval subset, the live engine, ledger rows.

CRUXEval-O and -I are the in-distribution probes of Absolute Zero (they are the deduction
and abduction tasks, written by humans), so their accuracy over steps shows whether
self-play transfers. The subset is the first ``limit`` items of each, the same at every
step, decoded greedily, so rows of different steps are comparable.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from azr.eval.benchmarks.base import Record
from azr.eval.benchmarks.cruxeval import CruxEvalInput, CruxEvalOutput
from azr.eval.ledger_rows import EvalSink, write_eval_rows
from azr.eval.results import EvalReport, now_utc
from azr.eval.runner import EvalSettings, Generator, run_benchmark
from azr.executor.types import SnippetRunner

IN_TRAINING_BENCHES = (CruxEvalOutput, CruxEvalInput)


@lru_cache(maxsize=4)
def _subset(bench_cls: type, data_dir: Path | None, limit: int) -> tuple[Record, ...]:
    return tuple(bench_cls().load(data_dir)[:limit])


def evaluate_in_training(
    engine: Generator,
    runner: SnippetRunner,
    data_dir: Path | str | None,
    limit: int,
    step: int,
    ledger: EvalSink | None,
    model_id: str = "live",
    batch_size: int = 16,
) -> dict[str, float]:
    """Greedy pass@1 on the first ``limit`` items of CRUXEval-O and -I; one ledger row each.

    Returns ``{"cruxeval-o": pass@1, "cruxeval-o/n": items, ...}`` (the item count makes an interval). Pass the :class:`azr.ledger.Ledger`
    itself (outside a ``ledger.step`` block): the rows carry ``step`` and ``source="in-training"``.
    """
    directory = Path(data_dir) if data_dir is not None else None
    settings = EvalSettings(limit=limit, samples=1, batch_size=batch_size)
    report = EvalReport(model=model_id, created=now_utc(), benches={}, step=step)
    for bench_cls in IN_TRAINING_BENCHES:
        bench = bench_cls()
        records = _subset(bench_cls, directory, limit)
        report.benches[bench.name] = run_benchmark(bench, records, engine, runner, settings, model_id)
    if ledger is not None:
        write_eval_rows(ledger, report, step=step, source="in-training")
    scores: dict[str, float] = {}
    for name, result in report.benches.items():
        scores[name] = result.pass1
        scores[f"{name}/n"] = float(result.n_items)
    return scores
