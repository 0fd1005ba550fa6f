"""``azr sandbox``: run one program in the sandbox, and show which layers this host enforces."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from azr.cli.console import console
from azr.config import build_config
from azr.errors import AzrError
from azr.executor import ExecResult, Executor, Snippet
from azr.executor.config import ExecutorConfig
from azr.executor.layers import probe

sandbox_app = typer.Typer(help="Run untrusted Python in the sandbox; check the host's isolation.", no_args_is_help=True)

_CONFIG = typer.Option(None, "--config", "-c", help="YAML file with executor settings.")
_SET = typer.Option([], "--set", "-s", help="Executor setting override, e.g. --set memory_mb=512.")

# A day: longer than any program the sandbox is for, and far below where the pool's
# deadline arithmetic and the kernel's poll timeouts overflow (~1e13 s).
MAX_TIMEOUT_S = 86_400.0


def _config(path: Path | None, overrides: list[str]) -> ExecutorConfig:
    return build_config(ExecutorConfig, path=path, overrides=overrides)


@sandbox_app.command()
def run(
    file: Path = typer.Argument(..., help="Python file to run as a module body."),
    timeout: float | None = typer.Option(None, "--timeout", "-t", help="Wall-clock limit in seconds."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
    call: str | None = typer.Option(None, "--call", help="Expression to evaluate after the file, e.g. \"f(3)\"."),
    config: Path | None = _CONFIG,
    overrides: list[str] = _SET,
) -> None:
    """Run FILE in a hardened child and print its structured result; exit 1 if it failed."""
    try:
        code = file.read_text()
    except OSError as exc:
        raise AzrError(f"cannot read {file}: {exc.strerror or exc}") from exc
    settings = _config(config, overrides).model_copy(update={"workers": 1, "seed_slots": 1})
    if timeout is None:
        _check_timeout(settings.default_timeout_s, "default_timeout_s")
    else:
        _check_timeout(timeout, "--timeout")
    with Executor(settings) as executor:
        result = executor.run(Snippet(code=code, call=call, timeout_s=timeout))
    if as_json:
        typer.echo(json.dumps(asdict(result)))
    else:
        _print_result(file, result)
    if not result.ok:
        raise typer.Exit(1)


def _check_timeout(seconds: float, name: str) -> None:
    """Refuse a limit the executor cannot honour: NaN and huge values overflow its poll, 0 times out at once."""
    if not math.isfinite(seconds) or seconds > MAX_TIMEOUT_S:
        raise AzrError(f"{name} {seconds:g} is not a usable time limit: give seconds above 0 and at most {MAX_TIMEOUT_S:g}")
    if seconds <= 0:
        raise AzrError(f"{name} {seconds:g} would stop the program before it starts: give seconds above 0, e.g. 5")


@sandbox_app.command()
def doctor(config: Path | None = _CONFIG, overrides: list[str] = _SET) -> None:
    """List the sandbox layers, whether this host enforces each, and what each blocks."""
    settings = _config(config, overrides)
    table = Table(title="sandbox layers on this host")
    for column in ("layer", "active", "detail", "blocks"):
        table.add_column(column, overflow="fold")
    statuses = probe(settings)
    for status in statuses:
        mark = "[green]yes[/]" if status.active else "[bold red]NO[/]"
        table.add_row(status.name, mark, escape(status.detail), escape(status.blocks))
    console.print(table)
    missing = [s.name for s in statuses if not s.active]
    if missing:
        console.print(f"[bold red]missing:[/] {', '.join(missing)} — what they block is not contained on this host")
        if set(missing) & set(settings.require_layers):
            raise typer.Exit(1)


def _print_result(file: Path, result: ExecResult) -> None:
    table = Table(title=f"{file} in the sandbox", show_header=False)
    table.add_row("status", "[green]ok[/]" if result.ok else f"[bold red]{escape(result.error_type or 'failed')}[/]")
    if result.value_repr is not None:
        table.add_row("value", escape(result.value_repr))
    if result.error_message:
        table.add_row("error", escape(result.error_message))
    if result.killed_by_limit:
        table.add_row("limit", result.killed_by_limit)
    table.add_row("duration", f"{result.duration_s * 1000:.1f} ms")
    output = result.stdout + ("\n[… output truncated]" if result.stdout_truncated else "")
    table.add_row("output", escape(output) if output else "[dim](none)[/]")
    console.print(table)
