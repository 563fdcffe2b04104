"""The sync use cases (services/sync.py, services/one_site.py) against in-memory fakes of their ports.

No network, no database, no sleeps: what is in flight is decided by holding calls at the fake's gates,
and time is a counter (FakeClock: reading n is `clock.at(n)`).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from outagesync.domain.models import (
    OUTAGES_ENDPOINT,
    POST_ENDPOINT,
    SITE_INFO_ENDPOINT,
    CallStats,
    Device,
    ErrorInfo,
    InvalidRecord,
    Outage,
    RunStatus,
    SiteInfo,
    SiteOutage,
    SiteResult,
    SiteStatus,
    Trigger,
)
from outagesync.errors import (
    InvalidSiteId,
    PayloadRejected,
    StorageError,
    UpstreamUnavailable,
)
from outagesync.services.one_site import preview_site_outages, sync_site
from outagesync.services.ports import Posted
from outagesync.services.sync import (
    INTERRUPTED_POSTING_MESSAGE,
    SyncOptions,
    sync_managed_sites,
    sync_sites,
)

from .fakes import FakeClock, FakeReportStore, FakeSiteStore, FakeUpstream, FetchOutagesCall, managed_site

CUTOFF = datetime(2022, 1, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# alpha has devices a1 and a2, beta has b1; "zz" belongs to no site
A1_FEB = Outage("a1", "2022-02-01T00:00:00.000Z", "2022-02-02T00:00:00.000Z")
A1_OLD = Outage("a1", "2021-06-01T00:00:00.000Z", "2021-06-02T00:00:00.000Z")  # before the cutoff
B1_MAR = Outage("b1", "2022-03-01T00:00:00+01:00", "2022-03-01T12:00:00+01:00")
A2_2023 = Outage("a2", "2023-01-01T00:00:00.000Z", "2023-01-01T06:30:00.000Z")
ZZ_MAY = Outage("zz", "2022-05-01T00:00:00.000Z", "2022-05-02T00:00:00.000Z")
OUTAGES = [A1_FEB, A1_OLD, B1_MAR, A2_2023, ZZ_MAY]

ALPHA = SiteInfo("alpha", "Alpha", [Device("a1", "Battery 1"), Device("a2", "Battery 2")])
BETA = SiteInfo("beta", "Beta", [Device("b1", "Turbine")])
GAMMA = SiteInfo("gamma", "Gamma", [Device("g1", "Panel")])  # no outages at all
SITE_INFOS = {site.id: site for site in (ALPHA, BETA, GAMMA)}

ALPHA_ITEMS = (A1_FEB.named("Battery 1"), A2_2023.named("Battery 2"))
BETA_ITEMS = (B1_MAR.named("Turbine"),)

ALL_CALLS_ONCE = {
    SITE_INFO_ENDPOINT: CallStats(1),
    OUTAGES_ENDPOINT: CallStats(1),
    POST_ENDPOINT: CallStats(1),
}


def _shape(result: SiteResult) -> SiteResult:
    """The result without what is random (its id) or depends on the order the sites ran in (times)."""
    return replace(result, report_id="", started_at=EPOCH, finished_at=EPOCH)


def _succeeded(site_id: str, items: tuple[SiteOutage, ...], **fields: Any) -> SiteResult:
    """The shape of a succeeded result over OUTAGES (the cutoff's outage released, the others counted)."""
    site = SITE_INFOS[site_id]
    expected = SiteResult(
        "",
        site_id,
        SiteStatus.SUCCEEDED,
        EPOCH,
        EPOCH,
        CUTOFF,
        fetched=len(OUTAGES),
        site_devices=len(site.devices),
        kept=len(items),
        dropped_before_cutoff=1 if site_id == "alpha" else 0,
        dropped_unknown_device=len(OUTAGES) - len(items) - (1 if site_id == "alpha" else 0),
        calls=dict(ALL_CALLS_ONCE),
        post_status=200,
        items=items,
    )
    return replace(expected, **fields)


def _many_sites(count: int) -> dict[str, SiteInfo]:
    return {
        f"site-{n:02}": SiteInfo(f"site-{n:02}", f"Site {n}", [Device(f"dev-{n:02}", f"Device {n}")])
        for n in range(count)
    }


def _many_outages(sites: dict[str, SiteInfo]) -> list[Outage]:
    return [
        Outage(site.devices[0].id, "2022-06-01T00:00:00.000Z", "2022-06-02T00:00:00.000Z")
        for site in sites.values()
    ]


# --- one run, one GET /outages ---------------------------------------------------------------------------


async def test_one_site_gives_its_exact_result_and_report() -> None:
    upstream = FakeUpstream(OUTAGES, SITE_INFOS)
    reports = FakeReportStore()
    clock = FakeClock()

    report = await sync_sites(
        ["alpha"],
        options=SyncOptions(since=CUTOFF, settings_digest="abc123"),
        upstream=upstream,
        reports=reports,
        clock=clock,
    )

    # readings: 0 the run begins, 1 the site begins, 2 the site ends, 3 the run ends
    assert replace(report.sites[0], report_id="") == replace(
        _succeeded("alpha", ALPHA_ITEMS), started_at=clock.at(1), finished_at=clock.at(2)
    )
    assert (report.started_at, report.finished_at) == (clock.at(0), clock.at(3))
    assert clock.readings == 4
    assert (report.trigger, report.dry_run, report.settings_digest) == (Trigger.CLI, False, "abc123")
    assert (report.status, report.ok, report.storage_error) == (RunStatus.SUCCEEDED, True, None)
    assert reports.saved == [report]
    assert upstream.fetch_outages_calls == [FetchOutagesCall(skip_invalid=False, release_before=CUTOFF)]
    assert upstream.site_info_calls == ["alpha"]
    assert upstream.posted == {"alpha": list(ALPHA_ITEMS)}


@pytest.mark.parametrize(
    ("known", "failed"),
    [
        pytest.param(12, 0, id="every-site-succeeds"),
        pytest.param(7, 5, id="some-site-infos-fail"),
        pytest.param(0, 12, id="every-site-info-fails"),
    ],
)
async def test_exactly_one_get_outages_per_run(known: int, failed: int) -> None:
    sites = _many_sites(known + failed)
    upstream = FakeUpstream(_many_outages(sites), dict(list(sites.items())[:known]))

    report = await sync_sites(
        list(sites),
        options=SyncOptions(since=CUTOFF, concurrency=4),
        upstream=upstream,
        reports=None,
        clock=FakeClock(),
    )

    assert len(upstream.fetch_outages_calls) == 1
    assert [site.status for site in report.sites] == [SiteStatus.SUCCEEDED] * known + [
        SiteStatus.FAILED
    ] * failed
    assert [site.error.code for site in report.sites if site.error] == ["unknown-site"] * failed
    assert sorted(upstream.posted) == list(sites)[:known]
    assert upstream.site_info_calls == list(sites)


async def test_repeated_site_ids_are_synced_once() -> None:
    upstream = FakeUpstream(OUTAGES, SITE_INFOS)

    report = await sync_sites(
        ["alpha", "beta", "alpha"],
        options=SyncOptions(since=CUTOFF),
        upstream=upstream,
        reports=None,
        clock=FakeClock(),
    )

    assert [site.site_id for site in report.sites] == ["alpha", "beta"]
    assert upstream.site_info_calls == ["alpha", "beta"]
    assert [call.site_id for call in upstream.post_calls] == ["alpha", "beta"]


async def test_an_invalid_site_id_is_refused_before_any_request() -> None:
    upstream = FakeUpstream(OUTAGES, SITE_INFOS)
    reports = FakeReportStore()

    with pytest.raises(InvalidSiteId) as raised:
        await sync_sites(
            ["alpha", "../beta"],
            options=SyncOptions(since=CUTOFF),
            upstream=upstream,
            reports=reports,
            clock=FakeClock(),
        )

    assert raised.value.code == "invalid-site-id"
    assert upstream.fetch_outages_calls == []
    assert upstream.site_info_calls == []
    assert reports.save_attempts == 0


# --- the concurrency bound -------------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 3, 5])
async def test_at_most_concurrency_site_info_and_post_calls_are_in_flight(concurrency: int) -> None:
    sites = _many_sites(12)
    upstream = FakeUpstream(_many_outages(sites), sites, hold={SITE_INFO_ENDPOINT, POST_ENDPOINT})
    task = asyncio.create_task(
        sync_sites(
            list(sites),
            options=SyncOptions(since=CUTOFF, concurrency=concurrency),
            upstream=upstream,
            reports=None,
            clock=FakeClock(),
        )
    )

    def unfinished() -> int:  # sites whose POST has not been let through yet
        return len(sites) - upstream.released_count(POST_ENDPOINT)

    releases = 0
    while unfinished():
        # every site still to finish is at a gate or queued for the bound: as many as it allows are held
        await upstream.wait_until(lambda: len(upstream.held) >= min(concurrency, unfinished()))
        assert len(upstream.held) == min(concurrency, unfinished())
        upstream.release(upstream.held[0])  # the oldest: one call returns, one queued call may begin
        releases += 1
    report = await task

    assert releases == 2 * len(sites)  # each site's site info and POST were held, then let through
    assert upstream.max_in_flight == concurrency
    assert upstream.max_in_flight_by_endpoint[SITE_INFO_ENDPOINT] == concurrency
    assert upstream.max_in_flight_by_endpoint[POST_ENDPOINT] <= concurrency
    assert upstream.in_flight == 0
    assert [site.status for site in report.sites] == [SiteStatus.SUCCEEDED] * len(sites)
    assert len(upstream.fetch_outages_calls) == 1


async def test_the_bound_holds_with_more_slots_than_sites() -> None:
    sites = _many_sites(3)
    upstream = FakeUpstream(_many_outages(sites), sites, hold={SITE_INFO_ENDPOINT})
    task = asyncio.create_task(
        sync_sites(
            list(sites),
            options=SyncOptions(since=CUTOFF, concurrency=8),
            upstream=upstream,
            reports=None,
            clock=FakeClock(),
        )
    )

    await upstream.wait_held(3, SITE_INFO_ENDPOINT)  # all three at once: nothing queued behind the bound
    upstream.release_all()
    report = await task

    assert upstream.max_in_flight_by_endpoint[SITE_INFO_ENDPOINT] == 3
    assert [site.status for site in report.sites] == [SiteStatus.SUCCEEDED] * 3


# --- failures are results --------------------------------------------------------------------------------


async def test_a_failing_site_is_a_result_and_the_others_succeed() -> None:
    infos = {**SITE_INFOS, "down": SiteInfo("down", "Down", [Device("d1", "Meter")])}
    upstream = FakeUpstream(OUTAGES, infos, outages_attempts=2, site_info_attempts={"gamma": 3})
    upstream.fail_site_info(
        "down",
        UpstreamUnavailable(
            "GET /site-info: server error 503; gave up after 5 attempts",
            endpoint=SITE_INFO_ENDPOINT,
            attempts=5,
            status=503,
        ),
    )
    upstream.reply_post(
        "beta", PayloadRejected("outage b1 is unknown", endpoint=POST_ENDPOINT, attempts=1, status=400)
    )
    upstream.reply_post("gamma", Posted(200, "accepted", 2))
    reports = FakeReportStore()
    done: list[SiteResult] = []

    report = await sync_sites(
        ["alpha", "ghost", "beta", "down", "gamma"],
        options=SyncOptions(since=CUTOFF, concurrency=2),
        upstream=upstream,
        reports=reports,
        clock=FakeClock(),
        on_site_done=done.append,
    )

    alpha, ghost, beta, down, gamma = report.sites
    with_outages_twice = {**ALL_CALLS_ONCE, OUTAGES_ENDPOINT: CallStats(2)}
    assert _shape(alpha) == _succeeded("alpha", ALPHA_ITEMS, calls=with_outages_twice)
    assert _shape(ghost) == SiteResult(
        "",
        "ghost",
        SiteStatus.FAILED,
        EPOCH,
        EPOCH,
        CUTOFF,
        calls={SITE_INFO_ENDPOINT: CallStats(1)},  # it failed before it needed the outages
        error=ErrorInfo("unknown-site", "unknown site: ghost (GET /site-info: 404 Site not found)"),
    )
    # a rejected POST keeps what was selected, the upstream's status and its message
    assert _shape(beta) == _succeeded(
        "beta",
        BETA_ITEMS,
        status=SiteStatus.FAILED,
        calls=with_outages_twice,
        post_status=400,
        upstream_message="outage b1 is unknown",
        error=ErrorInfo(
            "upstream-rejected-payload", "the upstream rejected the payload: outage b1 is unknown"
        ),
    )
    assert beta.posted == 0
    assert _shape(down) == SiteResult(
        "",
        "down",
        SiteStatus.FAILED,
        EPOCH,
        EPOCH,
        CUTOFF,
        calls={SITE_INFO_ENDPOINT: CallStats(5)},
        error=ErrorInfo("upstream-unavailable", "GET /site-info: server error 503; gave up after 5 attempts"),
    )
    assert _shape(gamma) == _succeeded(
        "gamma",
        (),
        calls={SITE_INFO_ENDPOINT: CallStats(3), OUTAGES_ENDPOINT: CallStats(2), POST_ENDPOINT: CallStats(2)},
        upstream_message="accepted",
    )
    assert (report.status, report.ok) == (RunStatus.PARTIAL, False)
    assert reports.saved == [report]
    assert sorted(done, key=lambda site: site.site_id) == sorted(report.sites, key=lambda site: site.site_id)
    assert len(upstream.fetch_outages_calls) == 1
    assert [call.site_id for call in upstream.post_calls] == ["alpha", "beta", "gamma"]
    assert upstream.posted == {"alpha": list(ALPHA_ITEMS), "gamma": []}


async def test_an_invalid_upstream_record_fails_every_site_and_nothing_is_posted() -> None:
    bad = InvalidRecord(OUTAGES_ENDPOINT, 3, "begin", "not an ISO 8601 timestamp")
    upstream = FakeUpstream(OUTAGES, SITE_INFOS, invalid=[bad])
    reports = FakeReportStore()

    report = await sync_sites(
        ["alpha", "beta", "gamma"],
        options=SyncOptions(since=CUTOFF),
        upstream=upstream,
        reports=reports,
        clock=FakeClock(),
    )

    error = ErrorInfo("invalid-upstream-data", "GET /outages record 3: begin: not an ISO 8601 timestamp")
    assert [_shape(site) for site in report.sites] == [
        SiteResult(
            "",
            site_id,
            SiteStatus.FAILED,
            EPOCH,
            EPOCH,
            CUTOFF,
            fetched=len(OUTAGES) + 1,  # what was fetched is reported, the bad record listed
            site_devices=len(SITE_INFOS[site_id].devices),
            invalid_records=(bad,),
            calls={SITE_INFO_ENDPOINT: CallStats(1), OUTAGES_ENDPOINT: CallStats(1)},
            error=error,
        )
        for site_id in ("alpha", "beta", "gamma")
    ]
    assert report.status == RunStatus.FAILED
    assert upstream.post_calls == []
    assert upstream.fetch_outages_calls == [FetchOutagesCall(skip_invalid=False, release_before=CUTOFF)]
    assert reports.saved == [report]


async def test_skip_invalid_lists_the_invalid_records_and_posts_the_rest() -> None:
    bad = InvalidRecord(OUTAGES_ENDPOINT, 5, "end", "missing")
    upstream = FakeUpstream(OUTAGES, SITE_INFOS, invalid=[bad])

    report = await sync_sites(
        ["alpha"],
        options=SyncOptions(since=CUTOFF, skip_invalid=True),
        upstream=upstream,
        reports=None,
        clock=FakeClock(),
    )

    assert _shape(report.sites[0]) == _succeeded(
        "alpha", ALPHA_ITEMS, fetched=len(OUTAGES) + 1, invalid_records=(bad,)
    )
    assert upstream.fetch_outages_calls == [FetchOutagesCall(skip_invalid=True, release_before=CUTOFF)]
    assert upstream.posted == {"alpha": list(ALPHA_ITEMS)}


async def test_a_failed_get_outages_fails_every_site_with_its_attempts() -> None:
    upstream = FakeUpstream(OUTAGES, SITE_INFOS)
    upstream.fail_outages(
        UpstreamUnavailable("GET /outages: timed out", endpoint=OUTAGES_ENDPOINT, attempts=5)
    )

    report = await sync_sites(
        ["alpha", "beta"],
        options=SyncOptions(since=CUTOFF),
        upstream=upstream,
        reports=None,
        clock=FakeClock(),
    )

    assert [(site.status, site.error, site.calls) for site in report.sites] == [
        (
            SiteStatus.FAILED,
            ErrorInfo("upstream-unavailable", "GET /outages: timed out"),
            {SITE_INFO_ENDPOINT: CallStats(1), OUTAGES_ENDPOINT: CallStats(5)},
        )
    ] * 2
    assert len(upstream.fetch_outages_calls) == 1
    assert upstream.post_calls == []


# --- dry run ---------------------------------------------------------------------------------------------


async def test_a_dry_run_posts_nothing_and_reports_what_it_would_post() -> None:
    upstream = FakeUpstream(OUTAGES, SITE_INFOS)
    reports = FakeReportStore()

    report = await sync_sites(
        ["alpha", "beta"],
        options=SyncOptions(since=CUTOFF, dry_run=True),
        upstream=upstream,
        reports=reports,
        clock=FakeClock(),
    )

    no_post = {SITE_INFO_ENDPOINT: CallStats(1), OUTAGES_ENDPOINT: CallStats(1)}
    assert [_shape(site) for site in report.sites] == [
        _succeeded("alpha", ALPHA_ITEMS, status=SiteStatus.DRY_RUN, calls=no_post, post_status=None),
        _succeeded("beta", BETA_ITEMS, status=SiteStatus.DRY_RUN, calls=no_post, post_status=None),
    ]
    assert [site.posted for site in report.sites] == [0, 0]
    assert (report.dry_run, report.status, report.ok) == (True, RunStatus.DRY_RUN, True)
    assert upstream.post_calls == []
    assert reports.saved == [report]


async def test_a_dry_run_of_one_site_has_exact_times() -> None:
    clock = FakeClock()

    report = await sync_sites(
        ["beta"],
        options=SyncOptions(since=CUTOFF, dry_run=True),
        upstream=FakeUpstream(OUTAGES, SITE_INFOS),
        reports=None,
        clock=clock,
    )

    site = report.sites[0]
    assert (site.started_at, site.finished_at) == (clock.at(1), clock.at(2))
    assert (report.started_at, report.finished_at) == (clock.at(0), clock.at(3))


# --- cancellation and storage ----------------------------------------------------------------------------


@pytest.mark.parametrize("store_fails", [False, True], ids=["stored", "store-fails"])
async def test_a_cancelled_run_stores_the_unfinished_sites_as_interrupted(store_fails: bool) -> None:
    upstream = FakeUpstream(OUTAGES, SITE_INFOS, hold={POST_ENDPOINT})
    reports = FakeReportStore(StorageError("the database is locked") if store_fails else None)
    clock = FakeClock()
    done: list[SiteResult] = []
    task = asyncio.create_task(
        sync_sites(
            ["alpha", "beta", "gamma"],
            options=SyncOptions(since=CUTOFF, concurrency=3),
            upstream=upstream,
            reports=reports,
            clock=clock,
            on_site_done=done.append,
        )
    )
    await upstream.wait_held(3, POST_ENDPOINT)
    assert [call.site_id for call in upstream.held] == ["alpha", "beta", "gamma"]
    upstream.release(upstream.held[0])
    await upstream.wait_until(lambda: upstream.in_flight == 2)  # alpha's POST returned
    assert [site.site_id for site in done] == ["alpha"]

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert task.cancelled()
    assert reports.save_attempts == 1
    assert [call.site_id for call in upstream.cancelled] == ["beta", "gamma"]
    assert upstream.posted == {"alpha": list(ALPHA_ITEMS)}
    if store_fails:
        assert reports.saved == []
        return
    [report] = reports.saved
    # readings: 0 the run begins, 1-3 the sites begin, 4 alpha ends, 5 the run is interrupted
    assert (report.started_at, report.finished_at) == (clock.at(0), clock.at(5))
    assert (report.status, report.ok) == (RunStatus.INTERRUPTED, False)
    alpha, beta, gamma = report.sites
    assert alpha is done[0]
    assert replace(alpha, report_id="") == replace(
        _succeeded("alpha", ALPHA_ITEMS), started_at=clock.at(1), finished_at=clock.at(4)
    )
    for site, begun in ((beta, clock.at(2)), (gamma, clock.at(3))):
        assert replace(site, report_id="") == SiteResult(
            "",
            site.site_id,
            SiteStatus.INTERRUPTED,
            begun,
            clock.at(5),
            CUTOFF,
            error=ErrorInfo("interrupted", INTERRUPTED_POSTING_MESSAGE),  # their POSTs were in flight
        )
    assert len({site.report_id for site in report.sites}) == 3


async def test_a_failed_save_returns_the_report_with_storage_error() -> None:
    upstream = FakeUpstream(OUTAGES, SITE_INFOS)
    reports = FakeReportStore(StorageError("the report database is unavailable: connection refused"))

    report = await sync_sites(
        ["alpha", "beta"],
        options=SyncOptions(since=CUTOFF),
        upstream=upstream,
        reports=reports,
        clock=FakeClock(),
    )

    assert report.storage_error == "the report database is unavailable: connection refused"
    assert [_shape(site) for site in report.sites] == [
        _succeeded("alpha", ALPHA_ITEMS),
        _succeeded("beta", BETA_ITEMS),
    ]
    assert (report.status, report.ok) == (RunStatus.SUCCEEDED, False)
    assert (reports.save_attempts, reports.saved) == (1, [])
    assert upstream.posted == {"alpha": list(ALPHA_ITEMS), "beta": list(BETA_ITEMS)}


# --- managed sites and one site --------------------------------------------------------------------------

# each managed site has one device with outages that began in 2021-06, 2022-02 and 2022-06
M_OUTAGES = [
    Outage(f"{site}-dev", begin, "2030-01-01T00:00:00.000Z")
    for site in ("m-default", "m-early", "m-off", "m-own")
    for begin in ("2021-06-01T00:00:00.000Z", "2022-02-01T00:00:00.000Z", "2022-06-01T00:00:00.000Z")
]
M_INFOS = {
    site: SiteInfo(site, site.upper(), [Device(f"{site}-dev", f"{site} meter")])
    for site in ("m-default", "m-early", "m-off", "m-own")
}


async def test_sync_managed_sites_uses_each_sites_own_cutoff() -> None:
    early, own = datetime(2021, 1, 1, tzinfo=UTC), datetime(2022, 3, 1, tzinfo=UTC)
    store = FakeSiteStore(
        [
            managed_site("m-own", since=own),
            managed_site("m-default"),
            managed_site("m-off", since=early, enabled=False),
            managed_site("m-early", since=early),
        ]
    )
    upstream = FakeUpstream(M_OUTAGES, M_INFOS)
    reports = FakeReportStore()

    report = await sync_managed_sites(
        sites=store,
        options=SyncOptions(since=CUTOFF, trigger=Trigger.API),
        upstream=upstream,
        reports=reports,
        clock=FakeClock(),
    )

    assert store.list_calls == [True]
    assert [(site.site_id, site.since, site.kept, site.dropped_before_cutoff) for site in report.sites] == [
        ("m-default", CUTOFF, 2, 1),
        ("m-early", early, 3, 0),
        ("m-own", own, 1, 2),
    ]
    assert {site_id: [item.begin for item in items] for site_id, items in upstream.posted.items()} == {
        "m-default": ["2022-02-01T00:00:00.000Z", "2022-06-01T00:00:00.000Z"],
        "m-early": ["2021-06-01T00:00:00.000Z", "2022-02-01T00:00:00.000Z", "2022-06-01T00:00:00.000Z"],
        "m-own": ["2022-06-01T00:00:00.000Z"],
    }
    # one GET /outages, releasing only what no site of the run keeps: before the earliest cutoff
    assert upstream.fetch_outages_calls == [FetchOutagesCall(skip_invalid=False, release_before=early)]
    assert "m-off" not in upstream.site_info_calls
    assert (report.trigger, report.status) == (Trigger.API, RunStatus.SUCCEEDED)
    assert reports.saved == [report]


async def test_sync_managed_sites_with_none_enabled_is_an_empty_run() -> None:
    store = FakeSiteStore([managed_site("m-off", enabled=False)])
    upstream = FakeUpstream(M_OUTAGES, M_INFOS)
    clock = FakeClock()

    report = await sync_managed_sites(
        sites=store, options=SyncOptions(since=CUTOFF), upstream=upstream, reports=None, clock=clock
    )

    assert report.sites == ()
    assert (report.started_at, report.finished_at) == (clock.at(0), clock.at(1))
    assert upstream.fetch_outages_calls == []


FEB, MAR = datetime(2022, 2, 1, tzinfo=UTC), datetime(2022, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("managed_since", "given", "expected", "begins"),
    [
        pytest.param(None, None, CUTOFF, ["2022-02", "2022-06"], id="not-managed-run-cutoff"),
        pytest.param(MAR, None, MAR, ["2022-06"], id="managed-cutoff"),
        pytest.param(MAR, FEB, FEB, ["2022-02", "2022-06"], id="given-cutoff-wins"),
    ],
)
async def test_preview_uses_the_given_then_the_managed_then_the_run_cutoff(
    managed_since: datetime | None, given: datetime | None, expected: datetime, begins: list[str]
) -> None:
    store = FakeSiteStore([managed_site("m-own", since=managed_since)] if managed_since else [])
    upstream = FakeUpstream(M_OUTAGES, M_INFOS)

    result = await preview_site_outages(
        "m-own",
        options=SyncOptions(since=CUTOFF),
        upstream=upstream,
        sites=store,
        clock=FakeClock(),
        since=given,
    )

    assert (result.status, result.since) == (SiteStatus.DRY_RUN, expected)
    assert [item.begin for item in result.items] == [f"{month}-01T00:00:00.000Z" for month in begins]
    assert upstream.post_calls == []
    # the run's own cutoff counts too: decoding releases only what began before both
    release_before = min(CUTOFF, expected)
    assert upstream.fetch_outages_calls == [
        FetchOutagesCall(skip_invalid=False, release_before=release_before)
    ]


async def test_sync_site_stores_its_report_with_the_managed_cutoff() -> None:
    own = datetime(2022, 3, 1, tzinfo=UTC)
    reports = FakeReportStore()
    upstream = FakeUpstream(M_OUTAGES, M_INFOS)

    report = await sync_site(
        "m-own",
        options=SyncOptions(since=CUTOFF),
        upstream=upstream,
        sites=FakeSiteStore([managed_site("m-own", since=own)]),
        reports=reports,
        clock=FakeClock(),
    )

    assert [(site.site_id, site.status, site.since, site.kept) for site in report.sites] == [
        ("m-own", SiteStatus.SUCCEEDED, own, 1)
    ]
    assert reports.saved == [report]
    assert [call.site_id for call in upstream.post_calls] == ["m-own"]


# --- outages of devices no site has are dropped while they download ---------------------------------------


async def test_outages_of_no_site_of_the_run_are_dropped_once_the_site_infos_are_in() -> None:
    """The decoder drops zz's outage (no site of the run has zz) as soon as every site info has
    arrived; each site still counts it as for an unknown device, and the results are the same."""
    upstream = FakeUpstream(OUTAGES, SITE_INFOS)
    upstream.outages_after_site_infos = True

    report = await sync_sites(
        ["alpha", "beta", "gamma"],
        options=SyncOptions(since=CUTOFF),
        upstream=upstream,
        reports=None,
        clock=FakeClock(),
    )

    assert upstream.devices_known_at_fetch == {"a1", "a2", "b1", "g1"}
    by_site = {site.site_id: _shape(site) for site in report.sites}
    assert by_site["alpha"] == _succeeded("alpha", ALPHA_ITEMS)
    assert by_site["beta"] == _succeeded("beta", BETA_ITEMS)
    assert by_site["gamma"] == _succeeded("gamma", ())


async def test_a_site_whose_info_failed_does_not_keep_the_others_from_narrowing_the_download() -> None:
    upstream = FakeUpstream(OUTAGES, SITE_INFOS)
    upstream.outages_after_site_infos = True
    upstream.fail_site_info("beta", UpstreamUnavailable("GET /site-info: timed out", attempts=5))

    report = await sync_sites(
        ["alpha", "beta"],
        options=SyncOptions(since=CUTOFF),
        upstream=upstream,
        reports=None,
        clock=FakeClock(),
    )

    assert upstream.devices_known_at_fetch == {"a1", "a2"}
    alpha, beta = report.sites
    assert _shape(alpha) == _succeeded("alpha", ALPHA_ITEMS)
    assert (beta.status, beta.error and beta.error.code) == (SiteStatus.FAILED, "upstream-unavailable")
