"""The report and managed-site use cases over the real store: input checks, errors, pass-through."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from outagesync.adapters.storage import SqlStore
from outagesync.domain.models import RunReport, SiteResult, SiteStatus, Trigger
from outagesync.domain.sites import KEEP
from outagesync.errors import InvalidInput, InvalidSiteId, ReportNotFound
from outagesync.presenters.cursors import decode_cursor, encode_cursor, next_cursor
from outagesync.services import reports, sites

T0 = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    with SqlStore.from_url(database_url) as store:
        yield store


def _save(store: SqlStore, site_id: str, at: datetime, status: SiteStatus = SiteStatus.SUCCEEDED) -> str:
    report_id = uuid.uuid4().hex
    site = SiteResult(report_id, site_id, status, at, at, T0)
    store.save_run(RunReport(uuid.uuid4().hex, Trigger.API, at, at, "d", False, (site,)))
    return report_id


def test_reports_are_paged_through_opaque_cursors(store: SqlStore) -> None:
    ids = [_save(store, "norwich-pear-tree", T0 + timedelta(minutes=n)) for n in range(5)]
    first = reports.list_reports(reports=store, site_id="norwich-pear-tree", limit=3)
    token = next_cursor(first)
    assert token is not None
    assert first.more_after is not None
    assert encode_cursor(first.more_after) == token
    after = decode_cursor(token)
    assert after == first.more_after
    rest = reports.list_reports(reports=store, site_id="norwich-pear-tree", limit=3, after=after)
    assert [r.report_id for r in first.reports + rest.reports] == ids[::-1]
    assert (rest.more_after, next_cursor(rest)) == (None, None)


@pytest.mark.parametrize(
    ("criteria", "error", "message"),
    [
        ({"limit": 0}, InvalidInput, "invalid limit 0: give a number from 1 to 500"),
        ({"limit": 501}, InvalidInput, "invalid limit 501"),
        ({"status": "great"}, InvalidInput, "invalid status 'great': use one of succeeded, failed"),
        ({"site_id": "../etc"}, InvalidSiteId, "invalid site id '../etc'"),
        ({"started_from": datetime(2024, 1, 1)}, InvalidInput, "give a time zone"),
        ({"started_from": T0, "started_before": T0}, InvalidInput, "the start must come before the end"),
    ],
)
def test_bad_report_queries_are_refused(
    store: SqlStore, criteria: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(")):
        reports.list_reports(reports=store, **criteria)  # type: ignore[arg-type]


@pytest.mark.parametrize("token", ["garbage!", "", "W10", "WyJub3QgYSB0aW1lIiwgImlkIl0"])
def test_a_token_that_is_not_a_cursor_is_invalid_input(token: str) -> None:
    with pytest.raises(InvalidInput, match=r"^invalid cursor .*: pass the next_cursor of a previous page$"):
        decode_cursor(token)


def test_status_may_be_given_by_name(store: SqlStore) -> None:
    failed = _save(store, "kingfisher", T0, SiteStatus.FAILED)
    _save(store, "kingfisher", T0)
    page = reports.list_reports(reports=store, status="failed")
    assert [r.report_id for r in page.reports] == [failed]


def test_a_malformed_report_id_is_simply_not_found(store: SqlStore) -> None:
    with pytest.raises(ReportNotFound, match="no report with id 'a b'"):
        reports.get_report("a b", reports=store)
    with pytest.raises(ReportNotFound):
        reports.delete_report("", reports=store)


def test_clearing_reports_before_a_date(store: SqlStore) -> None:
    _save(store, "kingfisher", T0)
    kept = _save(store, "kingfisher", T0 + timedelta(days=1))
    assert (
        reports.clear_reports(reports=store, site_id="kingfisher", started_before=T0 + timedelta(hours=1))
        == 1
    )
    assert [r.report_id for r in reports.list_reports(reports=store).reports] == [kept]
    reports.delete_report(kept, reports=store)
    assert reports.list_reports(reports=store).reports == ()


def test_site_names_are_trimmed_and_empty_ones_dropped(store: SqlStore) -> None:
    assert sites.add_site("kingfisher", sites=store, name="  Kingfisher  ").name == "Kingfisher"
    assert sites.update_site("kingfisher", sites=store, name="").name is None


def test_bad_site_input_is_refused(store: SqlStore) -> None:
    with pytest.raises(InvalidSiteId):
        sites.add_site("no/slashes", sites=store)
    with pytest.raises(InvalidInput, match="at most 200 printable characters"):
        sites.add_site("kingfisher", sites=store, name="x" * 201)
    with pytest.raises(InvalidInput, match="give a time zone"):
        sites.add_site("kingfisher", sites=store, since=datetime(2023, 1, 1))
    with pytest.raises(InvalidInput, match="invalid limit"):
        sites.list_sites(sites=store, limit=0)
    assert sites.list_sites(sites=store) == []


def test_an_update_must_change_something(store: SqlStore) -> None:
    sites.add_site("kingfisher", sites=store)
    with pytest.raises(InvalidInput, match="nothing to update"):
        sites.update_site("kingfisher", sites=store, name=KEEP, since=KEEP, enabled=KEEP)


def test_a_site_cutoff_comes_back_as_the_same_instant_in_utc(store: SqlStore) -> None:
    since = datetime(2023, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    added = sites.add_site("kingfisher", sites=store, since=since, enabled=False)
    stored = sites.get_site("kingfisher", sites=store)
    assert (stored, stored.since, stored.enabled) == (added, datetime(2023, 1, 1, tzinfo=UTC), False)
    assert stored.since is not None
    assert stored.since.tzinfo is UTC
    sites.remove_site("kingfisher", sites=store)
    assert sites.list_sites(sites=store) == []
