"""The ``azr`` command. Each subcommand group lives in its own module and is added here."""

from __future__ import annotations

import logging
import sys

import typer
from rich.logging import RichHandler
from rich.markup import escape

from azr import __version__
from azr.cli.audit import audit, resume
from azr.cli.cluster import cluster_app
from azr.cli.compare import compare_command
from azr.cli.console import console
from azr.cli.eval import eval_command
from azr.cli.ledger import ledger_app
from azr.cli.report import dashboard, report
from azr.cli.sandbox import sandbox_app
from azr.cli.train import train
from azr.errors import AzrError

app = typer.Typer(
    name="azr",
    help="Absolute Zero self-play: propose, solve, verify in a sandbox, learn, and watch it happen.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("train")(train)
app.add_typer(ledger_app, name="ledger")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(cluster_app, name="cluster")
app.command("audit")(audit)
app.command("resume")(resume)
app.command("report")(report)
app.command("dashboard")(dashboard)
app.command("eval")(eval_command)
app.command("compare")(compare_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"azr {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output (-v info, -vv debug)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(message)s", handlers=[RichHandler(console=console, show_path=False)])


def run() -> None:
    """Entry point that turns :class:`AzrError` into one clean line and exit code 2.

    The message is escaped (a path like ``runs/[a]`` is not rich markup) and not wrapped,
    so it stays one line a user can copy and a script can grep.
    """
    try:
        app()
    except AzrError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        sys.exit(2)
