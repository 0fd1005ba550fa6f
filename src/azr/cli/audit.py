"""``azr audit`` (oversight over any completions) and ``azr resume`` (lift an oversight pause)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from azr.cli.console import console
from azr.cli.train import train
from azr.config import build_config
from azr.ledger import Ledger
from azr.oversight import OversightConfig, acknowledge
from azr.oversight.audit import (
    DEFAULT_MAX_ITEM_MB,
    AuditFlag,
    AuditItem,
    Auditor,
    load_items,
)


def audit(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A text file or a JSONL of completions."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per flag on stdout."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML file with oversight settings."),
    overrides: Optional[list[str]] = typer.Option(None, "--set", help="Oversight override, e.g. auditor.semantic.threshold=0.7"),
    semantic: bool = typer.Option(
        True, "--semantic/--no-semantic",
        help="Also catch paraphrases with the embedding model (intent classifier and prototypes); off: lexicon only.",
    ),
    max_item_mb: float = typer.Option(
        DEFAULT_MAX_ITEM_MB, "--max-item-mb", min=0.001, max=1e6, help="Refuse an item (a JSONL line, or a whole text file) larger than this."
    ),
) -> None:
    """Run the task watchdog and the reasoning auditor over FILE; exit 1 if anything was flagged."""
    extra = list(overrides or []) + ([] if semantic else ["auditor.semantic.enabled=false", "auditor.intent.enabled=false"])
    settings = build_config(OversightConfig, path=config, overrides=extra)
    items = load_items(file, max_item_mb)
    flags = _audit_with_progress(Auditor(settings), items)
    if as_json:
        for flag in flags:
            typer.echo(json.dumps({"source": flag.source, **asdict(flag.finding)}))
    else:
        _print_flags(flags, len(items))
    if flags:
        raise typer.Exit(1)


def _audit_with_progress(auditor: Auditor, items: list[AuditItem]) -> list[AuditFlag]:
    """Audit with a progress bar on the console; nothing is drawn when stderr is not a terminal."""
    columns = (TextColumn("auditing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("audit", total=len(items))
        return auditor.audit(items, on_progress=lambda done: progress.advance(task, done))


def _print_flags(flags: list[AuditFlag], items: int) -> None:
    if not flags:
        console.print(f"[green]no flags[/] in {items} item(s)")
        return
    table = Table(title=f"{len(flags)} flag(s) in {items} item(s)", show_lines=True)
    table.add_column("source", overflow="fold")
    table.add_column("field [span]")
    table.add_column("kind", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("matched text", overflow="fold", ratio=1)
    table.add_column("reason", overflow="fold", ratio=2)
    colours = {"low": "cyan", "medium": "yellow", "high": "red", "critical": "bold red"}
    for flag in flags:
        f, span = flag.finding, flag.finding.span
        where = f"{span.field} [{span.start}:{span.end}]" if span else "-"
        table.add_row(flag.source, where, f.kind, f"[{colours[f.severity]}]{f.severity}[/]", f.verdict,
                      span.text if span else "", f.reason)
    console.print(table)


def resume(
    run_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="The paused run directory."),
    ack: str = typer.Option(..., "--ack", help="Why it is safe to continue; written to the ledger."),
) -> None:
    """Acknowledge an oversight pause in the ledger, then continue the run."""
    with Ledger.open(run_dir) as ledger:
        state = acknowledge(run_dir, ack, ledger)
    console.print(f"[green]acknowledged[/] the pause at step {state.step} ({state.reason}); continuing")
    train(overrides=None, config=None, preset=None, model=None, steps=None, run_dir=None, resume=run_dir)
