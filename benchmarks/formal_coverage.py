"""How much of what the proposer really writes the formal watchdog decides.

Reads every ``proposal`` record of each run's ledger (read-only), runs
:func:`azr.oversight.formal.analyse` on its program and inputs, and prints per property
the proven / violated / unknown counts and shares, over three populations: all parseable
proposals, the ones the executor validated, and distinct validated programs (the runs
repeat trivial tasks a lot, so per-record shares overweight them). A second table splits
the validated proposals by task type; the last line gives the analysis time per program.

Run `.venv/bin/python benchmarks/formal_coverage.py RUN_DIR [RUN_DIR ...]`.
"""

from __future__ import annotations

import argparse
import ast
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from azr.ledger.store import Ledger
from azr.oversight.formal import FormalReport, analyse

PROPERTIES = ("termination", "no_io", "deterministic")
VERDICTS = ("proven", "violated", "unknown")
console = Console()


@dataclass(frozen=True)
class Proposal:
    run: str
    task_type: str
    valid: bool
    program: str
    inputs: tuple[str, ...]


def read_proposals(run_dir: Path) -> list[Proposal]:
    """Every proposal with a program in one run's ledger; the ledger is opened read-only."""
    if not (run_dir / "ledger.sqlite").exists():
        raise SystemExit(f"{run_dir} has no ledger.sqlite; pass a run directory")
    proposals = []
    with Ledger.open(run_dir, readonly=True) as ledger:
        for record in ledger.records(kind="proposal"):
            p = record.payload
            task = p.get("task") or {}
            program = task.get("program") or p.get("program") or ""
            pairs = task.get("pairs") or []
            inputs = tuple(pair["input"] for pair in pairs) if pairs else tuple(p.get("inputs") or ())
            if program.strip():
                proposals.append(Proposal(str(run_dir), str(p.get("task_type") or "?"), bool(p.get("valid")),
                                          program, tuple(str(i) for i in inputs)))
    return proposals


def parses(program: str) -> bool:
    try:
        ast.parse(program)
    except (SyntaxError, ValueError):
        return False
    return True


def tally(reports: list[FormalReport]) -> dict[str, Counter[str]]:
    return {prop: Counter(getattr(r, prop).verdict for r in reports) for prop in PROPERTIES}


def share(count: int, total: int) -> str:
    return f"{count} ({100 * count / total:.1f}%)" if total else "0"


def coverage_table(title: str, populations: dict[str, list[FormalReport]]) -> Table:
    table = Table(title=title)
    for column in ("population", "n", "property", *VERDICTS, "all 3 decided"):
        table.add_column(column, justify="left" if column in ("population", "property") else "right")
    for name, reports in populations.items():
        counts, n = tally(reports), len(reports)
        all_decided = sum(r.decided() == 3 for r in reports)
        for i, prop in enumerate(PROPERTIES):
            table.add_row(name if i == 0 else "", str(n) if i == 0 else "", prop,
                          *(share(counts[prop][v], n) for v in VERDICTS), share(all_decided, n) if i == 0 else "")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", type=Path)
    args = parser.parse_args()
    proposals = [p for run in args.run_dirs for p in read_proposals(run)]
    parseable = [p for p in proposals if parses(p.program)]
    seconds: list[float] = []
    reports: dict[tuple[str, tuple[str, ...]], FormalReport] = {}
    for p in parseable:
        key = (p.program, p.inputs)
        if key not in reports:
            start = time.perf_counter()
            reports[key] = analyse(p.program, p.inputs)
            seconds.append(time.perf_counter() - start)
    valid = [p for p in parseable if p.valid]
    distinct: dict[str, Proposal] = {p.program: p for p in valid}
    console.print(coverage_table(
        f"Formal watchdog coverage over {len(args.run_dirs)} runs ({len(proposals)} proposals with a program)",
        {
            "parseable": [reports[(p.program, p.inputs)] for p in parseable],
            "valid": [reports[(p.program, p.inputs)] for p in valid],
            "distinct valid programs": [reports[(p.program, p.inputs)] for p in distinct.values()],
        },
    ))
    by_type: dict[str, list[FormalReport]] = {}
    for p in valid:
        by_type.setdefault(p.task_type, []).append(reports[(p.program, p.inputs)])
    console.print(coverage_table("Valid proposals by task type", dict(sorted(by_type.items()))))
    reasons = Counter(reports[(p.program, p.inputs)].termination.reason.split(":")[0].split(" at line")[0]
                      for p in distinct.values() if reports[(p.program, p.inputs)].termination.verdict == "unknown")
    console.print("Top reasons termination stays unknown (distinct valid programs):")
    for reason, count in reasons.most_common(6):
        console.print(f"  {count:5d}  {reason}")
    console.print(f"analysis time per distinct (program, inputs): median {1e3 * statistics.median(seconds):.2f} ms, "
                  f"max {1e3 * max(seconds):.2f} ms over {len(seconds)} analyses")


if __name__ == "__main__":
    main()
