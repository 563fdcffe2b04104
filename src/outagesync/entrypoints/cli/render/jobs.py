"""Terminal rendering of queue jobs (render.grid): a table on a terminal, tab-separated when piped."""

from __future__ import annotations

from rich.console import Console

from outagesync.domain.jobs import JobInfo
from outagesync.entrypoints.cli.render.console import notes_for, stdout
from outagesync.entrypoints.cli.render.grid import Cell, Column, Grid, print_grid
from outagesync.entrypoints.cli.render.styles import when

JOB_COLUMNS = (
    Column("job", "id"),
    Column("state", "status"),
    Column("sites", "number"),
    Column("site ids"),
    Column("trigger", "id"),
    Column("queued (UTC)", "time"),
    Column("attempts", "number"),
)
SITES_SHOWN = 3  # per job; `jobs show` and --json have them all


def render_jobs(jobs: list[JobInfo], console: Console | None = None) -> None:
    console = console or stdout()
    notes = notes_for(console)
    if not jobs:
        notes.print("no jobs")
        return
    print_grid(Grid(JOB_COLUMNS, [_row(job) for job in jobs], "jobs, newest first"), console, err=notes)


def _row(job: JobInfo) -> tuple[Cell, ...]:
    site_ids = job.batch.site_ids
    shown = ", ".join(site_ids[:SITES_SHOWN])
    if len(site_ids) > SITES_SHOWN:
        shown += f" and {len(site_ids) - SITES_SHOWN:,} more"
    return (
        str(job.job_id),
        job.state.value,
        len(site_ids),
        shown,
        str(job.batch.trigger),
        when(job.queued_at) if job.queued_at else None,
        job.attempts,
    )
