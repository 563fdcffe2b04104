"""The REST API's wire schemas (pydantic): request bodies and responses, with the examples of /openapi.json.

Shapes only: every report dict comes from `outagesync.presenters.json` and is validated here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from outagesync.domain.ids import MAX_NAME_LENGTH, SITE_ID_PATTERN
from outagesync.domain.jobs import JobState
from outagesync.domain.models import RunStatus, SiteStatus, Trigger
from outagesync.domain.schedules import MAX_SCHEDULE_LENGTH
from outagesync.entrypoints.api import examples

CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,512}$"
# An instant given to the API is written with a year from 1900 to 2999 (others are typos), so the schema
# can say which ones the server takes (a pattern), and no offset takes it out of range in UTC.
INSTANT_PATTERN = r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}[Tt ]"
_INSTANT_START = re.compile(INSTANT_PATTERN)


def _in_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _iso_8601(value: object) -> object:
    """Only ISO 8601 text from 1900 to 2999: pydantic would also take a number as a Unix time."""
    if not isinstance(value, str) or not _INSTANT_START.match(value):
        raise ValueError("use ISO 8601 with an offset, from 1900 to 2999, e.g. 2022-01-01T00:00:00Z")
    return value


def _examples(*values: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(values)})


SiteId = Annotated[str, StringConstraints(pattern=SITE_ID_PATTERN), Field(examples=["norwich-pear-tree"])]
InstantIn = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_8601),
    AfterValidator(_in_utc),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": INSTANT_PATTERN}),
]
# Out: text made by domain.timestamps.isoformat (UTC, milliseconds, Z), passed through as is.
Instant = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Name = Annotated[
    str | None,
    Field(
        max_length=MAX_NAME_LENGTH, description="For display, printable characters only; empty means none."
    ),
]
Schedule = Annotated[
    str | None,
    Field(
        max_length=MAX_SCHEDULE_LENGTH,
        description="When the queue's workers sync the site (OUTAGESYNC_EXECUTION=queue): a 5-field cron "
        "expression in UTC, e.g. `*/15 * * * *`; null or empty: OUTAGESYNC_SCHEDULE's.",
        examples=["*/15 * * * *"],
    ),
]


class Problem(BaseModel):
    """An RFC 9457 problem; some carry more: `errors` (422), `site_id`, `report_id`, `run_id`, `run`."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [examples.PROBLEM]})

    type: str = Field(description="A URI naming the kind of problem (`about:blank` for plain HTTP errors).")
    title: str
    status: int
    detail: str
    instance: str | None = None


# --- health


class DatabaseCheck(BaseModel):
    status: Literal["OK", "KO"]
    migrated: bool = Field(description="The schema is at the revision this version expects.")
    elapsed_ms: float


class Check(BaseModel):
    model_config = _examples(examples.CHECK)

    status: Literal["OK", "KO"]
    database: DatabaseCheck
    elapsed_ms: float


class Probe(BaseModel):
    model_config = _examples({"status": "ok", "detail": None})

    status: Literal["ok", "unavailable"]
    detail: str | None = None


# --- managed sites


_ALLOW_EMPTY = (
    "An empty list may be posted to the site even when its last accepted list was not empty (that "
    "clears it); otherwise such a sync fails empty-list-refused."
)


class SiteIn(BaseModel):
    """A site to manage (POST /sites)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [examples.SITE_IN]})

    site_id: SiteId
    name: Name = None
    since: InstantIn | None = Field(None, description="This site's own cutoff (default: the service's).")
    enabled: StrictBool = Field(True, description="Synced by POST /sync.")
    schedule: Schedule = None
    allow_empty: StrictBool = Field(False, description=_ALLOW_EMPTY)


class SiteReplace(BaseModel):
    """Every setting of a managed site (PUT): a field left out takes its default."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [examples.SITE_SETTINGS]})

    name: Name = None
    since: InstantIn | None = None
    enabled: StrictBool = True
    schedule: Schedule = None
    allow_empty: StrictBool = Field(False, description=_ALLOW_EMPTY)


def _patch_schema(schema: dict[str, Any]) -> None:
    schema.update(minProperties=1, examples=[{"enabled": False}])
    del schema["properties"]["enabled"]["default"]  # absent means unchanged: there is no default


class SitePatch(BaseModel):
    """Some settings of a managed site (PATCH): only the fields given change; null clears name or since."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_patch_schema)

    name: Name = None
    since: InstantIn | None = None
    enabled: StrictBool | SkipJsonSchema[None] = Field(None, description="Absent: unchanged.")
    schedule: Schedule = None
    allow_empty: StrictBool | SkipJsonSchema[None] = Field(None, description="Absent: unchanged.")

    @field_validator("enabled", "allow_empty")
    @classmethod
    def _not_null(cls, value: bool | None) -> bool:
        """null is no flag (`{"enabled": null}` alone would change nothing): leave it out instead."""
        if value is None:
            raise ValueError("must be true or false; leave it out to keep the site's flag")
        return value


class Site(BaseModel):
    model_config = _examples(examples.SITE)

    site_id: str
    name: str | None
    since: Instant | None
    enabled: bool
    schedule: str | None
    allow_empty: bool = Field(description=_ALLOW_EMPTY)
    created_at: Instant
    updated_at: Instant


class SitePage(BaseModel):
    """Managed sites by site id; the CLI's page shape (`outagesync sites list --json`), plus `next`."""

    model_config = _examples({"items": [examples.SITE], "next_cursor": None, "next": None})

    items: list[Site]
    next_cursor: str | None = Field(description="Pass it as `cursor` for the next page; null on the last.")
    next: str | None = Field(description="The next page's URL; null on the last page.")


