"""``azr train``: the main job, with a live view of the run and a few closing lines a person reads."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.console import Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from azr.cli.console import console
from azr.selfplay.run_totals import RunTotals, StepRow, read_step_rows, run_totals

if TYPE_CHECKING:
    from azr.cluster.ranks import RankGroup
    from azr.selfplay.config import RunConfig
    from azr.selfplay.trainer import RunSummary, Trainer


def train(
    overrides: Optional[list[str]] = typer.Argument(None, help="Config overrides, e.g. selfplay.references=4 engine.lr=1e-6"),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML config file."),
    preset: Optional[str] = typer.Option(None, "--preset", "-p", help="Named preset: paper, cpu-small, cpu (the learning recipe) or smoke."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model: short name, HF id, directory or GGUF file."),
    steps: Optional[int] = typer.Option(
        None, "--steps", "-n", min=0, help="Self-play steps in all; with --resume, the run's new total."
    ),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Where to write the run (default runs/<time>)."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue the run in this directory exactly."),
    ray: Optional[str] = typer.Option(
        None, "--ray", help="Spread sandboxes over a Ray cluster: auto, local or an address (cluster.ray)."
    ),
) -> None:
    """Run Absolute Zero self-play: propose, validate, solve, verify, update, record.

    Under ``torchrun --nproc_per_node N`` rank 0 runs the loop and the other ranks join its updates.
    """
    # Imported here so that other commands do not pay for torch at start-up.
    from azr.cluster.ranks import init_ranks, serve, shutdown
    from azr.selfplay.config import load_run_config
    from azr.selfplay.run_dir import RunDir

    if resume is not None:
        if config or preset or model or run_dir or overrides or ray:
            raise typer.BadParameter("--resume takes no settings but --steps: the run's own config.yaml is used")
        run_config = RunDir.open(resume).load_config()
    else:
        extra = list(overrides or [])
        if model is not None:
            extra.append(f"engine.model={model}")
        if steps is not None:
            extra.append(f"steps={steps}")
        if ray is not None:
            extra.append(f"cluster.ray={ray}")
        run_config = load_run_config(preset=preset, path=config, overrides=extra)
    group = init_ranks(run_config.engine.device)
    try:
        if group is not None and not group.is_controller:
            serve(run_config.engine, group)
        else:
            _control(run_config, run_dir, resume, steps, group)
    finally:
        shutdown(group)


def _control(run_config: RunConfig, run_dir: Path | None, resume: Path | None, steps: int | None,
             group: RankGroup | None) -> None:
    """The controller's part of ``azr train``: the whole run, with the live view and closing lines."""
    from azr.selfplay.run_dir import RunDir
    from azr.selfplay.trainer import RunFinishedError, Trainer

    started = time.monotonic()
    if resume is not None:
        try:
            trainer = Trainer.resume_from(resume, steps=steps, group=group)
        except RunFinishedError as finished:
            console.print(str(finished), style="bold", markup=False)
            _print_run_totals(_totals(finished.run_dir, RunDir(finished.run_dir).load_config()), finished.run_dir)
            return
    else:
        trainer = Trainer.new(run_config, run_dir, group)
    console.print(f"[bold]run directory:[/] {trainer.run.path}")
    summary = _train_live(trainer)
    _print_closing(summary, trainer.config, time.monotonic() - started)
    if summary.exit_code:
        raise typer.Exit(summary.exit_code)


def _train_live(trainer: Trainer) -> RunSummary:
    """A progress bar and the latest step's table while it runs, and one kept line per finished step."""
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

    with Live(view(), console=console, refresh_per_second=2, transient=True) as live:
        def on_step(outcome: Any) -> None:
            latest.clear()
            latest.update(outcome.metrics)
            progress.update(task, completed=outcome.step)
            live.console.print(_step_line({"step": outcome.step, **outcome.metrics}, trainer.config))
            live.update(view())

        return trainer.train(on_step)


def _step_line(row: StepRow, config: RunConfig) -> str:
    """One kept line per step, so a scrolled-back terminal or a log file shows every step."""
    overall = _totals_of([row], config).overall
    return (f"step {row['step']}/{config.steps}: {_duration(row.get('time/step', 0.0))}, kept {overall.valid} of "
            f"{overall.proposed} proposed tasks, solved {overall.solved} of {overall.attempts} attempts")


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


