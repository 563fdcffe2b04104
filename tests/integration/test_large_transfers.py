"""Large bodies over real HTTP: streamed downloads and uploads, chunked decoding, many sites at once.

The client reads bodies into one buffer and streams POST bodies above 256 KiB in pieces (with their
length, not chunked); the sync decodes in chunks and indexes devices when several sites run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from outagesync.adapters.krakenflex.client import KrakenFlexClient, RetryPolicy
from outagesync.domain.models import Outage, RunReport, SiteOutage, SiteStatus
from outagesync.sandbox import FailFirst, Sandbox, generate_dataset
from outagesync.services.sync import SyncOptions, sync_sites

CUTOFF = datetime(2022, 1, 1, tzinfo=UTC)
FAST = RetryPolicy(max_attempts=4, backoff_initial_s=0.01, backoff_max_s=0.05, deadline_s=60)


async def _sync(sandbox: Sandbox, *site_ids: str) -> RunReport:
    async with KrakenFlexClient(sandbox.url, sandbox.api_key, policy=FAST) as client:
        return await sync_sites(
            site_ids,
            options=SyncOptions(since=CUTOFF),
            upstream=client,
            reports=None,
            clock=lambda: datetime.now(UTC),
        )


def _multiset(items: Any) -> Counter[tuple[str, str, str, str]]:
    return Counter((i["id"], i["name"], i["begin"], i["end"]) for i in items)


def _of(items: Sequence[SiteOutage]) -> Counter[tuple[str, str, str, str]]:
    return Counter((i.id, i.name, i.begin, i.end) for i in items)


async def test_a_large_body_is_fetched_byte_for_byte(sandbox: Sandbox) -> None:
    sandbox.dataset = generate_dataset(30_000, devices=8, sites=1, seed=1)
    async with KrakenFlexClient(sandbox.url, sandbox.api_key, policy=FAST) as client:
        fetched = await client.fetch_outages()
    body = sandbox.dataset.outages_body
    assert len(body) > 3_000_000
    assert fetched.value.outages == [Outage(r["id"], r["begin"], r["end"]) for r in json.loads(body)]


async def test_a_large_payload_is_streamed_accepted_and_retried(sandbox: Sandbox) -> None:
    sandbox.dataset = generate_dataset(30_000, devices=8, sites=1, seed=2)
    sandbox.set_faults(FailFirst(1, target="POST /site-outages"))
    (site,) = (await _sync(sandbox, "site-1")).sites
    assert site.status is SiteStatus.SUCCEEDED, site.error
    assert site.calls["POST /site-outages"].attempts == 2
    assert site.kept > 10_000  # more than 1 MB of JSON: sent in pieces
    assert site.fetched == 30_000 == site.kept + site.dropped_before_cutoff + site.dropped_unknown_device
    assert _multiset(sandbox.accepted("site-1")) == _of(site.items)


async def test_many_sites_share_one_get_and_each_gets_its_own_outages(sandbox: Sandbox) -> None:
    sandbox.dataset = generate_dataset(20_000, devices=400, sites=25, seed=3)
    sites = list(sandbox.dataset.sites)
    report = await _sync(sandbox, *sites)
    assert [s.status for s in report.sites] == [SiteStatus.SUCCEEDED] * 25, [s.error for s in report.sites]
    assert sum(1 for r in sandbox.requests if (r.method, r.path) == ("GET", "/outages")) == 1
    for site in report.sites:
        assert _multiset(sandbox.accepted(site.site_id)) == _of(site.items)
        assert site.fetched == 20_000 == site.kept + site.dropped_before_cutoff + site.dropped_unknown_device
    assert sum(site.kept for site in report.sites) > 8_000
