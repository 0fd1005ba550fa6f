"""``azr compare``: several runs side by side, each measured against its control at equal wall time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from azr.cli.console import console

VERDICT_STYLE = {"above control": "bold green", "below control": "bold red", "no clear gap": "yellow"}


def compare_command(
    run_dirs: list[Path] = typer.Argument(..., help="Run directories: runs and a control (engine.apply_updates=false)."),
    control: Optional[Path] = typer.Option(None, "--control", "-c",
                                           help="Which run is the control (default: the one with updates off)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write an offline HTML page with the curves."),
    as_json: bool = typer.Option(False, "--json", help="Print the table as JSON lines on stdout."),
) -> None:
    """Held-out probe and CRUXEval rates of several runs with 95% intervals, and each run's gap to the control."""
    from azr.report.compare import compare, pooled_valid
    from azr.report.compare_page import GAP_HEADER, compare_page, gap_rows

    comparison = compare(run_dirs, control)
    rows = gap_rows(comparison)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(dict(zip(GAP_HEADER, row))))
    table = Table(title=f"at equal training wall time: {comparison.equal_s / 60:.1f} min after the step-0 eval")
    for name in GAP_HEADER:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(Text(c) for c in row[:-1]), Text(row[-1], style=VERDICT_STYLE.get(row[-1], "")))
    console.print(table)
    half = comparison.equal_s / 2
    for run in comparison.runs:
        valid, proposed = pooled_valid(run, half, comparison.equal_s)
        if proposed:
            console.print(f"{escape(run.name)}: {valid:g}/{proposed} training proposals valid in the second half "
                          f"({half / 60:.0f}-{comparison.equal_s / 60:.0f} min)")
    if comparison.control is None:
        console.print("[yellow]no control:[/] none of these runs has engine.apply_updates=false; "
                      "name one with --control to see gaps")
    if not comparison.same_probes:
        console.print("[yellow]warning:[/] the runs were measured on different probe sets (give the control "
                      "eval.probes_file=RUN/probes.jsonl); probe gaps are unpaired")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(compare_page(comparison), encoding="utf-8")
        console.print(f"[bold]compare page:[/] {out}")
