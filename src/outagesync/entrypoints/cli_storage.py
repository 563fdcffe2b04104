"""`outagesync reports|sites|db`: stored run reports, managed sites, the database schema.

Parse, call a use case, render, exit. Settings, SQLAlchemy and Rich are imported inside the commands,
so that `outagesync --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from outagesync.errors import ConfigError, OutageSyncError

if TYPE_CHECKING:
    from outagesync.adapters.storage import SqlStore
    from outagesync.domain.models import ManagedSite

reports_app = typer.Typer(help="Stored run reports: list, show, clear.", no_args_is_help=True)
sites_app = typer.Typer(help="Managed sites: the ones `sync --all` keeps in sync.", no_args_is_help=True)
db_app = typer.Typer(
    help="The report database's schema (migrated automatically on first use).", no_args_is_help=True
)

_STATUSES = "succeeded, failed, dry_run, interrupted"
_DATE_HELP = "ISO 8601 date or time; no offset = UTC"


def _instant(text: str) -> datetime:
    """A date or time from the command line (no offset: UTC); a usage error (exit 2) otherwise."""
    from outagesync.domain.validate import parse_cutoff

    try:
        return parse_cutoff(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not ISO 8601: use e.g. 2024-05-01 or 2024-05-01T12:00:00Z"
        ) from None


SiteCutoff = Annotated[
    datetime | None,
    typer.Option(
        "--since",
        parser=_instant,
        metavar="DATE",
        help=f"This site's cutoff, instead of the run's ({_DATE_HELP}).",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")]


@reports_app.command("list")
def list_reports(
    site: Annotated[str | None, typer.Option(help="Only this site's reports.")] = None,
    status: Annotated[str | None, typer.Option(help=f"Only reports with this status: {_STATUSES}.")] = None,
    run: Annotated[str | None, typer.Option(help="Only the reports of this run id.")] = None,
    from_: Annotated[
        datetime | None,
        typer.Option("--from", parser=_instant, metavar="DATE", help=f"Started at or after ({_DATE_HELP})."),
    ] = None,
    before: Annotated[
        datetime | None,
        typer.Option(parser=_instant, metavar="DATE", help=f"Started before ({_DATE_HELP})."),
    ] = None,
    limit: Annotated[int, typer.Option(help="Reports per page, 1 to 500.")] = 20,
    cursor: Annotated[
        str | None, typer.Option(help="Continue after a previous page (its next cursor).")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Site reports, newest first."""
    from outagesync.services import reports

    with _store() as store:
        page = reports.list_reports(
            reports=store,
            site_id=site,
            status=status,
            run_id=run,
            started_from=from_,
            started_before=before,
            limit=limit,
            cursor=cursor,
        )
    if json_output:
        _print_json(page.to_dict())
        return
    from outagesync.entrypoints.render_storage import render_report_page

    render_report_page(page)


@reports_app.command("show")
def show_report(
    report_id: Annotated[
        str,
        typer.Argument(
            metavar="ID", help="A report id from `reports list` (a prefix of 8+ characters will do)."
        ),
    ],
    json_output: JsonFlag = False,
) -> None:
    """One site report, with the items that were posted (or would have been, on a dry run)."""
    from outagesync.services import reports

    with _store() as store:
        report = reports.get_report(report_id, reports=store)
    if json_output:
        _print_json(report.to_dict())
        return
    from outagesync.entrypoints.render_storage import render_report

    render_report(report)


