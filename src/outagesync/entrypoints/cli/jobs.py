"""`outagesync enqueue` and `outagesync jobs list|show|cancel|retry`: the job queue (PostgreSQL only;
docs/scale-out.md). Parse, call services.jobs, render."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from outagesync.entrypoints.cli.completion import complete_site_ids
from outagesync.entrypoints.cli.console import fail, print_json, say
from outagesync.entrypoints.cli.exit_codes import ExitCode
from outagesync.entrypoints.cli.options import JsonFlag
from outagesync.errors import InvalidInput, OutageSyncError

if TYPE_CHECKING:
    from outagesync.config import Settings
    from outagesync.domain.jobs import JobInfo
    from outagesync.services.ports import Deferred, JobQueue, Store

T = TypeVar("T")
jobs_app = typer.Typer(
    help="""Jobs of the queue (PostgreSQL): list, show, cancel, retry. See `enqueue` and `worker`.

    Examples:
        outagesync jobs list --state failed
        outagesync jobs show 42
        outagesync jobs retry 42
    """,
    no_args_is_help=True,
)
JobId = Annotated[int, typer.Argument(metavar="JOB_ID", min=1, help="The job's id (enqueue prints it).")]


def enqueue_command(
    site_ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="SITE_ID...",
            help="Site ids to sync.",
            show_default=False,
            autocompletion=complete_site_ids,
        ),
    ] = None,
    all_sites: Annotated[bool, typer.Option("--all", help="Every enabled managed site.")] = False,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="Wait for the jobs (and their retries) and exit as `sync` does (0/1)."),
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Put sites in the queue for the workers, in batches, and print the job ids.

    Batches of OUTAGESYNC_BATCH_SIZE (200) sites, one job each; workers (`outagesync worker`) run them.
    A site already waiting in the queue is not queued again. Needs PostgreSQL (OUTAGESYNC_DATABASE_URL).

    Exit codes: 0 queued (with --wait: every site succeeded), 1 a site failed (--wait) or the database
    failed, 2 usage or configuration error (e.g. no PostgreSQL).

    Environment: OUTAGESYNC_DATABASE_URL, OUTAGESYNC_BATCH_SIZE

    Examples:
        outagesync enqueue --all
        outagesync enqueue kingfisher norwich-pear-tree --wait
        outagesync enqueue --all --json
    """
    from outagesync.presenters.jobs import deferred_to_dict
    from outagesync.services import jobs

    if all_sites and site_ids:
        fail(InvalidInput("give site ids or --all, not both"))
    if not all_sites and not site_ids:
        fail(InvalidInput("give site ids to enqueue, or --all"))

    async def enqueue(settings: Settings, queue: JobQueue, store: Store) -> list[Deferred]:
        size, trigger = settings.batch_size, "cli"
        if all_sites:
            return await jobs.enqueue_managed_sites(
                sites=store, queue=queue, batch_size=size, trigger=trigger
            )
        return await jobs.enqueue_sites(site_ids or [], queue=queue, batch_size=size, trigger=trigger)

    deferred = _with_queue(enqueue)
    queued = [d for d in deferred if d.job_id is not None]
    if json_output and not wait:
        print_json(deferred_to_dict(deferred))
    elif not json_output:
        for d in queued:
            say(f"job {d.job_id}: {len(d.site_ids)} site{'' if len(d.site_ids) == 1 else 's'}")
        left_out = sum(1 for d in deferred if d.job_id is None)
        if not queued:
            say("nothing queued: every site is already waiting in the queue")
        elif left_out:
            say(f"{left_out} batch{'' if left_out == 1 else 'es'} left out: already waiting in the queue")
    if not wait:
        return
    ids = [d.job_id for d in queued if d.job_id is not None]

    async def waited(settings: Settings, queue: JobQueue, store: Store) -> dict[str, str]:
        return await jobs.wait_for_jobs(ids, queue=queue, reports=store)

    outcome = _with_queue(waited)
    if json_output:
        print_json({**deferred_to_dict(deferred), "sites": outcome})
    else:
        failed = sorted(site for site, status in outcome.items() if status != "succeeded")
        say(f"{len(outcome) - len(failed)} of {len(outcome)} sites succeeded")
        for site in failed:
            say(f"  {site}: {outcome[site]}")
    failed_any = any(status != "succeeded" for status in outcome.values())
    raise typer.Exit(ExitCode.FAILED if failed_any else ExitCode.OK)


