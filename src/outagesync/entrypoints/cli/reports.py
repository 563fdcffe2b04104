"""`outagesync reports`: stored run reports (list, show, clear). Parse, call services.reports, render."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from outagesync.defaults import MAX_PAGE_SIZE, REPORTS_PAGE_SIZE_CLI
from outagesync.entrypoints.cli import helptext
from outagesync.entrypoints.cli.completion import complete_site_ids, complete_statuses
from outagesync.entrypoints.cli.console import fail, open_store, print_json, say, use_sandbox_database
from outagesync.entrypoints.cli.options import STATUSES, WHEN_HELP, JsonFlag, parse_age, parse_when
from outagesync.errors import InvalidInput

if TYPE_CHECKING:
    from outagesync.domain.reports import StoredReport

reports_app = typer.Typer(
    help="""Stored run reports: list, show, last, diff, clear.

    Examples:
        outagesync reports list --site kingfisher --from 7d
        outagesync reports last
        outagesync reports show 6dfee42c63b4
    """,
    no_args_is_help=True,
)
SiteFilter = Annotated[
    str | None,
    typer.Option(
        metavar=helptext.SITE_ID, help="Only this site's reports.", autocompletion=complete_site_ids
    ),
]
StatusFilter = Annotated[
    str | None,
    typer.Option(
        metavar=helptext.STATUS,
        help=f"Only reports with this status: {STATUSES}.",
        autocompletion=complete_statuses,
    ),
]


@reports_app.callback()
def _reports(
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox",
            help="Read the sandbox's own report database, where `sync --sandbox` records its runs "
            "(unless OUTAGESYNC_DATABASE_URL is set).",
        ),
    ] = False,
) -> None:
    use_sandbox_database(sandbox)


@reports_app.command("list")
def list_reports(
    site: SiteFilter = None,
    status: StatusFilter = None,
    run: Annotated[
        str | None,
        typer.Option(metavar=helptext.ID, help="Only the reports of this run id (8+ character prefix)."),
    ] = None,
    from_: Annotated[
        datetime | None,
        typer.Option("--from", parser=parse_when, metavar="WHEN", help=f"Started at or after ({WHEN_HELP})."),
    ] = None,
    before: Annotated[
        datetime | None,
        typer.Option(
            "--to", "--before", parser=parse_when, metavar="WHEN", help=f"Started before ({WHEN_HELP})."
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(metavar=helptext.N, help=f"Reports per page, 1 to {MAX_PAGE_SIZE}.")
    ] = REPORTS_PAGE_SIZE_CLI,
    cursor: Annotated[
        str | None,
        typer.Option(metavar=helptext.TOKEN, help="Continue after a previous page (its `more:` token)."),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Site reports, newest first, a page at a time.

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync reports list
        outagesync reports list --site kingfisher --status failed --from 7d
        outagesync reports list --run 6dfee42c63b4 --json
    """
    from outagesync.presenters.cursors import decode_cursor
    from outagesync.services import reports

    with open_store() as store:
        after = decode_cursor(cursor) if cursor is not None else None
        page = reports.list_reports(
            reports=store,
            site_id=site,
            status=status,
            run_id=run,
            started_from=from_,
            started_before=before,
            limit=limit,
            after=after,
        )
    if json_output:
        from outagesync.presenters.json import report_page_to_dict

        print_json(report_page_to_dict(page))
        return
    from outagesync.entrypoints.cli.render.reports import render_report_page

    render_report_page(page)


@reports_app.command("show")
def show_report(
    report_id: Annotated[
        str,
        typer.Argument(
            metavar="ID",
            help="A report id (one site's report, with its items) or a run id (all its sites), as printed; "
            "a prefix of 8+ characters will do.",
        ),
    ],
    json_output: JsonFlag = False,
) -> None:
    """One site report with the items posted (or that would have been), or every site of one run.

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync reports show 3f2a9c1b7d4e
        outagesync reports show 6dfee42c63b4 --json | jq '.items | length'
    """
    from outagesync.services import reports

    with open_store() as store:
        found = reports.find_reports(report_id, reports=store)
    _show_found(found, json_output=json_output)


