"""Cron schedules of managed sites: the rule for a valid one and the due time a tick stands for. Pure.

A schedule is a standard 5-field cron expression in UTC (minute hour day-of-month month day-of-week),
e.g. `*/15 * * * *`; croniter (pure computation, no I/O) does the calendar arithmetic.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from croniter import croniter

from outagesync.errors import InvalidInput

MAX_SCHEDULE_LENGTH = 200  # the column's width (managed_sites.schedule)
SCHEDULE_RULE = "a 5-field cron expression in UTC, e.g. '*/15 * * * *' (every 15 minutes)"


def check_schedule(schedule: str | None, *, setting: str = "schedule") -> str | None:
    """The cron expression, whitespace normalised; None for none or blank; InvalidInput if it is not
    a valid 5-field cron expression (`setting` names it in the message)."""
    if schedule is None or not schedule.strip():
        return None
    normalised = " ".join(schedule.split())
    fields = normalised.split(" ")
    if len(normalised) > MAX_SCHEDULE_LENGTH or len(fields) != 5 or not croniter.is_valid(normalised):
        raise InvalidInput(f"invalid {setting} {schedule!r}: use {SCHEDULE_RULE}")
    return normalised


def latest_due(schedule: str, at: datetime) -> datetime:
    """The latest time at or before `at` (aware) that the schedule fires, in UTC (to the minute)."""
    start = at.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(seconds=1)
    due = croniter(schedule, start).get_prev(datetime)
    assert isinstance(due, datetime)
    return due.astimezone(UTC)