@jobs_app.command("list")
def list_jobs(
    state: Annotated[
        str | None,
        typer.Option(
            metavar="STATE", help="todo, doing, succeeded, failed, cancelled or aborted.", show_default=False
        ),
    ] = None,
    site: Annotated[
        str | None,
        typer.Option(
            metavar="SITE_ID",
            help="Jobs holding this site.",
            show_default=False,
            autocompletion=complete_site_ids,
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, metavar="N", help="How many (newest first).")] = 20,
    json_output: JsonFlag = False,
) -> None:
    """Jobs, newest first.

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync jobs list
        outagesync jobs list --state failed --site kingfisher --json
    """
    from outagesync.domain.jobs import JobFilter, JobState
    from outagesync.presenters.jobs import job_to_dict
    from outagesync.services import jobs

    try:
        where = JobFilter(state=JobState(state) if state else None, site_id=site)
    except ValueError:
        fail(InvalidInput(f"invalid state {state!r}: use one of {', '.join(s.value for s in JobState)}"))

    async def listed(settings: Settings, queue: JobQueue, store: Store) -> list[JobInfo]:
        return (await jobs.list_jobs(queue=queue, where=where, limit=limit)).items

    found = _with_queue(listed)
    if json_output:
        print_json({"items": [job_to_dict(job) for job in found]})
        return
    from outagesync.entrypoints.cli.render.jobs import render_jobs

    render_jobs(found)


@jobs_app.command("show")
def show_job(job_id: JobId, json_output: JsonFlag = False) -> None:
    """One job: its state, attempts, sites and the site reports it produced.

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync jobs show 42
        outagesync jobs show 42 --json
    """
    from outagesync.presenters.jobs import job_to_dict
    from outagesync.services import jobs

    async def shown(settings: Settings, queue: JobQueue, store: Store) -> JobInfo:
        return await jobs.show_job(job_id, queue=queue, reports=store)

    job = _with_queue(shown)
    if json_output:
        print_json(job_to_dict(job, with_reports=True))
        return
    say(_line(job))
    say(f"  run {job.run_id}; reports: outagesync reports list --run {job.run_id}")
    for outcome in job.reports:
        error = f" ({outcome.error_code})" if outcome.error_code else ""
        say(f"  {outcome.site_id}: {outcome.status}{error}  report {outcome.report_id}")


@jobs_app.command("cancel")
def cancel_job(job_id: JobId, json_output: JsonFlag = False) -> None:
    """Cancel a waiting job, or stop a running one (its unfinished sites are stored interrupted).

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync jobs cancel 42
        outagesync -q jobs cancel 42
    """
    from outagesync.services import jobs

    async def cancelled(settings: Settings, queue: JobQueue, store: Store) -> JobInfo:
        return await jobs.cancel_job(job_id, queue=queue)

    job = _with_queue(cancelled)
    if json_output:
        from outagesync.presenters.jobs import job_to_dict

        print_json(job_to_dict(job))
        return
    say(f"job {job.job_id}: {job.state.value}" + (" (stop requested)" if job.state.value == "doing" else ""))


@jobs_app.command("retry")
def retry_job(job_id: JobId, json_output: JsonFlag = False) -> None:
    """Queue a finished job's sites again, as a new job (sites already waiting are left out).

    Environment: OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync jobs retry 42
        outagesync -q jobs retry 42
    """
    from outagesync.services import jobs

    async def retried(settings: Settings, queue: JobQueue, store: Store) -> list[Deferred]:
        return await jobs.retry_job(job_id, queue=queue)

    deferred = [d for d in _with_queue(retried) if d.job_id is not None]
    if json_output:
        from outagesync.presenters.jobs import deferred_to_dict

        print_json(deferred_to_dict(deferred))
        return
    if not deferred:
        say(f"job {job_id}: nothing queued, its sites are already waiting in the queue")
    for d in deferred:
        say(
            f"job {d.job_id}: {len(d.site_ids)} site{'' if len(d.site_ids) == 1 else 's'} (retry of {job_id})"
        )


def _line(job: JobInfo) -> str:
    from outagesync.domain.timestamps import isoformat

    sites = ", ".join(job.batch.site_ids[:3]) + (", ..." if len(job.batch.site_ids) > 3 else "")
    when = isoformat(job.queued_at) if job.queued_at else "-"
    return (
        f"job {job.job_id}  {job.state.value}  {len(job.batch.site_ids)} sites ({sites})  "
        f"{job.batch.trigger}  queued {when}  attempts {job.attempts}"
    )


def _with_queue(work: Any) -> Any:
    """Run `work(settings, queue, store)` on the configured queue; our errors end the command (exit 2
    without PostgreSQL)."""
    from outagesync import bootstrap
    from outagesync.config import load_settings
    from outagesync.entrypoints.run import run_to_value

    try:
        settings = load_settings()
        queue = bootstrap.open_queue(settings)
        store = bootstrap.build_store(settings)
        try:
            coroutine: Coroutine[Any, Any, Any] = work(settings, queue, store)
            return run_to_value(coroutine)
        finally:
            store.dispose()
    except OutageSyncError as exc:
        fail(exc)