@reports_app.command("last")
def last_report(
    site: Annotated[
        str | None,
        typer.Option(
            metavar=helptext.SITE_ID,
            help="This site's newest report (default: the newest run).",
            autocompletion=complete_site_ids,
        ),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """The newest report of a site, or every site of the newest run.

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync reports last
        outagesync reports last --site kingfisher --json
    """
    from outagesync.services import reports

    with open_store() as store:
        found = reports.newest(reports=store, site_id=site)
    _show_found(found, json_output=json_output)


@reports_app.command("diff")
def diff_reports(
    first: Annotated[
        str, typer.Argument(metavar="REPORT_ID", help="A report id (8+ character prefix will do).")
    ],
    second: Annotated[
        str | None,
        typer.Argument(
            metavar="[REPORT_ID]",
            help="A later report to compare with; default: compare REPORT_ID with the site's previous "
            "accepted list.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """What changed between two reports' lists: items added, removed, changed (end or name).

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync reports diff 3f2a9c1b7d4e
        outagesync reports diff 3f2a9c1b7d4e 8b1e0f2a6c3d --json
    """
    from outagesync.services import reports

    with open_store() as store:
        diff = reports.diff_reports(first, second, reports=store)
    if json_output:
        from outagesync.presenters.json import reports_diff_to_dict

        print_json(reports_diff_to_dict(diff))
        return
    from outagesync.entrypoints.cli.render.console import stdout
    from outagesync.entrypoints.cli.render.diff import render_reports_diff

    render_reports_diff(diff, stdout())


def _show_found(found: StoredReport | tuple[StoredReport, ...], *, json_output: bool) -> None:
    if json_output:
        from outagesync.presenters.json import run_reports_to_dict, stored_report_to_dict

        print_json(
            stored_report_to_dict(found) if not isinstance(found, tuple) else run_reports_to_dict(found)
        )
        return
    from outagesync.entrypoints.cli.render.reports import render_report, render_report_page

    if isinstance(found, tuple):
        from outagesync.domain.reports import ReportPage

        sites = f"{len(found):,} site{'' if len(found) == 1 else 's'}"
        title = f"run {found[0].run.run_id}: {found[0].run.status.value}, {sites}"
        render_report_page(ReportPage(found, None), title=title)
    else:
        render_report(found)


@reports_app.command("clear")
def clear_reports(
    site: SiteFilter = None,
    status: StatusFilter = None,
    older_than: Annotated[
        timedelta | None,
        typer.Option(parser=parse_age, metavar="DURATION", help="Only reports started longer ago, e.g. 90d."),
    ] = None,
    before: Annotated[
        datetime | None,
        typer.Option(
            "--before",
            "--to",
            parser=parse_when,
            metavar="WHEN",
            help=f"Only reports started before ({WHEN_HELP}).",
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask: delete (for scripts; the reports go for good).")
    ] = False,
) -> None:
    """Delete stored reports (all of them unless filtered); asks first on a terminal, else needs --yes.

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync reports clear --older-than 90d
        outagesync reports clear --site kingfisher --status failed --yes
    """
    import sys
    from datetime import UTC

    from outagesync.services import reports

    if older_than is not None:
        cutoff = datetime.now(UTC) - older_than
        before = cutoff if before is None else min(before, cutoff)
    with open_store() as store:
        if not yes:
            if not (sys.stdin.isatty() and sys.stdout.isatty()):
                fail(InvalidInput("`reports clear` deletes reports for good: add --yes to confirm"))
            count = reports.count_reports(reports=store, site_id=site, status=status, started_before=before)
            if count == 0:
                say("no report matches: nothing to delete")
                return
            if not typer.confirm(
                f"delete {count:,} report{'' if count == 1 else 's'} for good?", default=False
            ):
                say("nothing deleted")
                raise typer.Exit(1)
        deleted = reports.clear_reports(reports=store, site_id=site, status=status, started_before=before)
    say(f"deleted {deleted:,} report{'' if deleted == 1 else 's'}")
