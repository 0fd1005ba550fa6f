"""``azr report``: one self-contained HTML file from a run's ledger."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from azr.report.config import ReportConfig
from azr.report.page import static_page
from azr.report.snapshot import read_snapshot
from azr.report.views import build_views

log = logging.getLogger(__name__)

REPORT_NAME = "report.html"


def build_report(run_dir: str | Path, out: str | Path | None = None, config: ReportConfig | None = None) -> Path:
    """Write the report of ``run_dir`` to ``out`` (default RUN_DIR/report.html); returns the path.

    The ledger is only read, so this is safe while the run is still writing it.
    """
    run_dir = Path(run_dir)
    config = config or ReportConfig()
    started = time.perf_counter()
    snapshot = read_snapshot(run_dir)
    read_s = time.perf_counter() - started
    views = build_views(snapshot, config)
    path = Path(out) if out is not None else run_dir / REPORT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(static_page(views), encoding="utf-8")
    tmp.replace(path)
    log.info("report of %d records written to %s (read %.2fs, total %.2fs)",
             snapshot.last_id, path, read_s, time.perf_counter() - started)
    return path
