"""`outagesync sync`: parse the flags, run the sync use case, render its report, exit with its outcome."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from outagesync.defaults import CONCURRENCY, DEFAULT_SINCE, DEFAULT_SITE
from outagesync.entrypoints.cli import helptext
from outagesync.entrypoints.cli.completion import complete_site_ids
from outagesync.entrypoints.cli.console import fail, is_quiet, print_json, stderr
from outagesync.entrypoints.cli.exit_codes import ExitCode
from outagesync.entrypoints.run import Stopped, run_to_value
from outagesync.errors import ConfigError, InvalidInput, OutageSyncError

NOTHING_TO_SYNC = (
    "nothing to sync: --all found no enabled managed site; add one with `outagesync sites add SITE_ID` "
    "(or enable one with `outagesync sites update SITE_ID --enable`)"
)

if TYPE_CHECKING:
    from rich.console import Console

    from outagesync.config import Settings
    from outagesync.domain.models import RunReport, SiteResult
    from outagesync.services.reports import SiteDiff


def sync(
    site_ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar=helptext.SITE_IDS,
            help=helptext.default_help("Site ids to sync.", DEFAULT_SITE),
            show_default=False,
            autocompletion=complete_site_ids,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            metavar=helptext.ISO8601,
            help=helptext.setting_help(
                "Cutoff: keep outages that began at or after it (no offset = UTC).",
                "OUTAGESYNC_SINCE",
                default=DEFAULT_SINCE,
            ),
        ),
    ] = None,
    all_sites: Annotated[
        bool, typer.Option("--all", help="Sync every enabled managed site (see `sites`).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be posted; post nothing.")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the run report as JSON on stdout.")
    ] = False,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Start the built-in sandbox in-process and sync against it.")
    ] = False,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=256,
            metavar=helptext.N,
            help=helptext.setting_help(
                "Sites in flight at once.", "OUTAGESYNC_CONCURRENCY", default=CONCURRENCY
            ),
        ),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid", help="Drop invalid upstream records (listed in the report) instead of failing."
        ),
    ] = False,
    no_store: Annotated[
        bool,
        typer.Option(
            "--no-store",
            help="Run without the report database (nothing recorded; site locks only on this machine).",
        ),
    ] = False,
    allow_empty: Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            help="Post an empty list even when the site's last accepted list was not empty (clears it).",
        ),
    ] = False,
    diff: Annotated[
        bool,
        typer.Option(
            "--diff",
            help="Show, per site, what changes against its last accepted list (added, removed, changed "
            "items); with --dry-run, before anything is posted.",
        ),
    ] = False,
) -> None:
    """Post each site's outages since the cutoff, named after its devices, to KrakenFlex.

    Fetches every outage and the site's devices, keeps the site's outages that began at or after the
    cutoff, names them, and posts them (the POST replaces the site's list).

    An empty list is not posted for a site whose last accepted list was not empty (it would clear it):
    the site fails empty-list-refused, unless --allow-empty. --all with no enabled managed site is a
    configuration error (exit 2).

    One sync per site at a time: a site another sync holds is waited for (OUTAGESYNC_LOCK_WAIT, default
    30 s), then fails as site-busy. The run is recorded before anything is posted; if the report
    database cannot be written then, nothing is posted (unless --no-store).

    Exit codes: 0 every site accepted (or dry run), 1 at least one site failed or the report could not be
    stored, 2 usage or configuration error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 129 hung
    up (SIGHUP); sites not finished are then stored as interrupted.

    Environment: KRAKENFLEX_API_KEY, KRAKENFLEX_API_URL, OUTAGESYNC_DATABASE_URL, OUTAGESYNC_SINCE,
    OUTAGESYNC_CONCURRENCY (every setting: `outagesync config show`)

    Examples:
        outagesync sync --dry-run
        outagesync sync kingfisher norwich-pear-tree --since 2022-06-01
        outagesync sync --all --json | jq '.sites[] | select(.status != "succeeded")'
        outagesync sync --sandbox
    """
    from rich.markup import escape

    from outagesync.config import load_settings

    err = stderr()
    try:
        settings = load_settings(since=since, concurrency=concurrency)
        if all_sites and site_ids:
            raise InvalidInput("give site ids or --all, not both")
        if diff and no_store:
            raise InvalidInput(
                "--diff compares with the report database's last accepted lists: drop --no-store"
            )
        targets = None if all_sites else (site_ids or [DEFAULT_SITE])
        report, diffs = _run_sync(
            settings,
            targets,
            sandbox=sandbox,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            allow_empty=allow_empty,
            store_reports=not no_store,
            diff=diff,
            err=err,
        )
    except OutageSyncError as exc:
        fail(exc)
    except KeyboardInterrupt:
        _stopped(err, "interrupted", ExitCode.INTERRUPTED)
    except Stopped as stop:
        why = "terminated (SIGTERM)" if stop.signum == signal.SIGTERM else "hung up (SIGHUP)"
        _stopped(err, why, ExitCode.TERMINATED if stop.signum == signal.SIGTERM else ExitCode.HUNG_UP)
    if is_quiet() and not json_output:
        _show_errors(report)
    else:
        _show(report, json_output=json_output, dry_run=dry_run, diffs=diffs)
    if report.storage_error is None and report.sites and not json_output and not no_store:
        hint = f"show {report.sites[0].report_id}" if len(report.sites) == 1 else "list"
        group = "reports --sandbox" if sandbox and settings.database_url is None else "reports"
        err.print(f"report stored; see it with: outagesync {group} {hint}")
    if report.storage_error is not None:
        message = f"[red]error[/]: the run report could not be stored: {escape(report.storage_error)}"
        stderr(error=True).print(message)
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.FAILED)


def _stopped(err: Console, why: str, code: ExitCode) -> NoReturn:
    message = f"[yellow]{why}[/]: sites not finished are recorded as interrupted in the report"
    stderr(error=True).print(message)
    raise typer.Exit(code) from None


def _run_sync(
    settings: Settings,
    site_ids: list[str] | None,
    *,
    sandbox: bool,
    dry_run: bool,
    skip_invalid: bool,
    allow_empty: bool,
    store_reports: bool,
    diff: bool,
    err: Console,
) -> tuple[RunReport, tuple[SiteDiff, ...] | None]:
    from contextlib import nullcontext
    from dataclasses import replace

    from outagesync import bootstrap
    from outagesync.domain.models import Trigger
    from outagesync.services.sites import list_sites
    from outagesync.services.sync import Locking, sync_managed_sites, sync_sites, with_managed_permissions

    if sandbox:
        settings = bootstrap.for_sandbox(settings)  # demo runs keep their own history
    telemetry = bootstrap.build_telemetry(settings)
    options = bootstrap.sync_options(
        settings,
        trigger=Trigger.CLI,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        allow_empty=allow_empty,
        observer=telemetry,
        sandbox=sandbox,
    )
    store = bootstrap.build_store(settings)
    reports = bootstrap.observed_reports(store, telemetry) if store_reports else None

    def waiting(site_id: str) -> None:
        err.print(f"waiting for {site_id}: another sync of it is running (up to {settings.lock_wait:g} s)")

    async def run(active: Settings) -> RunReport:
        with telemetry.capturing(), telemetry.run_span(Trigger.CLI):
            report = await synced(active)
            telemetry.run_done(report)
        return report

    async def synced(active: Settings) -> RunReport:
        run_options = replace(options, upstream_url=bootstrap.public_url(active.api_url))
        locks = store.open_locks() if store_reports else bootstrap.local_locks()
        locking = Locking(locks, on_wait=waiting)
        async with bootstrap.open_upstream(active, telemetry) as upstream:
            with _progress(err, len(site_ids) if site_ids else 0) as on_done:
                if site_ids is None:
                    return await sync_managed_sites(
                        sites=store,
                        options=run_options,
                        upstream=upstream,
                        reports=reports,
                        clock=_now,
                        on_site_done=on_done,
                        locking=locking,
                    )
                if store_reports:
                    run_options = await with_managed_permissions(run_options, site_ids, store)
                return await sync_sites(
                    site_ids,
                    options=run_options,
                    upstream=upstream,
                    reports=reports,
                    clock=_now,
                    on_site_done=on_done,
                    locking=locking,
                )

    context = bootstrap.embedded_sandbox(settings) if sandbox else nullcontext(settings)
    try:
        if site_ids is None and not list_sites(sites=store, enabled_only=True, limit=1):
            raise ConfigError(NOTHING_TO_SYNC)
        with context as active:
            report = run_to_value(run(active), stop_on=(signal.SIGTERM, signal.SIGHUP))
        if not diff:
            return report, None
        from outagesync.services.reports import diff_run

        return report, diff_run(report, reports=store)
    finally:
        store.dispose()
        telemetry.push()  # whatever happened: a run that failed to start is worth a metric too
        telemetry.close()


@contextmanager
def _progress(err: Console, total: int) -> Iterator[Callable[[SiteResult], None] | None]:
    """A progress bar on stderr when several sites run on a terminal; else no callback."""
    if total < 2 or not err.is_terminal:
        yield None
        return
    from rich.progress import Progress

    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("syncing sites", total=total)
        yield lambda _result: progress.advance(task)


def _show_errors(report: RunReport) -> None:
    """--quiet: one `error:` line on stderr per site that did not succeed, nothing else."""
    from rich.markup import escape

    err = stderr(error=True)
    for site in report.sites:
        if site.error is not None:
            err.print(f"[red]error[/]: {escape(site.site_id)}: {escape(site.error.message)}")


def _show(
    report: RunReport, *, json_output: bool, dry_run: bool, diffs: tuple[SiteDiff, ...] | None = None
) -> None:
    if json_output:
        from outagesync.presenters.json import run_report_to_dict, site_diff_to_dict

        data = run_report_to_dict(report)
        for site_data, site_diff in _diffs_by_site(data["sites"], diffs):
            site_data["diff"] = site_diff_to_dict(site_diff) if site_diff is not None else None
        print_json(data)
        return
    from outagesync.entrypoints.cli.render.console import notes_for, stdout
    from outagesync.entrypoints.cli.render.runs import render_items, render_run

    out = stdout()
    notes = notes_for(out)  # in a pipe, stdout has only the tab-separated rows (docs/cli.md)
    if dry_run:
        for site in report.sites:
            if site.items:
                render_items(site, out, notes)
    render_run(report, out, notes)  # a dry run's "would post N" lines included
    if diffs is not None:
        from outagesync.entrypoints.cli.render.diff import render_items_diff

        for site_diff in diffs:
            against = (
                f"last accepted {site_diff.before.report_id}" if site_diff.before else "no accepted list"
            )
            verb = "would change" if dry_run else "changed"
            render_items_diff(site_diff.items, out, title=f"{site_diff.site_id}: {verb} against {against}")
            if not site_diff.complete:
                out.print(
                    f"{site_diff.site_id}: the last accepted report kept only its first items "
                    "(OUTAGESYNC_REPORT_ITEMS_MAX): the diff covers those",
                    soft_wrap=True,
                )


def _diffs_by_site(
    sites: list[dict[str, Any]], diffs: tuple[SiteDiff, ...] | None
) -> list[tuple[dict[str, Any], SiteDiff | None]]:
    if diffs is None:
        return []
    found = {site_diff.site_id: site_diff for site_diff in diffs}
    return [(site, found.get(site["site_id"])) for site in sites]


def _now() -> datetime:
    return datetime.now(UTC)
