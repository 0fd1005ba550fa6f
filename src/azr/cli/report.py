"""``azr report`` and ``azr dashboard``: look at a run's curriculum, offline or live."""

from __future__ import annotations

from pathlib import Path
from enum import Enum
from typing import Optional

import typer

from azr.cli.console import console
from azr.report.config import DEFAULT_HOST, DEFAULT_PORT, ReportConfig

EMBEDDER_HELP = "How proposals are embedded for the family map: ast (fast) or minilm (adds a sentence model)."


class EmbedderChoice(str, Enum):
    ast = "ast"
    minilm = "minilm"


def report(
    run_dir: Path = typer.Argument(..., help="The run directory (holds ledger.sqlite)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Where to write the HTML (default RUN_DIR/report.html)."),
    embedder: EmbedderChoice = typer.Option(EmbedderChoice.ast, "--embedder", help=EMBEDDER_HELP),
) -> None:
    """Write one self-contained HTML report of a run (opens offline, no CDN)."""
    from azr.report.build import build_report

    path = build_report(run_dir, out, ReportConfig(embedder=embedder.value))
    console.print(f"[bold]report:[/] {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    typer.echo(str(path))


def dashboard(
    run_dir: Path = typer.Argument(..., help="The run directory (holds ledger.sqlite)."),
    port: int = typer.Option(DEFAULT_PORT, "--port", "-p", help="Port to listen on (0 picks a free one)."),
    host: str = typer.Option(DEFAULT_HOST, "--host", help="Address to bind; the default keeps it on this machine."),
    embedder: EmbedderChoice = typer.Option(EmbedderChoice.ast, "--embedder", help=EMBEDDER_HELP),
    poll: float = typer.Option(2.0, "--poll", help="Seconds between looks at the ledger."),
) -> None:
    """Serve the report's views live on localhost, redrawn as the run's ledger grows (read-only)."""
    from azr.report.dashboard import Dashboard

    live = Dashboard(run_dir, ReportConfig(embedder=embedder.value), host=host, port=port, poll_s=poll)
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]warning:[/] serving on {host}: anyone who can reach it can read the run's tasks")
    console.print(f"[bold]dashboard:[/] {live.url}  (Ctrl-C to stop)")
    try:
        live.serve_forever()
    except KeyboardInterrupt:
        console.print("dashboard stopped")
