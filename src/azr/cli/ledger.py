"""``azr ledger``: check a run's ledger for tampering, and export it for analysis."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import Enum
from pathlib import Path

import typer
from rich.table import Table

from azr.cli.console import console
from azr.ledger import Ledger, VerifyReport
from azr.ledger.export import export_ledger

ledger_app = typer.Typer(help="Inspect a run's append-only ledger.", no_args_is_help=True)


class ExportFormat(str, Enum):
    jsonl = "jsonl"
    parquet = "parquet"


@ledger_app.command()
def verify(
    run_dir: Path = typer.Argument(..., help="The run directory holding ledger.sqlite."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Re-check the hash chain, the append-only guards and the head anchor; exit 1 if anything broke."""
    with Ledger.open(run_dir, readonly=True) as ledger:
        report = ledger.verify()
        counts = ledger.counts()
    if as_json:
        typer.echo(json.dumps(asdict(report)))
    else:
        _print_report(run_dir, report, counts)
    if not report.ok:
        raise typer.Exit(1)


@ledger_app.command()
def export(
    run_dir: Path = typer.Argument(..., help="The run directory holding ledger.sqlite."),
    fmt: ExportFormat = typer.Option(ExportFormat.jsonl, "--format", "-f", help="Output format."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output file (default: beside the ledger)."),
    kind: str | None = typer.Option(None, "--kind", "-k", help="Only records of this kind."),
) -> None:
    """Write the ledger's records to JSON Lines or Parquet (payloads as JSON)."""
    path = export_ledger(run_dir, fmt.value, out, kind=kind)
    console.print(f"wrote [bold]{path}[/]")


def _print_report(run_dir: Path, report: VerifyReport, counts: dict[str, int]) -> None:
    table = Table(title=f"ledger of {run_dir}", show_header=False)
    table.add_row("records checked", str(report.checked))
    table.add_row("last record id", str(report.last_id))
    table.add_row("last complete step", "-" if report.last_complete_step is None else str(report.last_complete_step))
    for kind, count in counts.items():
        table.add_row(f"  {kind}", str(count))
    console.print(table)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}")
    for problem in report.problems:
        console.print(f"[bold red]broken:[/] {problem}")
    if report.ok:
        console.print("[bold green]ok:[/] the hash chain, the guards and the head anchor all hold")
    else:
        console.print(f"[bold red]FAILED:[/] {len(report.problems)} problem(s) found")
