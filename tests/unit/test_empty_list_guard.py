"""The empty-list guard of the sync use case: [] is not posted over a site's non-empty accepted list."""

from __future__ import annotations

from datetime import UTC, datetime

from outagesync.domain.models import Device, ErrorInfo, Outage, SiteInfo, SiteStatus
from outagesync.services.sync import SyncOptions, sync_sites

from .fakes import FakeClock, FakeReportStore, FakeUpstream, PostCall

CUTOFF = datetime(2022, 1, 1, tzinfo=UTC)
SITE = SiteInfo("alpha", "Alpha", [Device("a1", "Battery 1")])
FEB = Outage("a1", "2022-02-01T00:00:00.000Z", "2022-02-02T00:00:00.000Z")
REFUSED = ErrorInfo(
    "empty-list-refused",
    "not posting an empty list: it would clear the 1 outage of the site's last accepted list; "
    "to clear it, sync with --allow-empty (REST API: allow_empty=true), or let the site allow it: "
    "outagesync sites update alpha --allow-empty",
)


async def _sync(
    outages: list[Outage], reports: FakeReportStore | None, *, allow_empty: bool = False
) -> tuple[FakeUpstream, SiteStatus, ErrorInfo | None]:
    upstream = FakeUpstream(outages, {"alpha": SITE})
    options = SyncOptions(since=CUTOFF, allow_empty=allow_empty)
    report = await sync_sites(
        ["alpha"], options=options, upstream=upstream, reports=reports, clock=FakeClock()
    )
    (site,) = report.sites
    return upstream, site.status, site.error


async def test_an_empty_list_over_a_non_empty_accepted_one_is_refused_before_any_post() -> None:
    reports = FakeReportStore()
    assert (await _sync([FEB], reports))[1] is SiteStatus.SUCCEEDED
    upstream, status, error = await _sync([], reports)
    assert (status, error, upstream.post_calls) == (SiteStatus.FAILED, REFUSED, [])
    assert reports.last_accepted_total("alpha") == 1  # the refused run is not an accepted list


async def test_allow_empty_posts_the_empty_list_and_it_becomes_the_accepted_one() -> None:
    reports = FakeReportStore()
    await _sync([FEB], reports)
    upstream, status, error = await _sync([], reports, allow_empty=True)
    assert (status, error, upstream.post_calls) == (SiteStatus.SUCCEEDED, None, [PostCall("alpha", [])])
    assert reports.last_accepted_total("alpha") == 0
    assert (await _sync([], reports))[1] is SiteStatus.SUCCEEDED  # [] over [] clears nothing


async def test_an_empty_list_is_posted_without_history() -> None:
    for reports in (FakeReportStore(), None):  # a first sync, and a run without a report store
        upstream, status, _ = await _sync([], reports)
        assert (status, upstream.post_calls) == (SiteStatus.SUCCEEDED, [PostCall("alpha", [])])