# --- outages, runs and reports


class OutageItem(BaseModel):
    """One posted item: exactly what the upstream receives."""

    id: str
    name: str
    begin: str
    end: str


class Call(BaseModel):
    attempts: int
    retries: int


class ErrorDetail(BaseModel):
    code: str = Field(
        description="The error's stable code, e.g. upstream-rejected-payload, upstream-unavailable "
        "(also the last part of the problem `type` the API answers for it)."
    )
    message: str


class SiteOutcome(BaseModel):
    """One site of a run, as in `outagesync sync --json` (its stored report: GET /reports/{id})."""

    model_config = _examples(examples.SITE_OUTCOME)

    id: str
    site_id: str
    status: SiteStatus
    started_at: Instant
    finished_at: Instant
    since: Instant = Field(description="The cutoff: outages that began at or after it were kept.")
    fetched: int
    site_devices: int
    kept: int
    dropped_before_cutoff: int
    dropped_unknown_device: int
    invalid: int
    posted: int
    calls: dict[str, Call] = Field(description="Requests per upstream endpoint (attempts = 1 + retries).")
    post_status: int | None
    upstream_message: str | None
    upstream_detail: Any = None  # JSON: what the upstream's 4xx answer said beyond its message
    error: ErrorDetail | None
    invalid_records: list[str]


class ReportSummary(SiteOutcome):
    """One site's sync as stored, without the posted items."""

    model_config = _examples(examples.REPORT_SUMMARY)

    run_id: str
    trigger: Trigger
    run_status: RunStatus
    dry_run: bool
    upstream_url: str | None = Field(
        None, description="The KrakenFlex API base URL the run used (no credentials)."
    )
    sandbox: bool = Field(False, description="The run was against the built-in sandbox.")
    items_total: int
    items_digest: str = Field(description="sha256 of the canonical JSON of every item, in posted order.")
    items_truncated: bool = Field(description="Only the first items were stored (items_total counts all).")


class Report(ReportSummary):
    """One site's sync, with what was posted (or would have been, on a dry run)."""

    model_config = _examples(examples.REPORT)

    items: list[OutageItem]


class ReportPage(BaseModel):
    """Site reports, newest first; the CLI's page shape (`outagesync reports list --json`), plus `next`."""

    model_config = _examples(examples.REPORT_PAGE)

    items: list[ReportSummary]
    next_cursor: str | None = Field(description="Pass it as `cursor` for the next page; null on the last.")
    next: str | None = Field(description="The next page's URL, filters included; null on the last page.")


class Deleted(BaseModel):
    model_config = _examples({"deleted": 42})

    deleted: int


class Run(BaseModel):
    """A run over every enabled managed site (POST /sync)."""

    model_config = _examples(examples.RUN)

    run_id: str
    trigger: Trigger
    status: RunStatus
    dry_run: bool
    started_at: Instant
    finished_at: Instant
    settings_digest: str
    report_stored: bool
    storage_error: str | None
    upstream_url: str | None = Field(
        None, description="The KrakenFlex API base URL the run used (no credentials)."
    )
    sandbox: bool = Field(False, description="The run was against the built-in sandbox.")
    sites: list[SiteOutcome]


class OutagePreview(BaseModel):
    """What a sync of the site would post now (nothing is posted, nothing is stored)."""

    model_config = _examples(examples.PREVIEW)

    site_id: str
    since: Instant
    fetched: int
    site_devices: int
    kept: int = Field(description="How many items a sync would post.")
    dropped_before_cutoff: int
    dropped_unknown_device: int
    invalid: int
    invalid_records: list[str]
    items: list[OutageItem]
    items_truncated: bool = Field(description="`items` holds the first `limit` only (`kept` counts all).")


# --- queue jobs


class JobReport(BaseModel):
    id: str
    site_id: str
    status: SiteStatus
    error_code: str | None
    url: str = Field(description="The report: GET it.")


class Job(BaseModel):
    """A queue job: a batch of sites one worker syncs with one GET /outages (docs/scale-out.md)."""

    id: int
    state: JobState
    site_ids: list[str]
    trigger: str = Field(description="Who queued it: cli, api, schedule (a retry keeps its job's).")
    attempt: int = Field(description="1 for a first try; n for the (n-1)th retry of transient failures.")
    retry_of: int | None = Field(description="The job whose transient failures this one retries.")
    flags: dict[str, bool | str] = Field(
        default_factory=dict,
        description="How it syncs, when not as by default: dry_run, skip_invalid, allow_empty, since.",
    )
    attempts: int = Field(description="Times a worker started it (2+: run again after a crash/shutdown).")
    queued_at: Instant | None
    scheduled_at: Instant | None = Field(description="Not run before (a retry's backoff).")
    started_at: Instant | None
    finished_at: Instant | None
    run_id: str = Field(description="The run its reports belong to.")
    reports_url: str
    reports: list[JobReport] | None = Field(None, description="The site reports its run produced.")


class JobPage(BaseModel):
    """Queue jobs, newest first."""

    items: list[Job]
    next_cursor: int | None = Field(description="Pass it as `cursor` for the next page; null on the last.")
    next: str | None = Field(description="The next page's URL; null on the last page.")


class JobsQueued(BaseModel):
    """202 of a sync with OUTAGESYNC_EXECUTION=queue: the jobs that hold the sites (Location: the first)."""

    jobs: list[Job]
