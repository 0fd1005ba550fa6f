"""How long `azr report` takes on a run of a few hundred steps, against merely reading the ledger.

The ledger is synthesised through the real Ledger API by the SYNTHETIC writer of the tests
(hand-written programs, no model) at realistic sizes: ~21 proposals and ~40 solver attempts
per step, with their advantages, task, metrics and oversight records. The baseline, timed in
the same run, is reading every record back (SQLite paging + JSON decoding): no report can be
faster than that. Run: `flock /tmp/azr-heavy.lock .venv/bin/python benchmarks/report.py`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from report_synthetic import SyntheticRun, extend_synthetic_run, write_synthetic_run  # noqa: E402

from azr.ledger import Ledger  # noqa: E402
from azr.report.build import build_report  # noqa: E402
from azr.report.config import ReportConfig  # noqa: E402
from azr.report.snapshot import LedgerFollower, read_snapshot  # noqa: E402
from azr.report.views import build_views  # noqa: E402


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def read_all(run_dir: Path) -> int:
    with Ledger.open(run_dir, readonly=True) as ledger:
        return sum(1 for _ in ledger.records())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-minilm", action="store_true", help="skip the (slower) MiniLM embedder row")
    args = parser.parse_args()
    console = Console(width=110)
    spec = SyntheticRun(steps=args.steps, proposals_per_type=7, learnability_rollouts=2, solves_per_type=2,
                        oversight=True, evals=True, scorecard=True)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        started = time.perf_counter()
        write_synthetic_run(run_dir, spec)
        console.print(f"synthesised {args.steps} steps in {time.perf_counter() - started:.1f}s")
        with Ledger.open(run_dir, readonly=True) as ledger:
            counts = ledger.counts()
        db_mib = (run_dir / "ledger.sqlite").stat().st_size / 2**20
        snap = read_snapshot(run_dir)
        config = ReportConfig()
        out = Path(tmp) / "report.html"

        rows: list[tuple[str, float]] = [
            ("baseline: read every record (no report)", timed(lambda: read_all(run_dir), args.repeats)),
            ("fold the ledger into rows (snapshot)", timed(lambda: read_snapshot(run_dir), args.repeats)),
            ("build the views from rows (ast families)", timed(lambda: build_views(snap, config), args.repeats)),
            ("azr report, end to end (ast)", timed(lambda: build_report(run_dir, out, config), args.repeats)),
        ]
        html_mib = out.stat().st_size / 2**20
        follower = LedgerFollower(run_dir)
        follower.poll()

        def one_more_step() -> None:
            extend_synthetic_run(run_dir, spec, more_steps=1)
            follower.poll()
            build_views(follower.snapshot, config)

        rows.append(("dashboard refresh after one new step (incl. writing it)", timed(one_more_step, args.repeats)))
        if not args.no_minilm:
            minilm = ReportConfig(embedder="minilm")
            rows.append(("azr report, end to end (minilm, first call loads it)",
                         timed(lambda: build_report(run_dir, out, minilm), 1)))

    baseline = rows[0][1]
    table = Table(title=f"azr report on a synthetic {args.steps}-step ledger "
                        f"({sum(counts.values())} records, {db_mib:.0f} MiB; report {html_mib:.1f} MiB)")
    table.add_column("what")
    table.add_column("seconds (median)", justify="right")
    table.add_column("x baseline", justify="right")
    for name, seconds in rows:
        table.add_row(name, f"{seconds:.2f}", f"{seconds / baseline:.1f}")
    table.caption = ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
    console.print(table)


if __name__ == "__main__":
    main()
