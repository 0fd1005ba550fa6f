"""``azr train``: the main job, with a live view of the run and a summary at the end."""

from __future__ import annotations

from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.console import Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from azr.cli.console import console

if TYPE_CHECKING:
    from azr.selfplay.trainer import RunSummary, Trainer

ROLES = ("propose", "solve")


def train(
    overrides: Optional[list[str]] = typer.Argument(None, help="Config overrides, e.g. selfplay.references=4 engine.lr=1e-6"),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML config file."),
    preset: Optional[str] = typer.Option(None, "--preset", "-p", help="Named preset: paper, cpu-small or smoke."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model: short name, HF id, directory or GGUF file."),
    steps: Optional[int] = typer.Option(None, "--steps", "-n", help="Number of self-play steps."),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Where to write the run (default runs/<time>)."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue the run in this directory exactly."),
) -> None:
    """Run Absolute Zero self-play: propose, validate, solve, verify, update, record."""
    # Imported here so that other commands do not pay for torch at start-up.
    from azr.oversight import ActionKind
    from azr.selfplay.config import load_run_config
    from azr.selfplay.trainer import Trainer

    if resume is not None:
        if config or preset or model or steps is not None or run_dir or overrides:
            raise typer.BadParameter("--resume takes no other settings: the run's own config.yaml is used")
        trainer = Trainer.resume_from(resume)
    else:
        extra = list(overrides or [])
        if model is not None:
            extra.append(f"engine.model={model}")
        if steps is not None:
            extra.append(f"steps={steps}")
        cfg = load_run_config(preset=preset, path=config, overrides=extra)
        trainer = Trainer.new(cfg, run_dir)
    console.print(f"[bold]run directory:[/] {trainer.run.path}")
    summary = _train_live(trainer)
    console.print(_summary_table(summary))
    console.print(f"[bold]run directory:[/] {summary.run_dir}")
    if summary.oversight.kind is ActionKind.PAUSE:
        console.print(f"[bold red]paused by oversight:[/] {summary.oversight.reason}; read the scorecard, then "
                      f'continue with: azr resume {summary.run_dir} --ack "why it is safe"')
    elif summary.oversight.kind is ActionKind.STOP:
        console.print(f"[bold red]stopped by oversight:[/] {summary.oversight.reason}; this run cannot continue")
    elif summary.interrupted:
        console.print(f"[yellow]stopped early; continue with:[/] azr train --resume {summary.run_dir}")
    if summary.exit_code:
        raise typer.Exit(summary.exit_code)


def _train_live(trainer: Trainer) -> RunSummary:
    progress = Progress(
        TextColumn("[bold]step"),
        MofNCompleteColumn(),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
    )
    task = progress.add_task("steps", total=trainer.config.steps)
    latest: dict[str, float] = {}

    def view() -> Group:
        return Group(progress, _step_table(latest, trainer.config.selfplay.task_types))

    with Live(view(), console=console, refresh_per_second=2, transient=False) as live:
        def on_step(outcome: Any) -> None:
            latest.clear()
            latest.update(outcome.metrics)
            progress.update(task, completed=outcome.step)
            live.update(view())

        return trainer.train(on_step)


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.0%}" if pct else f"{value:+.3f}"


def _step_table(metrics: dict[str, float], task_types: list[str]) -> Table:
    table = Table(title="latest step", show_edge=False)
    for column in ("task type", "reward propose", "reward solve", "valid", "solve rate", "buffer"):
        table.add_column(column, justify="right")
    for name in task_types:
        table.add_row(
            name,
            _fmt(metrics.get(f"reward/{name}/propose")),
            _fmt(metrics.get(f"reward/{name}/solve")),
            _fmt(metrics.get(f"valid_rate/{name}"), pct=True),
            _fmt(metrics.get(f"solve_rate/{name}"), pct=True),
            str(int(metrics.get(f"buffer/{name}", 0))),
        )
    if metrics:
        table.caption = (
            f"{metrics.get('tokens/per_s', 0):.0f} tok/s · step {metrics.get('time/step', 0):.1f}s "
            f"(generate {metrics.get('time/generate', 0):.1f}s, execute {metrics.get('time/execute', 0):.1f}s, "
            f"update {metrics.get('time/update', 0):.1f}s)"
        )
    return table


def _summary_table(summary: RunSummary) -> Table:
    """First and last step side by side, plus means over the run."""
    table = Table(title=f"summary: steps {summary.first_step}-{summary.last_step}")
    table.add_column("metric")
    table.add_column("first", justify="right")
    table.add_column("last", justify="right")
    table.add_column("mean", justify="right")
    if not summary.history:
        return table
    first, last = summary.history[0], summary.history[-1]
    names = sorted({k for row in summary.history for k in row if k.split("/")[0] in
                    ("reward", "valid_rate", "solve_rate", "buffer", "time", "tokens")})
    for name in names:
        values = [row[name] for row in summary.history if name in row]
        table.add_row(name, f"{first.get(name, float('nan')):.3f}", f"{last.get(name, float('nan')):.3f}",
                      f"{mean(values):.3f}")
    return table
