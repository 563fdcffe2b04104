"""Safe runs at the use-case level, against fakes of the ports: site locks, the `running` record, waits.

The lock adapters themselves (files, PostgreSQL advisory locks) are tested against the real things in
tests/integration/test_locks.py; real processes racing in tests/e2e/test_safe_runs.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from outagesync.domain.models import POST_ENDPOINT, ErrorInfo, RunReport, RunStatus, SiteStatus
from outagesync.errors import StorageError
from outagesync.services.locking import POLL_S, acquire_waiting, run_key, site_key
from outagesync.services.sync import Locking, SyncOptions, sync_sites
from tests.unit.fakes import FakeClock, FakeLocks, FakeReportStore, FakeSleep, FakeUpstream
from tests.unit.test_sync_use_case import CUTOFF, OUTAGES, SITE_INFOS


async def test_each_site_is_locked_before_the_outages_and_released_after_its_post() -> None:
    upstream = FakeUpstream(OUTAGES, SITE_INFOS)
    locks = FakeLocks()
    seen_at_fetch: list[set[str]] = []
    fetch = upstream.fetch_outages

    async def fetch_after_locking(**kwargs: object) -> object:
        seen_at_fetch.append({key for key, holder in locks.table.items() if holder is locks})
        return await fetch(**kwargs)  # type: ignore[arg-type]

    upstream.fetch_outages = fetch_after_locking  # type: ignore[method-assign,assignment]
    report = await sync_sites(
        ["alpha", "beta"],
        options=SyncOptions(since=CUTOFF),
        upstream=upstream,
        reports=None,
        clock=FakeClock(),
        locking=Locking(locks),
    )
    assert [site.status for site in report.sites] == [SiteStatus.SUCCEEDED, SiteStatus.SUCCEEDED]
    run = run_key(report.run_id)
    assert seen_at_fetch == [{run, site_key("alpha"), site_key("beta")}]  # every lock before the GET
    assert set(locks.events[:3]) == {
        ("acquire", run),
        ("acquire", site_key("alpha")),
        ("acquire", site_key("beta")),
    }
    assert sorted(locks.events[3:5]) == [("release", site_key("alpha")), ("release", site_key("beta"))]
    assert locks.events[5:] == [("release", run), ("close", "")]
    assert locks.table == {}


async def test_a_site_held_by_another_sync_waits_then_fails_site_busy_and_the_others_go_on() -> None:
    upstream = FakeUpstream(OUTAGES, SITE_INFOS)
    table: dict[str, object] = {site_key("beta"): "another sync"}
    locks, clock = FakeLocks(table), FakeClock(step=timedelta(0))
    sleep = FakeSleep(clock)
    waited_for: list[str] = []
    report = await sync_sites(
        ["alpha", "beta"],
        options=SyncOptions(since=CUTOFF, lock_wait_s=2.0),
        upstream=upstream,
        reports=None,
        clock=clock,
        locking=Locking(locks, on_wait=waited_for.append, sleep=sleep),
    )
    alpha, beta = report.sites
    assert (alpha.status, beta.status, report.status) == ("succeeded", "failed", RunStatus.PARTIAL)
    assert beta.error == ErrorInfo(
        "site-busy", "beta: another sync of this site held it for 2 s; try again later"
    )
    assert beta.calls == {}  # no request at all for the busy site
    assert sorted(upstream.posted) == ["alpha"]
    assert waited_for == ["beta"]  # said once
    assert [round(wait, 6) for wait in sleep.waits] == [0.05, 0.1, 0.2, 0.5, 0.5, 0.5, 0.15]  # capped at 2 s
    assert table == {site_key("beta"): "another sync"}  # the other holder's lock is untouched


async def test_a_lock_freed_while_waiting_is_taken() -> None:
    table: dict[str, object] = {"site:x": "another sync"}
    locks, clock = FakeLocks(table), FakeClock(step=timedelta(0))
    sleep = FakeSleep(clock)

    async def holder_finishes(seconds: float) -> None:
        await sleep(seconds)
        if len(sleep.waits) == 3:
            del table["site:x"]

    taken = await acquire_waiting(locks, "site:x", wait_s=30, clock=clock, sleep=holder_finishes)
    assert (taken, sleep.waits, table) == (True, list(POLL_S[:3]), {"site:x": locks})


async def test_a_dry_run_takes_no_lock_and_records_no_running_run() -> None:
    locks, reports = FakeLocks(), FakeReportStore()
    await sync_sites(
        ["alpha"],
        options=SyncOptions(since=CUTOFF, dry_run=True),
        upstream=FakeUpstream(OUTAGES, SITE_INFOS),
        reports=reports,
        clock=FakeClock(),
        locking=Locking(locks),
    )
    assert locks.events == [("close", "")]
    assert (reports.running, [r.status for r in reports.saved]) == ([], [RunStatus.DRY_RUN])


async def test_the_run_is_recorded_running_before_its_first_post() -> None:
    upstream, reports = FakeUpstream(OUTAGES, SITE_INFOS), FakeReportStore()
    recorded_at_post: list[int] = []
    post = upstream.post_site_outages

    async def post_after_recording(site_id: str, items: object) -> object:
        recorded_at_post.append(len(reports.running))
        return await post(site_id, items)  # type: ignore[arg-type]

    upstream.post_site_outages = post_after_recording  # type: ignore[method-assign,assignment]
    clock = FakeClock()
    report = await sync_sites(
        ["alpha", "beta"], options=SyncOptions(since=CUTOFF), upstream=upstream, reports=reports, clock=clock
    )
    assert recorded_at_post == [1, 1]
    (running,) = reports.running
    assert (running.run_id, running.status, running.started_at) == (report.run_id, "running", clock.at(0))
    assert [(s.site_id, s.status) for s in running.sites] == [("alpha", "running"), ("beta", "running")]
    # the outcome replaces it under the same report ids: a link given while running stays right
    assert [s.report_id for s in running.sites] == [s.report_id for s in report.sites]
    assert (reports.saved, report.stored) == ([report], True)


async def test_a_run_that_cannot_be_recorded_posts_nothing() -> None:
    upstream = FakeUpstream(OUTAGES, SITE_INFOS)
    reports = FakeReportStore(fail_running=StorageError("cannot use the report database: refused"))
    locks = FakeLocks()
    with pytest.raises(StorageError, match=r"^cannot use the report database: refused$"):
        await sync_sites(
            ["alpha"],
            options=SyncOptions(since=CUTOFF),
            upstream=upstream,
            reports=reports,
            clock=FakeClock(),
            locking=Locking(locks),
        )
    assert (upstream.fetch_outages_calls, upstream.site_info_calls, upstream.post_calls) == ([], [], [])
    assert locks.table == {}  # the run lock was let go


async def test_an_interrupted_post_says_it_may_have_been_applied() -> None:
    import asyncio

    upstream = FakeUpstream(OUTAGES, SITE_INFOS, hold={POST_ENDPOINT})
    reports = FakeReportStore()
    task = asyncio.ensure_future(
        sync_sites(
            ["alpha"],
            options=SyncOptions(since=CUTOFF),
            upstream=upstream,
            reports=reports,
            clock=FakeClock(),
        )
    )
    await upstream.wait_held(1, POST_ENDPOINT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (site,) = reports.saved[0].sites
    assert (site.status, site.error) == (
        "interrupted",
        ErrorInfo(
            "interrupted",
            "the run was interrupted while this site's POST was in flight: the upstream may have applied it",
        ),
    )


async def test_the_run_lock_is_held_until_the_outcome_is_saved() -> None:
    """A reader that finds a `running` record whose run lock is free calls it `abandoned`: the outcome must
    be stored before the run lock goes, or a report page polling meanwhile shows a live run abandoned."""
    locks = FakeLocks()
    held_at_save: list[bool] = []

    class Watching(FakeReportStore):
        def save_run(self, report: RunReport) -> None:
            if report.status is not RunStatus.RUNNING:
                held_at_save.append(locks.table.get(run_key(report.run_id)) is locks)
            super().save_run(report)

    reports = Watching()
    report = await sync_sites(
        ["alpha"],
        options=SyncOptions(since=CUTOFF),
        upstream=FakeUpstream(OUTAGES, SITE_INFOS),
        reports=reports,
        clock=FakeClock(),
        locking=Locking(locks),
    )
    assert report.stored
    assert held_at_save == [True]
    assert locks.table == {}