@reports_app.command("clear")
def clear_reports(
    site: Annotated[str | None, typer.Option(help="Only this site's reports.")] = None,
    status: Annotated[str | None, typer.Option(help=f"Only reports with this status: {_STATUSES}.")] = None,
    before: Annotated[
        datetime | None,
        typer.Option(parser=_instant, metavar="DATE", help=f"Only reports started before ({_DATE_HELP})."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: the reports are deleted for good.")] = False,
) -> None:
    """Delete stored reports (all of them unless filtered)."""
    from outagesync.services import reports

    if not yes:
        _fail(ConfigError("`reports clear` deletes reports for good: add --yes to confirm"))
    with _store() as store:
        deleted = reports.clear_reports(reports=store, site_id=site, status=status, started_before=before)
    typer.echo(f"deleted {deleted} report{'' if deleted == 1 else 's'}")


@sites_app.command("add")
def add_site(
    site_id: Annotated[str, typer.Argument(metavar="SITE_ID", help="The KrakenFlex site id.")],
    name: Annotated[str | None, typer.Option(help="A display name.")] = None,
    since: SiteCutoff = None,
    disabled: Annotated[
        bool, typer.Option("--disabled", help="Add it, but leave it out of `sync --all`.")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Manage a site: `sync --all` syncs it (with its own cutoff if --since is given)."""
    from outagesync.services import sites

    with _store() as store:
        site = sites.add_site(site_id, sites=store, name=name, since=since, enabled=not disabled)
    _show_site(site, json_output, f"site {site.site_id} is now managed")


@sites_app.command("list")
def list_sites(
    enabled_only: Annotated[
        bool, typer.Option("--enabled-only", help="Only the sites `sync --all` syncs.")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Managed sites, by id."""
    from outagesync.domain.sites import managed_site_to_dict
    from outagesync.services import sites

    with _store() as store:
        managed = sites.list_sites(sites=store, enabled_only=enabled_only)
    if json_output:
        _print_json({"items": [managed_site_to_dict(site) for site in managed]})
        return
    from outagesync.entrypoints.render_storage import render_sites

    render_sites(managed)


@sites_app.command("show")
def show_site(
    site_id: Annotated[str, typer.Argument(metavar="SITE_ID")],
    json_output: JsonFlag = False,
) -> None:
    """One managed site."""
    from outagesync.services import sites

    with _store() as store:
        site = sites.get_site(site_id, sites=store)
    _show_site(site, json_output, None)


@sites_app.command("update")
def update_site(
    site_id: Annotated[str, typer.Argument(metavar="SITE_ID")],
    name: Annotated[str | None, typer.Option(help='New display name ("" removes it).')] = None,
    since: SiteCutoff = None,
    clear_since: Annotated[bool, typer.Option("--clear-since", help="Use the run's cutoff again.")] = False,
    enabled: Annotated[
        bool | None,
        typer.Option("--enable/--disable", help="Include in `sync --all` or not.", show_default=False),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Change a managed site; what is not given stays as it is."""
    from outagesync.domain.sites import KEEP, Keep
    from outagesync.services import sites

    if since is not None and clear_since:
        _fail(ConfigError("give --since or --clear-since, not both"))
    new_since: datetime | Keep | None = None if clear_since else (KEEP if since is None else since)
    with _store() as store:
        site = sites.update_site(
            site_id,
            sites=store,
            name=KEEP if name is None else name,
            since=new_since,
            enabled=KEEP if enabled is None else enabled,
        )
    _show_site(site, json_output, f"site {site.site_id} updated")


@sites_app.command("remove")
def remove_site(site_id: Annotated[str, typer.Argument(metavar="SITE_ID")]) -> None:
    """Stop managing a site (its reports are kept)."""
    from outagesync.services import sites

    with _store() as store:
        sites.remove_site(site_id, sites=store)
    typer.echo(f"site {site_id} is no longer managed (its reports are kept)")


@db_app.command("upgrade")
def upgrade_db(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Create or upgrade the schema (every command does it anyway on first use)."""
    with _store() as store:
        store.upgrade(revision)
        _echo_revision(store)


@db_app.command("downgrade")
def downgrade_db(
    revision: Annotated[str, typer.Argument(help='Target revision; "base" drops every table.')],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: data in dropped tables is lost.")] = False,
) -> None:
    """Migrate the schema down (for rolling back an upgrade)."""
    if not yes:
        _fail(ConfigError("`db downgrade` can drop tables and their data: add --yes to confirm"))
    with _store() as store:
        store.downgrade(revision)
        _echo_revision(store)


@db_app.command("current")
def current_db() -> None:
    """Which database is used, and its schema revision."""
    with _store() as store:
        _echo_revision(store)


def _echo_revision(store: SqlStore) -> None:
    current, head = store.current_revision(), store.head_revision()
    state = "up to date" if current == head else f"newest is {head}: run `outagesync db upgrade`"
    typer.echo(f"database: {store.database}")
    typer.echo(f"revision: {current or 'none (empty database)'} ({state})")


def _show_site(site: ManagedSite, json_output: bool, message: str | None) -> None:
    from outagesync.domain.sites import managed_site_to_dict

    if json_output:
        _print_json(managed_site_to_dict(site))
        return
    from outagesync.entrypoints.render_storage import render_site

    if message:
        typer.echo(message)
    render_site(site)


@contextmanager
def _store() -> Iterator[SqlStore]:
    """The store from the settings (environment, .env), closed afterwards; our errors end the command."""
    from outagesync import bootstrap
    from outagesync.config import load_settings

    try:
        store = bootstrap.build_store(load_settings())
        try:
            yield store
        finally:
            store.dispose()
    except OutageSyncError as exc:
        _fail(exc)


def _fail(exc: OutageSyncError) -> NoReturn:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(f"[red]error[/]: {escape(str(exc))}", highlight=False)
    raise typer.Exit(exc.exit_code) from None


def _print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
