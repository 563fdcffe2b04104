"""`outagesync reports`: stored run reports (list, show, clear). Parse, call services.reports, render."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from outagesync.defaults import MAX_PAGE_SIZE, REPORTS_PAGE_SIZE_CLI
from outagesync.entrypoints.cli.console import fail, open_store, print_json
from outagesync.entrypoints.cli.options import DATE_HELP, STATUSES, JsonFlag, parse_date
from outagesync.errors import InvalidInput

reports_app = typer.Typer(help="Stored run reports: list, show, clear.", no_args_is_help=True)


@reports_app.command("list")
def list_reports(
    site: Annotated[str | None, typer.Option(help="Only this site's reports.")] = None,
    status: Annotated[str | None, typer.Option(help=f"Only reports with this status: {STATUSES}.")] = None,
    run: Annotated[str | None, typer.Option(help="Only the reports of this run id.")] = None,
    from_: Annotated[
        datetime | None,
        typer.Option("--from", parser=parse_date, metavar="DATE", help=f"Started at or after ({DATE_HELP})."),
    ] = None,
    before: Annotated[
        datetime | None,
        typer.Option(parser=parse_date, metavar="DATE", help=f"Started before ({DATE_HELP})."),
    ] = None,
    limit: Annotated[
        int, typer.Option(help=f"Reports per page, 1 to {MAX_PAGE_SIZE}.")
    ] = REPORTS_PAGE_SIZE_CLI,
    cursor: Annotated[
        str | None, typer.Option(help="Continue after a previous page (its next cursor).")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Site reports, newest first."""
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
            metavar="ID", help="A report id from `reports list` (a prefix of 8+ characters will do)."
        ),
    ],
    json_output: JsonFlag = False,
) -> None:
    """One site report, with the items that were posted (or would have been, on a dry run)."""
    from outagesync.services import reports

    with open_store() as store:
        report = reports.get_report(report_id, reports=store)
    if json_output:
        from outagesync.presenters.json import stored_report_to_dict

        print_json(stored_report_to_dict(report))
        return
    from outagesync.entrypoints.cli.render.reports import render_report

    render_report(report)


@reports_app.command("clear")
def clear_reports(
    site: Annotated[str | None, typer.Option(help="Only this site's reports.")] = None,
    status: Annotated[str | None, typer.Option(help=f"Only reports with this status: {STATUSES}.")] = None,
    before: Annotated[
        datetime | None,
        typer.Option(parser=parse_date, metavar="DATE", help=f"Only reports started before ({DATE_HELP})."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: the reports are deleted for good.")] = False,
) -> None:
    """Delete stored reports (all of them unless filtered)."""
    from outagesync.services import reports

    if not yes:
        fail(InvalidInput("`reports clear` deletes reports for good: add --yes to confirm"))
    with open_store() as store:
        deleted = reports.clear_reports(reports=store, site_id=site, status=status, started_before=before)
    typer.echo(f"deleted {deleted} report{'' if deleted == 1 else 's'}")
