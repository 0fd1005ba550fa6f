"""``azr ledger``: check a run's ledger for tampering, and export it for analysis."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import Enum
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from azr.cli.console import console
from azr.ledger import Ledger, LedgerError, VerifyReport
from azr.ledger.export import export_ledger
from azr.ledger.kept import append_anchor_file, parse_head, read_anchor_file

ledger_app = typer.Typer(help="Inspect a run's append-only ledger.", no_args_is_help=True)


class ExportFormat(str, Enum):
    jsonl = "jsonl"
    parquet = "parquet"


@ledger_app.command()
def verify(
    run_dir: Path = typer.Argument(..., help="The run directory holding ledger.sqlite."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
    expect_head: str | None = typer.Option(
        None, "--expect-head", help="ID:HASH printed by an earlier verify: fail unless that record is still there, unchanged."
    ),
    anchor_file: Path | None = typer.Option(
        None, "--anchor-file", dir_okay=False,
        help="An append-only file outside the run directory: check against the heads kept there, then add this one.",
    ),
) -> None:
    """Re-check the hash chain, the append-only guards and the head anchor; exit 1 if anything broke.

    Heads kept outside the run directory (--expect-head, --anchor-file) also catch records
    cut off the end when ledger.head.json was rewritten to match.
    """
    kept = [parse_head(expect_head)] if expect_head else []
    if anchor_file is not None and anchor_file.resolve().is_relative_to(run_dir.resolve()):
        raise LedgerError(f"the anchor file {anchor_file} is inside {run_dir}: whoever cuts the ledger could rewrite it too; keep it elsewhere")
    with Ledger.open(run_dir, readonly=True) as ledger:
        ledger_id = ledger.first_hash()
        from_file = read_anchor_file(anchor_file, ledger_id, run_dir) if anchor_file else None
        report = ledger.verify(kept + (from_file.heads if from_file else []))
        counts = ledger.counts()
    if from_file is not None and from_file.replaced:
        report.problems.append(
            f"{anchor_file} kept heads of a different ledger for {run_dir}: the whole ledger there was replaced"
        )
        report.ok = False
    if anchor_file is not None and report.ok and ledger_id and report.head:
        append_anchor_file(anchor_file, ledger_id, report.head, run_dir)
    if as_json:
        typer.echo(json.dumps({**asdict(report), "head": str(report.head) if report.head else None}))
    else:
        _print_report(run_dir, report, counts, anchor_file)
    if not report.ok:
        raise typer.Exit(1)


@ledger_app.command()
def export(
    run_dir: Path = typer.Argument(..., help="The run directory holding ledger.sqlite."),
    fmt: ExportFormat = typer.Option(ExportFormat.jsonl, "--format", "-f", help="Output format."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output file (default: beside the ledger)."),
    kind: str | None = typer.Option(None, "--kind", "-k", help="Only records of this kind."),
    force: bool = typer.Option(False, "--force", help="Export even a ledger that fails verification (with a warning)."),
) -> None:
    """Verify the ledger, then write its records to JSON Lines or Parquet (payloads as JSON).

    A ledger that fails verification is not exported without --force.
    """
    result = export_ledger(run_dir, fmt.value, out, kind=kind, force=force)
    for problem in result.problems:
        console.print(f"[bold red]broken:[/] {escape(problem)}")
    if result.problems:
        console.print(
            f"[bold red]WARNING:[/] {result.path} is a copy of a ledger that FAILS verification "
            f"({len(result.problems)} problem(s) above); do not treat it as the run's record"
        )
    console.print(f"wrote [bold]{escape(str(result.path))}[/]")


def _print_report(run_dir: Path, report: VerifyReport, counts: dict[str, int], anchor_file: Path | None) -> None:
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
        if report.head:
            kept = f"added to {anchor_file}" if anchor_file else "keep it outside the run directory"
            console.print(f"head: {report.head}  ({kept}; a later `azr ledger verify {run_dir} --expect-head "
                          "ID:HASH` then catches records cut off the end)", soft_wrap=True)
    else:
        console.print(f"[bold red]FAILED:[/] {len(report.problems)} problem(s) found")
