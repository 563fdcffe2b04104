"""The sync use case end to end against the sandbox over real HTTP (no database: reports=None)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from outagesync.adapters.krakenflex.client import KrakenFlexClient, RetryPolicy
from outagesync.domain.models import RunReport, RunStatus, SiteStatus
from outagesync.sandbox import Dataset, FailFirst, Sandbox, ServerError, TruncatedBody
from outagesync.services.sync import SyncOptions, sync_sites

DATA = Path(__file__).parent.parent / "data"
CUTOFF = datetime(2022, 1, 1, tzinfo=UTC)
FAST = RetryPolicy(max_attempts=4, backoff_initial_s=0.01, backoff_max_s=0.05, deadline_s=10)


def _now() -> datetime:
    return datetime.now(UTC)


async def _sync(sandbox: Sandbox, *site_ids: str, policy: RetryPolicy = FAST, **options: Any) -> RunReport:
    async with KrakenFlexClient(sandbox.url, sandbox.api_key, policy=policy) as client:
        return await sync_sites(
            site_ids, options=SyncOptions(since=CUTOFF, **options), upstream=client, reports=None, clock=_now
        )


def _multiset(items: Any) -> Counter[tuple[str, str, str, str]]:
    return Counter((i["id"], i["name"], i["begin"], i["end"]) for i in items)


def _gets_of_outages(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.method == "GET" and r.path == "/outages")


async def test_norwich_is_accepted_with_the_real_payload(sandbox: Sandbox) -> None:
    report = await _sync(sandbox, "norwich-pear-tree")
    (site,) = report.sites
    assert report.status is RunStatus.SUCCEEDED
    assert (site.status, site.post_status, site.posted) == (SiteStatus.SUCCEEDED, 200, 10)
    expected = _multiset(json.loads((DATA / "accepted_norwich.json").read_text()))
    assert _multiset(sandbox.accepted("norwich-pear-tree")) == expected
    assert (site.site_devices, site.kept, site.dropped_before_cutoff) == (8, 10, 8)
    assert site.fetched == site.kept + site.dropped_before_cutoff + site.dropped_unknown_device


async def test_several_sites_share_one_get_outages(sandbox: Sandbox) -> None:
    report = await _sync(sandbox, "norwich-pear-tree", "kingfisher", "zurich-lindenhof", "empty-acres")
    assert report.status is RunStatus.SUCCEEDED, [s.error for s in report.sites]
    assert _gets_of_outages(sandbox) == 1
    for site in report.sites:
        assert _multiset(sandbox.accepted(site.site_id) or []) == Counter(
            (i.id, i.name, i.begin, i.end) for i in site.items
        )


async def test_one_failing_site_does_not_stop_the_others(sandbox: Sandbox) -> None:
    report = await _sync(sandbox, "nowhere", "kingfisher", "too-much-too-soon", policy=FAST)
    statuses = {s.site_id: s.status for s in report.sites}
    assert statuses == {
        "nowhere": SiteStatus.FAILED,
        "kingfisher": SiteStatus.SUCCEEDED,
        "too-much-too-soon": SiteStatus.FAILED,
    }
    assert report.status is RunStatus.PARTIAL
    errors = {s.site_id: s.error.code for s in report.sites if s.error}
    assert errors == {"nowhere": "unknown-site", "too-much-too-soon": "upstream-unavailable"}


async def test_a_failing_post_is_retried(sandbox: Sandbox) -> None:
    sandbox.set_faults(FailFirst(2, target="POST /site-outages"))
    (site,) = (await _sync(sandbox, "kingfisher")).sites
    assert site.status is SiteStatus.SUCCEEDED
    assert site.calls["POST /site-outages"].attempts == 3
    assert site.calls["POST /site-outages"].retries == 2


async def test_persistent_failure_posts_nothing(sandbox: Sandbox) -> None:
    sandbox.set_faults(ServerError(1.0, target="GET /outages"))
    (site,) = (await _sync(sandbox, "kingfisher")).sites
    assert site.status is SiteStatus.FAILED
    assert site.error is not None
    assert "gave up after 4 attempts" in site.error.message
    assert not [r for r in sandbox.requests if r.method == "POST"]


async def test_an_invalid_record_fails_the_site_before_any_post(sandbox: Sandbox) -> None:
    outages = [
        {"id": "k1", "begin": "2022-03-01T00:00:00.000Z", "end": "2022-03-02T00:00:00.000Z"},
        {"id": "k1", "begin": 20220301, "end": "2022-03-02T00:00:00.000Z"},
    ]
    sandbox.dataset = Dataset(
        outages, {"s": {"id": "s", "name": "S", "devices": [{"id": "k1", "name": "K"}]}}
    )
    (site,) = (await _sync(sandbox, "s")).sites
    assert site.status is SiteStatus.FAILED
    assert site.error is not None
    assert site.error.message == "GET /outages record 1: begin: Expected `str`, got `int`"
    assert not [r for r in sandbox.requests if r.method == "POST"]


async def test_skip_invalid_drops_the_record_and_lists_it(sandbox: Sandbox) -> None:
    outages = [
        {"id": "k1", "begin": "2022-03-01T00:00:00.000Z", "end": "2022-03-02T00:00:00.000Z"},
        {"id": "k1", "begin": "2022-03-01T00:00:00.000Z"},
    ]
    sandbox.dataset = Dataset(
        outages, {"s": {"id": "s", "name": "S", "devices": [{"id": "k1", "name": "K"}]}}
    )
    (site,) = (await _sync(sandbox, "s", skip_invalid=True)).sites
    assert site.status is SiteStatus.SUCCEEDED
    assert [str(r) for r in site.invalid_records] == ["GET /outages record 1: end: missing required field"]
    assert site.posted == 1


async def test_offsets_and_precisions_are_accepted_as_received(sandbox: Sandbox) -> None:
    outages = [
        {"id": "d", "begin": "2022-01-01T00:30:00+01:00", "end": "2022-01-02T00:00:00Z"},  # 2021 in UTC
        {"id": "d", "begin": "2021-12-31T23:30:00-01:00", "end": "2022-01-02T00:00:00.5Z"},  # 2022 in UTC
        {"id": "d", "begin": "2022-01-01T00:00:00Z", "end": "2022-01-02T00:00:00.000000Z"},  # the cutoff
        {"id": "d", "begin": "2021-12-31T23:59:59.999Z", "end": "2022-01-02T00:00:00Z"},
    ]
    sandbox.dataset = Dataset(
        outages, {"s": {"id": "s", "name": "Zürich", "devices": [{"id": "d", "name": "Nº 1 – ☀"}]}}
    )
    (site,) = (await _sync(sandbox, "s")).sites
    assert site.status is SiteStatus.SUCCEEDED, site.error
    assert [(i.begin, i.end) for i in site.items] == [(o["begin"], o["end"]) for o in outages[1:3]]


async def test_dry_run_posts_nothing(sandbox: Sandbox) -> None:
    report = await _sync(sandbox, "norwich-pear-tree", dry_run=True)
    assert report.status is RunStatus.DRY_RUN
    assert len(report.sites[0].items) == 10
    assert not [r for r in sandbox.requests if r.method == "POST"]


async def test_malformed_json_fails_the_site_without_posting(sandbox: Sandbox) -> None:
    sites = {"s": {"id": "s", "name": "S", "devices": [{"id": "k1", "name": "K"}]}}
    sandbox.dataset = Dataset(sites=sites, outages_body=b'[{"id":"k1","begin":"2022-03-01T00:00:00.000Z",,]')
    (site,) = (await _sync(sandbox, "s")).sites
    assert site.status is SiteStatus.FAILED
    assert site.error is not None
    assert site.error.message.startswith("GET /outages: the body is not valid JSON")
    assert _gets_of_outages(sandbox) == 1  # complete but broken: retrying cannot help
    assert not [r for r in sandbox.requests if r.method == "POST"]


async def test_a_body_cut_off_every_time_fails_after_the_retries(sandbox: Sandbox) -> None:
    sandbox.set_faults(TruncatedBody(1.0, target="GET /outages"))
    (site,) = (await _sync(sandbox, "kingfisher")).sites
    assert site.status is SiteStatus.FAILED
    assert site.error is not None
    assert "cut off" in site.error.message
    assert _gets_of_outages(sandbox) == FAST.max_attempts
    assert not [r for r in sandbox.requests if r.method == "POST"]
