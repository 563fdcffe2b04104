"""The `outagesync` command: parse, call a use case, render, exit. Heavy modules are imported lazily."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.markup import escape

from outagesync import __version__
from outagesync.entrypoints.cli_sandbox import sandbox_command
from outagesync.entrypoints.cli_serve import serve_command
from outagesync.entrypoints.cli_storage import db_app, reports_app, sites_app
from outagesync.errors import ConfigError, OutageSyncError

if TYPE_CHECKING:
    from rich.console import Console

    from outagesync.config import Settings
    from outagesync.domain.models import RunReport, SiteResult

DEFAULT_SITE = "norwich-pear-tree"
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="outagesync",
    help="Keep each energy site's outage list on the KrakenFlex platform correct.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("sandbox")(sandbox_command)
app.command("serve")(serve_command)
app.add_typer(reports_app, name="reports")
app.add_typer(sites_app, name="sites")
app.add_typer(db_app, name="db")


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
) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if verbose < 2:
        logging.getLogger("httpx").setLevel(logging.WARNING)


@app.command()
def sync(
    site_ids: Annotated[
        list[str] | None,
        typer.Argument(help=f"Site ids to sync (default: {DEFAULT_SITE}).", show_default=False),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Cutoff, ISO 8601 (no offset = UTC): keep outages that began at or after it. "
            "[default: 2022-01-01T00:00:00.000Z, or OUTAGESYNC_SINCE]"
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
        typer.Option(min=1, max=256, help="Sites in flight at once [default: 8, or OUTAGESYNC_CONCURRENCY]."),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid", help="Drop invalid upstream records (listed in the report) instead of failing."
        ),
    ] = False,
) -> None:
    """Fetch outages and site info, keep the site's outages since the cutoff, name them, and post them.

    Exit codes: 0 every site accepted (or dry run), 1 at least one site failed or the report could not be
    stored, 2 usage or configuration error, 130 interrupted.
    """
    from rich.console import Console

    err = Console(stderr=True, highlight=False, soft_wrap=True)  # messages stay whole lines for grep
    try:
        settings = _settings(since=since, concurrency=concurrency)
        if all_sites and site_ids:
            raise ConfigError("give site ids or --all, not both")
        targets = None if all_sites else (site_ids or [DEFAULT_SITE])
        report = _run_sync(
            settings, targets, sandbox=sandbox, dry_run=dry_run, skip_invalid=skip_invalid, err=err
        )
    except OutageSyncError as exc:
        _fail(err, exc)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]: sites not finished are recorded as interrupted in the report")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    _show(report, json_output=json_output, dry_run=dry_run)
    if report.storage_error is None and report.sites and not json_output:
        hint = f"reports show {report.sites[0].report_id}" if len(report.sites) == 1 else "reports list"
        err.print(f"report stored; see it with: outagesync {hint}")
    if report.storage_error is not None:
        err.print(f"[red]error[/]: the run report could not be stored: {escape(report.storage_error)}")
    if all_sites and not report.sites:
        err.print("nothing to sync: no enabled managed site (add one with `outagesync sites add SITE_ID`)")
    raise typer.Exit(0 if report.ok else 1)


def _settings(**flags: object) -> Settings:
    from outagesync.config import load_settings

    return load_settings(**flags)


def _run_sync(
    settings: Settings,
    site_ids: list[str] | None,
    *,
    sandbox: bool,
    dry_run: bool,
    skip_invalid: bool,
    err: Console,
) -> RunReport:
    from contextlib import nullcontext

    from outagesync import bootstrap
    from outagesync.domain.models import Trigger
    from outagesync.services.sync import sync_managed_sites, sync_sites

    options = bootstrap.sync_options(
        settings, trigger=Trigger.CLI, dry_run=dry_run, skip_invalid=skip_invalid
    )
    store = bootstrap.build_store(settings)

    async def run(active: Settings) -> RunReport:
        async with bootstrap.open_upstream(active) as upstream:
            with _progress(err, len(site_ids) if site_ids else 0) as on_done:
                if site_ids is None:
                    return await sync_managed_sites(
                        sites=store,
                        options=options,
                        upstream=upstream,
                        reports=store,
                        clock=_now,
                        on_site_done=on_done,
                    )
                return await sync_sites(
                    site_ids,
                    options=options,
                    upstream=upstream,
                    reports=store,
                    clock=_now,
                    on_site_done=on_done,
                )

    context = bootstrap.embedded_sandbox(settings) if sandbox else nullcontext(settings)
    try:
        with context as active:
            return _run_returning(run(active))
    finally:
        store.dispose()


def _run_returning(main: Coroutine[None, None, RunReport]) -> RunReport:
    """asyncio.run(main), without asyncio's two full repr()s of the result on the way out.

    CPython 3.11 and 3.12 before the fix of python/cpython#112559 repr the main task, result included,
    when they restore the SIGINT handler: for a 500,000-item report that took 1.2 s and 100+ MB.
    """
    import asyncio  # imported here: it adds to every command's start-up, `--help` included

    reports: list[RunReport] = []

    async def boxed() -> None:
        reports.append(await main)

    asyncio.run(boxed())
    return reports[0]


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


def _show(report: RunReport, *, json_output: bool, dry_run: bool) -> None:
    from rich.console import Console

    from outagesync.domain.serialize import run_report_to_dict
    from outagesync.entrypoints.render import render_items, render_run

    if json_output:
        import msgspec

        # The bytes json.dumps(..., ensure_ascii=False, indent=2) gives, 10x faster: a 500,000-item
        # report took 3.2 s to render with the json module's pure-Python indenting encoder.
        document = msgspec.json.format(msgspec.json.encode(run_report_to_dict(report)), indent=2)
        sys.stdout.write(document.decode() + "\n")
        return
    out = Console(highlight=False)
    if not out.is_terminal:
        out.width = 140  # a pipe or a file: no terminal width to respect, keep the table on one line per site
    if dry_run:
        for site in report.sites:
            if site.items:
                render_items(site, out)
    render_run(report, out)


def _fail(err: Console, exc: OutageSyncError) -> NoReturn:
    err.print(f"[red]error[/]: {escape(str(exc))}", highlight=False)
    raise typer.Exit(exc.exit_code) from None


def _now() -> datetime:
    return datetime.now(UTC)


def main() -> None:
    """Console script entry point."""
    app()
