"""Queue jobs as values: a batch of sites to sync, a job as listed, which failures deserve a retry. Pure."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from outagesync.errors import (
    RunInterrupted,
    SiteBusy,
    StorageError,
    UpstreamUnavailable,
)

# Failures that another try may not meet: the upstream was down or slow, the site was held by another
# sync, the report database blinked, the run was stopped. A rejected payload, an unknown site, a refused
# key, invalid upstream data or a refused empty list would fail the same way again: never retried.
TRANSIENT_ERROR_CODES = frozenset(
    {UpstreamUnavailable.code, SiteBusy.code, StorageError.code, RunInterrupted.code}
)
JOB_RUN_PREFIX = "job-"  # the run a job records is `job-<job id>`: its reports are found by it


class JobState(StrEnum):
    """A job's state, as procrastinate keeps it."""

    TODO = "todo"  # waiting in the queue (or for its retry time)
    DOING = "doing"  # a worker runs it
    SUCCEEDED = "succeeded"  # it ran to the end (its sites may still have failed: see its reports)
    FAILED = "failed"  # it raised (e.g. the report database was unreachable)
    CANCELLED = "cancelled"  # cancelled before it ran
    ABORTED = "aborted"  # cancelled while it ran


FINISHED_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.ABORTED})


@dataclass(frozen=True, slots=True)
class RunFlags:
    """How a queued sync runs when asked otherwise than the default (REST `POST /sync?dry_run=true`...):
    a dry run, bad records skipped, an empty list allowed, a cutoff (ISO 8601) for every site."""

    dry_run: bool = False
    skip_invalid: bool = False
    allow_empty: bool = False
    since: str | None = None

    def to_args(self) -> dict[str, object]:
        """The flags that differ from the default, as job arguments (JSON)."""
        every: dict[str, object] = {
            "dry_run": self.dry_run,
            "skip_invalid": self.skip_invalid,
            "allow_empty": self.allow_empty,
            "since": self.since,
        }
        return {name: value for name, value in every.items() if value}

    @classmethod
    def from_args(cls, args: dict[str, object] | None) -> RunFlags:
        args = args or {}
        since = args.get("since")
        return cls(
            dry_run=bool(args.get("dry_run", False)),
            skip_invalid=bool(args.get("skip_invalid", False)),
            allow_empty=bool(args.get("allow_empty", False)),
            since=str(since) if since else None,
        )


DEFAULT_FLAGS = RunFlags()


@dataclass(frozen=True, slots=True)
class Batch:
    """What one job syncs: its sites, why (`trigger`), which try this is, the job it retries, and how
    (`flags`; a retry keeps them)."""

    site_ids: tuple[str, ...]
    trigger: str
    attempt: int = 1
    retry_of: int | None = None
    flags: RunFlags = DEFAULT_FLAGS


@dataclass(frozen=True, slots=True)
class JobSiteOutcome:
    """One report a job produced: which site, how it ended."""

    report_id: str
    site_id: str
    status: str
    error_code: str | None


@dataclass(frozen=True, slots=True)
class JobInfo:
    """A job as `jobs list/show` and `GET /jobs` tell it."""

    job_id: int
    state: JobState
    batch: Batch
    attempts: int  # times a worker started it (a job run again after a crash or shutdown: 2)
    queued_at: datetime | None
    scheduled_at: datetime | None  # not before (a retry's backoff)
    started_at: datetime | None
    finished_at: datetime | None
    reports: tuple[JobSiteOutcome, ...] = ()

    @property
    def run_id(self) -> str:
        return job_run_id(self.job_id)


@dataclass(frozen=True, slots=True)
class JobFilter:
    """Which jobs to list: all when every field is None."""

    state: JobState | None = None
    site_id: str | None = None
    trigger: str | None = None
    retry_of: int | None = None  # the retries a job's transient failures led to


@dataclass(frozen=True, slots=True)
class JobPage:
    """Jobs, newest first; `next_after` is the last job id when more may follow."""

    items: list[JobInfo]
    next_after: int | None


def job_run_id(job_id: int) -> str:
    """The run id of the report run a job records (`job-000000000123`): the same on each try of the
    job, so a run again after a crash replaces the record the dead worker left `running`."""
    return f"{JOB_RUN_PREFIX}{job_id:012d}"  # fixed width: no job's run id is a prefix of another's


def batches(site_ids: Sequence[str], size: int) -> Iterator[tuple[str, ...]]:
    """`site_ids` (duplicates dropped, order kept) in consecutive batches of at most `size`."""
    unique = list(dict.fromkeys(site_ids))
    for start in range(0, len(unique), size):
        yield tuple(unique[start : start + size])


def is_transient(error_code: str | None) -> bool:
    """Whether a site that failed with `error_code` is worth another job."""
    return error_code in TRANSIENT_ERROR_CODES


def retry_delay_s(attempt: int, *, initial_s: float, max_s: float = 3600.0) -> float:
    """Backoff before retry number `attempt` (1 = the first retry): initial, doubled each time, capped."""
    return float(min(max_s, initial_s * 2.0 ** max(0, attempt - 1)))
