"""The dashboard's use cases over the real store (SQLite and PostgreSQL): the fleet overview's per-site
activity in a few queries, managed sites joined, failing first; a stored report's timeline."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from outagesync.adapters.storage import SqlStore
from outagesync.domain.fleet import SiteSummary
from outagesync.domain.models import RunReport, SiteOutage, SiteResult, SiteStatus, Trigger
from outagesync.errors import InvalidInput
from outagesync.services import sites
from outagesync.services.fleet import fleet_overview, stored_timeline

NOW = datetime(2024, 5, 2, 12, tzinfo=UTC)
SINCE = datetime(2022, 1, 1, tzinfo=UTC)
ITEM = SiteOutage("d1", "Battery 1", "2022-02-01T00:00:00.000Z", "2022-02-02T00:00:00.000Z")


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    with SqlStore.from_url(database_url) as store:
        yield store


def _save(store: SqlStore, site_id: str, hours_ago: float, status: SiteStatus, items: int = 0) -> str:
    at = NOW - timedelta(hours=hours_ago)
    report_id = uuid.uuid4().hex
    site = SiteResult(report_id, site_id, status, at, at, SINCE, items=(ITEM,) * items)
    store.save_run(RunReport(uuid.uuid4().hex, Trigger.API, at, at, "d", False, (site,)))
    return report_id


def _rows(summaries: list[SiteSummary]) -> list[tuple[object, ...]]:
    return [
        (
            s.site_id,
            s.managed,
            s.status,
            s.activity.failures if s.activity else None,
            s.activity.posted_last if s.activity else None,
            s.activity.recent if s.activity else None,
        )
        for s in summaries
    ]


def test_the_overview_sums_up_each_site_failing_first(store: SqlStore) -> None:
    ok, failed, dry = SiteStatus.SUCCEEDED, SiteStatus.FAILED, SiteStatus.DRY_RUN
    _save(store, "alpha", 30, failed)  # older than 24 h: not counted
    _save(store, "alpha", 20, ok, items=3)
    _save(store, "alpha", 10, failed)
    last_alpha = _save(store, "alpha", 1, failed)
    _save(store, "bravo", 5, ok, items=2)
    _save(store, "bravo", 2, dry, items=4)
    sites.add_site("charlie", sites=store, name="Charlie Farm")  # managed, never run
    sites.add_site("bravo", sites=store, name="Bravo", enabled=False)

    overview = fleet_overview(sites=store, history=store, now=NOW)
    assert _rows(overview) == [
        ("alpha", False, failed, 2, 3, (failed, failed, ok, failed)),
        ("charlie", True, None, None, None, None),
        ("bravo", True, dry, 0, 2, (dry, ok)),
    ]
    alpha = overview[0].activity
    assert alpha is not None
    assert (alpha.last_report_id, alpha.last_run_at) == (last_alpha, NOW - timedelta(hours=1))
    assert alpha.last_success_at == NOW - timedelta(hours=20)
    assert (overview[1].name, overview[2].name, overview[2].enabled) == ("Charlie Farm", "Bravo", False)


def test_the_overview_filters_and_sorts(store: SqlStore) -> None:
    _save(store, "alpha", 3, SiteStatus.FAILED)
    _save(store, "bravo", 2, SiteStatus.SUCCEEDED, items=5)
    sites.add_site("charlie", sites=store, name="Charlie Farm")

    def ids(**criteria: str) -> list[str]:
        return [s.site_id for s in fleet_overview(sites=store, history=store, now=NOW, **criteria)]

    assert ids(text="FARM") == ["charlie"]
    assert ids(status="failing") == ["alpha"]
    assert ids(status="never") == ["charlie"]
    assert ids(status="succeeded") == ["bravo"]
    assert ids(sort="site") == ["alpha", "bravo", "charlie"]
    assert ids(sort="last_run") == ["bravo", "alpha", "charlie"]
    assert ids(sort="posted") == ["bravo", "alpha", "charlie"]
    assert ids(sort="last_success") == ["alpha", "charlie", "bravo"]
    with pytest.raises(InvalidInput, match="invalid sort 'size': use one of status, site"):
        ids(sort="size")
    with pytest.raises(InvalidInput, match="invalid status 'bad'"):
        ids(status="bad")


def test_the_overview_takes_three_queries_whatever_the_number_of_sites(store: SqlStore) -> None:
    for number in range(30):
        _save(store, f"site-{number:03d}", 2, SiteStatus.SUCCEEDED, items=1)
        _save(store, f"site-{number:03d}", 1, SiteStatus.FAILED)
    statements: list[str] = []
    engine = store._engine  # the store's own engine: count what it sends

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        activity = store.site_activity(failures_from=NOW - timedelta(days=1), trend=10)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(activity) == 30
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3
    assert not [s for s in statements if re.search(r"site_reports\.items\b", s)]  # the lists stay unread


def test_a_stored_report_timeline_shows_its_kept_items(store: SqlStore) -> None:
    report_id = _save(store, "alpha", 1, SiteStatus.SUCCEEDED, items=3)
    timeline = stored_timeline(store.get_report(report_id))
    assert (timeline.outages, timeline.kept, len(timeline.bars), timeline.since) == (3, 3, 3, SINCE)
    assert timeline.devices == (("d1", "Battery 1"),)
