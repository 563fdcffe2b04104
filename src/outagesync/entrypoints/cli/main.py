"""The `outagesync` Typer app: global options, and every command group registered in one place."""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from typing import Annotated

import typer

from outagesync import __version__
from outagesync.entrypoints.cli.db import db_app
from outagesync.entrypoints.cli.reports import reports_app
from outagesync.entrypoints.cli.sandbox import sandbox_command
from outagesync.entrypoints.cli.serve import serve_command
from outagesync.entrypoints.cli.sites import sites_app
from outagesync.entrypoints.cli.sync import sync

app = typer.Typer(
    name="outagesync",
    help="Keep each energy site's outage list on the KrakenFlex platform correct.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("sync")(sync)
app.command("sandbox")(sandbox_command)
app.command("serve")(serve_command)
app.add_typer(reports_app, name="reports")
app.add_typer(sites_app, name="sites")
app.add_typer(db_app, name="db")


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"outagesync {__version__}")
        raise typer.Exit


@app.callback()
def _main(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More logs on stderr (-vv: debug).")
    ] = 0,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            envvar="OUTAGESYNC_LOG_FORMAT",
            case_sensitive=False,
            help="Logs and messages on stderr as text, or as one JSON object per line.",
        ),
    ] = LogFormat.TEXT,
) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    if log_format is LogFormat.JSON:
        from outagesync import bootstrap

        bootstrap.configure_json_logging(level)
    else:
        logging.basicConfig(
            level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    if verbose < 2:
        logging.getLogger("httpx").setLevel(logging.WARNING)


def main() -> None:
    """Console script entry point."""
    app()
