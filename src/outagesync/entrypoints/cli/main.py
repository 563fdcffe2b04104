"""The `outagesync` Typer app: global options, and every command group registered in one place."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import DefaultPlaceholder

from outagesync import __version__
from outagesync.entrypoints.cli.configuration import config_app
from outagesync.entrypoints.cli.console import set_quiet
from outagesync.entrypoints.cli.db import db_app
from outagesync.entrypoints.cli.doctor import doctor_command
from outagesync.entrypoints.cli.helptext import HelpCommand, HelpGroup
from outagesync.entrypoints.cli.jobs import enqueue_command, jobs_app
from outagesync.entrypoints.cli.reports import reports_app
from outagesync.entrypoints.cli.sandbox import sandbox_command
from outagesync.entrypoints.cli.serve import serve_command
from outagesync.entrypoints.cli.sites import sites_app
from outagesync.entrypoints.cli.sync import sync
from outagesync.entrypoints.cli.worker import worker_command


class _GlobalFlagsAnywhere(HelpGroup):
    """`-v`, `-vv`, `-q`, `--env-file PATH` (and the long forms) are global options, accepted before or
    after the command: `outagesync sync -v` is `outagesync -v sync` (up to a `--`)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # a click Context
        end = args.index("--") if "--" in args else len(args)
        hoisted: list[str] = []
        rest: list[str] = []
        position = 0
        while position < end:
            arg = args[position]
            if arg == "--env-file" and position + 1 < end:
                hoisted += args[position : position + 2]
                position += 2
                continue
            (hoisted if _is_global_flag(arg) or arg.startswith("--env-file=") else rest).append(arg)
            position += 1
        return super().parse_args(ctx, [*hoisted, *rest, *args[end:]])


def _is_global_flag(arg: str) -> bool:
    return re.fullmatch(r"-v+|--verbose|-q|--quiet", arg) is not None


app = typer.Typer(
    cls=_GlobalFlagsAnywhere,
    name="outagesync",
    help="""Keep each energy site's outage list on the KrakenFlex platform correct.

    Environment: KRAKENFLEX_API_KEY, KRAKENFLEX_API_URL, OUTAGESYNC_DATABASE_URL (every setting and where
    it comes from: `outagesync config show`)

    Examples:
        outagesync doctor
        outagesync sync --dry-run
        outagesync sync --all -q
        outagesync reports list --site kingfisher
    """,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("sync")(sync)
app.command("sandbox")(sandbox_command)
app.command("serve")(serve_command)
app.command("doctor")(doctor_command)
app.command("worker")(worker_command)
app.command("enqueue")(enqueue_command)
app.add_typer(reports_app, name="reports")
app.add_typer(sites_app, name="sites")
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(jobs_app, name="jobs")


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"outagesync {__version__}")
        raise typer.Exit


@app.callback()
def _main(
    ctx: typer.Context,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            metavar="",  # a flag: no value
            show_default=False,
            help="More on stderr: -v our steps (requests, statuses, attempts, waits), -vv library debug "
            "logs too (secrets masked). Before or after the command.",
        ),
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only errors (and what --json asks for).")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            envvar="OUTAGESYNC_LOG_FORMAT",
            case_sensitive=False,
            metavar="text|json",
            help="Logs and messages on stderr as text, or as one JSON object per line.",
        ),
    ] = LogFormat.TEXT,
    env_file: Annotated[
        str | None,
        typer.Option(
            "--env-file",
            envvar="OUTAGESYNC_ENV_FILE",
            metavar="PATH",
            show_default=False,
            help="Read settings from this file instead of ./.env (it must exist). [default: ./.env if any]",
        ),
    ] = None,
) -> None:
    import os

    from outagesync import bootstrap

    if quiet and verbose:
        raise typer.BadParameter("give -v or -q, not both", param_hint="'--quiet'")
    if env_file is not None:
        if not os.path.isfile(env_file):
            raise typer.BadParameter(f"no such file: {env_file}", param_hint="'--env-file'")
        before = os.environ.get("OUTAGESYNC_ENV_FILE")
        os.environ["OUTAGESYNC_ENV_FILE"] = env_file  # every settings load of this command reads it
        ctx.call_on_close(lambda: _restore("OUTAGESYNC_ENV_FILE", before))
    undo = bootstrap.configure_logging(-1 if quiet else verbose, json_lines=log_format is LogFormat.JSON)
    ctx.call_on_close(undo)  # a command run in-process (tests, the Python API) leaves no handler behind
    set_quiet(quiet)


def _restore(name: str, value: str | None) -> None:
    import os

    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def main() -> None:
    """Console script entry point."""
    app()


def _use_help_classes(typer_app: typer.Typer) -> None:
    """Every command's and group's docstring becomes help as docs/cli.md says (helptext.HelpCommand)."""
    for command in typer_app.registered_commands:
        if command.cls in (None, TyperCommand):
            command.cls = HelpCommand
    for group in typer_app.registered_groups:
        if isinstance(group.cls, DefaultPlaceholder) or group.cls in (None, TyperGroup):
            group.cls = HelpGroup
        if group.typer_instance is not None:
            _use_help_classes(group.typer_instance)


_use_help_classes(app)  # last: after every command and group is registered
