"""`outagesync sites`: the managed sites `sync --all` keeps in sync. Parse, call services.sites, render."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from outagesync.entrypoints.cli.completion import complete_site_ids
from outagesync.entrypoints.cli.console import fail, open_store, print_json, say
from outagesync.entrypoints.cli.options import JsonFlag, SiteCutoff
from outagesync.errors import InvalidInput

if TYPE_CHECKING:
    from outagesync.domain.models import ManagedSite

Schedule = Annotated[
    str | None,
    typer.Option(
        metavar="CRON",
        help="When the queue's workers sync it: a 5-field cron expression in UTC, e.g. '*/15 * * * *' "
        '("" removes it; unset: OUTAGESYNC_SCHEDULE).',
    ),
]

sites_app = typer.Typer(
    help="""Managed sites: the ones `sync --all` keeps in sync.

    Examples:
        outagesync sites add kingfisher --name "Kingfisher farm"
        outagesync sites list
        outagesync sync --all
    """,
    no_args_is_help=True,
)
ManagedSiteId = Annotated[
    str,
    typer.Argument(metavar="SITE_ID", help="A managed site's id.", autocompletion=complete_site_ids),
]


@sites_app.command("add")
def add_site(
    site_id: Annotated[str, typer.Argument(metavar="SITE_ID", help="The KrakenFlex site id.")],
    name: Annotated[str | None, typer.Option(metavar="TEXT", help="A display name.")] = None,
    since: SiteCutoff = None,
    disabled: Annotated[
        bool, typer.Option("--disabled", help="Add it, but leave it out of `sync --all`.")
    ] = False,
    schedule: Schedule = None,
    allow_empty: Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            help="An empty list may be posted to it even when its last accepted list was not empty "
            "(clearing it); otherwise such a sync fails empty-list-refused.",
        ),
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Manage a site: `sync --all` syncs it, with its own cutoff if --since is given.

    With --schedule, the queue's workers sync it on that schedule (docs/scale-out.md).

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync sites add kingfisher
        outagesync sites add kingfisher --name "Kingfisher farm" --since 2024-01-01
        outagesync sites add kingfisher --disabled --json
    """
    from outagesync.services import sites

    with open_store() as store:
        site = sites.add_site(
            site_id,
            sites=store,
            name=name,
            since=since,
            enabled=not disabled,
            schedule=schedule,
            allow_empty=allow_empty,
        )
    _show_site(site, json_output, f"site {site.site_id} is now managed")


@sites_app.command("list")
def list_sites(
    enabled_only: Annotated[
        bool, typer.Option("--enabled-only", help="Only the sites `sync --all` syncs.")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Managed sites, by id.

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync sites list
        outagesync sites list --enabled-only --json | jq -r '.items[].site_id'
    """
    from outagesync.presenters.json import managed_site_to_dict
    from outagesync.services import sites

    with open_store() as store:
        managed = sites.list_sites(sites=store, enabled_only=enabled_only)
    if json_output:
        print_json({"items": [managed_site_to_dict(site) for site in managed]})
        return
    from outagesync.entrypoints.cli.render.sites import render_sites

    render_sites(managed)


@sites_app.command("show")
def show_site(
    site_id: ManagedSiteId,
    json_output: JsonFlag = False,
) -> None:
    """One managed site: its name, cutoff, schedule and whether `sync --all` syncs it.

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync sites show kingfisher
        outagesync sites show kingfisher --json
    """
    from outagesync.services import sites

    with open_store() as store:
        site = sites.get_site(site_id, sites=store)
    _show_site(site, json_output, None)


@sites_app.command("update")
def update_site(
    site_id: ManagedSiteId,
    name: Annotated[
        str | None, typer.Option(metavar="TEXT", help='New display name ("" removes it).')
    ] = None,
    since: SiteCutoff = None,
    clear_since: Annotated[bool, typer.Option("--clear-since", help="Use the run's cutoff again.")] = False,
    enabled: Annotated[
        bool | None,
        typer.Option("--enable/--disable", help="Include in `sync --all` or not.", show_default=False),
    ] = None,
    schedule: Schedule = None,
    allow_empty: Annotated[
        bool | None,
        typer.Option(
            "--allow-empty/--no-allow-empty",
            help="Whether an empty list may be posted to it when its last accepted list was not empty.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Change a managed site; what is not given stays as it is.

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync sites update kingfisher --disable
        outagesync sites update kingfisher --since 2024-06-01 --name "Kingfisher farm"
        outagesync sites update kingfisher --clear-since --enable
    """
    from outagesync.domain.sites import KEEP, Keep
    from outagesync.services import sites

    if since is not None and clear_since:
        fail(InvalidInput("give --since or --clear-since, not both"))
    new_since: datetime | Keep | None = None if clear_since else (KEEP if since is None else since)
    with open_store() as store:
        site = sites.update_site(
            site_id,
            sites=store,
            name=KEEP if name is None else name,
            since=new_since,
            enabled=KEEP if enabled is None else enabled,
            schedule=KEEP if schedule is None else schedule,
            allow_empty=KEEP if allow_empty is None else allow_empty,
        )
    _show_site(site, json_output, f"site {site.site_id} updated")


@sites_app.command("remove")
def remove_site(site_id: ManagedSiteId) -> None:
    """Stop managing a site (its reports are kept).

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync sites remove kingfisher
        outagesync -q sites remove kingfisher
    """
    from outagesync.services import sites

    with open_store() as store:
        sites.remove_site(site_id, sites=store)
    say(f"site {site_id} is no longer managed (its reports are kept)")


def _show_site(site: ManagedSite, json_output: bool, message: str | None) -> None:
    from outagesync.presenters.json import managed_site_to_dict

    if json_output:
        print_json(managed_site_to_dict(site))
        return
    from outagesync.entrypoints.cli.render.sites import render_site

    if message:
        say(message)
    render_site(site)