def _print_closing(summary: RunSummary, config: RunConfig, wall_s: float) -> None:
    """What happened, the run's totals, where its records are and what to run next."""
    from azr.oversight import ActionKind

    done = _steps_ran(summary.first_step, summary.last_step)
    if summary.oversight.kind is ActionKind.PAUSE:
        console.print(f"[bold red]paused by oversight after step {summary.last_step}:[/] {summary.oversight.reason}")
    elif summary.oversight.kind is ActionKind.STOP:
        console.print(f"[bold red]stopped by oversight after step {summary.last_step}:[/] {summary.oversight.reason}")
    elif summary.interrupted:
        console.print(f"[yellow]stopped early:[/] ran {done} of {config.steps} in {_duration(wall_s)}")
    else:
        console.print(f"[bold green]done:[/] ran {done} of {config.steps} in {_duration(wall_s)}")
    _print_run_totals(_totals(summary.run_dir, config), summary.run_dir)
    if summary.oversight.kind is ActionKind.PAUSE:
        console.print(f'[bold]next:[/]    read the scorecard, then: azr resume {summary.run_dir} --ack "why it is safe"')
    elif summary.oversight.kind is ActionKind.STOP:
        console.print("[bold]next:[/]    this run cannot continue; read the scorecard and the report")
    elif summary.interrupted:
        console.print(f"[bold]next:[/]    azr train --resume {summary.run_dir}  (on to step {config.steps})")
    else:
        _print_extend_hint(summary.run_dir, summary.last_step)


def _print_run_totals(totals: RunTotals, run_dir: Path) -> None:
    """The whole run (every session of it) per task type, then where its ledger and report are."""
    if totals.steps:
        phases = ", ".join(f"{name} {_duration(seconds / totals.steps)}" for name, seconds in totals.phase_seconds.items())
        console.print(f"[bold]a step:[/]  {_duration(totals.seconds_per_step or 0.0)} on average ({phases})")
    table = Table(title=f"tasks over the run's {totals.steps} steps", title_justify="left", box=None, padding=(0, 2))
    for column in ("task type", "proposed", "kept (valid)", "solver correct"):
        table.add_column(column, justify="right")
    for t in totals.types:
        table.add_row(t.task_type, str(t.proposed), f"{t.valid} ({_percent(t.valid_fraction)})",
                      f"{t.solved} of {t.attempts} ({_percent(t.accuracy)})" if t.attempts else "-")
    console.print(table)
    console.print(f"[bold]ledger:[/]  {run_dir / 'ledger.sqlite'}")
    console.print(f"[bold]report:[/]  azr report {run_dir}  writes {run_dir / 'report.html'}")


def _print_extend_hint(run_dir: Path, steps_done: int) -> None:
    from azr.selfplay.trainer import next_total

    total = next_total(steps_done)
    console.print(f"[bold]next:[/]    azr train --resume {run_dir} --steps {total}  ({total} steps in all)")


def _totals(run_dir: Path, config: RunConfig) -> RunTotals:
    from azr.selfplay.run_dir import RunDir

    return _totals_of(read_step_rows(RunDir(run_dir).metrics_path), config)


def _totals_of(rows: list[StepRow], config: RunConfig) -> RunTotals:
    selfplay = config.selfplay
    return run_totals(rows, selfplay.task_types, selfplay.proposals_per_type, selfplay.solves_per_type)


def _steps_ran(first: int, last: int) -> str:
    """``3 steps`` for a new run; ``steps 4-6`` or ``step 4`` for a resumed one, whose numbers go on."""
    ran = last - first + 1
    if first == 1:
        return f"{ran} step" if ran == 1 else f"{ran} steps"
    return f"step {first}" if ran == 1 else f"steps {first}-{last}"


def _percent(fraction: float | None) -> str:
    return "-" if fraction is None else f"{fraction:.0%}"


def _duration(seconds: float) -> str:
    """``42s``, ``10m 32s`` or ``2h 05m``: the resolution a person reads a run's time in."""
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"
