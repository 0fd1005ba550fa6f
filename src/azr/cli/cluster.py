"""``azr cluster``: look at the Ray cluster a run would use before sending it model-written code."""

from __future__ import annotations

from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from azr.cli.console import console

cluster_app = typer.Typer(help="Inspect the Ray cluster that scale-out runs use.", no_args_is_help=True)


@cluster_app.command()
def doctor(
    ray_address: str = typer.Option("auto", "--ray", help="auto, local, or a Ray address (as cluster.ray)."),
    allow_missing: Optional[list[str]] = typer.Option(
        None, "--allow-missing", help="A sandbox layer a node may lack (as cluster.allow_missing_layers); repeatable."
    ),
) -> None:
    """List the cluster's nodes and the sandbox layers active on each; exit 1 if a node would be refused."""
    from azr.cluster.config import ClusterConfig
    from azr.cluster.doctor import examine
    from azr.cluster.ray_runtime import ray_session
    from azr.executor import ExecutorConfig

    allowed = ClusterConfig(ray=ray_address, allow_missing_layers=list(allow_missing or [])).allow_missing_layers
    with ray_session(ray_address) as ray:
        reports = examine(ray, ExecutorConfig())
    table = Table(title=f"{len(reports)} node(s)")
    for name in ("node", "address", "CPUs", "GPUs", "memory GiB", "sandbox layers", "verdict"):
        table.add_column(name)
    refusals = []
    for report in reports:
        refused = report.refused(allowed)
        if refused:
            refusals.append(f"[red]{report.node_id[:12]} refused:[/] lacks {escape(', '.join(refused))}"
                            + (f" ({escape(report.error)})" if report.error else ""))
        layers = report.sandbox.layers if report.sandbox else []
        active = sum(layer.active for layer in layers)
        missing = [layer.name for layer in layers if not layer.active]
        summary = f"{active}/{len(layers)} active" + (f", missing {', '.join(missing)}" if missing else "")
        table.add_row(report.node_id[:12], report.address, f"{report.cpus:g}", f"{report.gpus:g}",
                      f"{report.memory_gib:.1f}", escape(summary), "[red]refused[/]" if refused else "[green]ok[/]")
    console.print(table)
    for line in refusals:
        console.print(line, soft_wrap=True)
    if refusals:
        console.print("A refused node takes no snippets: fix it, remove it, or opt in with --allow-missing LAYER "
                      "(cluster.allow_missing_layers in a run).")
        raise typer.Exit(1)
