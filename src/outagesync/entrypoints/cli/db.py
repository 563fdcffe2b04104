"""`outagesync db`: the report database's schema (upgrade, downgrade, current). Parse, call, render."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from outagesync.entrypoints.cli.console import fail, open_store, say
from outagesync.errors import InvalidInput

if TYPE_CHECKING:
    from outagesync.services.admin import SchemaStatus

db_app = typer.Typer(
    help="""The report database's schema (migrated automatically on first use).

    Examples:
        outagesync db current
        outagesync db upgrade
    """,
    no_args_is_help=True,
)


@db_app.command("upgrade")
def upgrade_db(
    revision: Annotated[str, typer.Argument(metavar="REVISION", help="Target revision.")] = "head",
) -> None:
    """Create or upgrade the schema (every command does it anyway on first use).

    On PostgreSQL, the job queue's tables too (procrastinate's, docs/scale-out.md).

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync db upgrade
        outagesync db upgrade 0003
    """
    from outagesync.services import admin

    with open_store() as store:
        _echo_status(admin.upgrade_schema(store=store, revision=revision))
    _upgrade_queue()


def _upgrade_queue() -> None:
    from outagesync import bootstrap
    from outagesync.config import load_settings
    from outagesync.entrypoints.run import run_to_value
    from outagesync.errors import OutageSyncError

    try:
        settings = load_settings()
        if bootstrap.has_queue(settings):
            migration = run_to_value(bootstrap.upgrade_queue_schema(settings))
            say(f"job queue: procrastinate schema at {migration}")
    except OutageSyncError as exc:
        fail(exc)


@db_app.command("downgrade")
def downgrade_db(
    revision: Annotated[
        str, typer.Argument(metavar="REVISION", help='Target revision; "base" drops every table.')
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: data in dropped tables is lost.")] = False,
) -> None:
    """Migrate the schema down (for rolling back an upgrade).

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync db downgrade 0003 --yes
        outagesync db downgrade base --yes
    """
    if not yes:
        fail(InvalidInput("`db downgrade` can drop tables and their data: add --yes to confirm"))
    from outagesync.services import admin

    with open_store() as store:
        _echo_status(admin.downgrade_schema(store=store, revision=revision))


@db_app.command("current")
def current_db() -> None:
    """Which database is used, and its schema revision (creates nothing).

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync db current
        outagesync -v db current
    """
    from outagesync.services import admin

    with open_store() as store:
        _echo_status(admin.schema_status(store=store))


def _echo_status(status: SchemaStatus) -> None:
    state = "up to date" if status.up_to_date else f"newest is {status.head}: run `outagesync db upgrade`"
    say(f"database: {status.database}")
    say(f"revision: {status.current or 'none (empty database)'} ({state})")
