"""The KrakenFlex client against the sandbox over real HTTP: retries, Retry-After, errors, deadlines.

Waits are not waited: the client's sleep and clock are a fake (`Waits`), so the tests assert the waits
the client decided, exactly, in no time.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from outagesync.adapters.krakenflex.client import KrakenFlexClient, RetryPolicy, _retry_after
from outagesync.domain.models import Device, Outage, SiteInfo, SiteOutage
from outagesync.errors import ApiKeyRejected, PayloadRejected, UnknownSite, UpstreamError, UpstreamUnavailable
from outagesync.sandbox import DropConnection, FailFirst, Latency, RateLimit, Sandbox, ServerError
from outagesync.sandbox.faults import TruncatedBody

DATA = Path(__file__).parent.parent / "data"
FAST = RetryPolicy(max_attempts=4, backoff_initial_s=0.01, backoff_max_s=0.05, deadline_s=20)


class Waits:
    """A fake clock and sleep: sleeping records the wait and moves the clock, at once."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


class Highest(random.Random):
    """Jitter that always draws the top of its range: the waits become exact."""

    def uniform(self, a: float, b: float) -> float:
        return b


def _client(
    sandbox: Sandbox,
    policy: RetryPolicy = FAST,
    *,
    key: str | None = None,
    timeout_s: float = 5,
    waits: Waits | None = None,
) -> KrakenFlexClient:
    waits = waits or Waits()
    return KrakenFlexClient(
        sandbox.url,
        key or sandbox.api_key,
        policy=policy,
        timeout_s=timeout_s,
        monotonic=waits.monotonic,
        sleep=waits.sleep,
        rng=Highest(),
    )


def _outages(body: bytes) -> list[Outage]:
    return [Outage(r["id"], r["begin"], r["end"]) for r in json.loads(body)]


def _statuses(sandbox: Sandbox, path: str) -> list[int | None]:
    return [r.status for r in sandbox.requests if r.path == path]


async def test_fetches_the_real_outages_decoded(sandbox: Sandbox) -> None:
    async with _client(sandbox) as client:
        fetched = await client.fetch_outages()
    assert fetched.value.outages == _outages(sandbox.dataset.outages_body)
    assert (fetched.value.invalid, fetched.value.released_count, fetched.attempts) == ([], 0, 1)


async def test_fetches_the_site_info_decoded(sandbox: Sandbox) -> None:
    async with _client(sandbox) as client:
        fetched = await client.fetch_site_info("kingfisher")
    raw = json.loads(sandbox.dataset.site_info_body("kingfisher") or b"")
    devices = [Device(d["id"], d["name"]) for d in raw["devices"]]
    assert (fetched.value, fetched.attempts) == (SiteInfo(raw["id"], raw["name"], devices), 1)


async def test_posts_the_items_as_the_payload(sandbox: Sandbox) -> None:
    expected = json.loads((DATA / "expected_kingfisher.json").read_text())
    items = [SiteOutage(**item) for item in expected]
    async with _client(sandbox) as client:
        posted = await client.post_site_outages("kingfisher", items)
    assert (posted.status, posted.attempts) == (200, 1)
    assert sandbox.accepted("kingfisher") == expected


@pytest.mark.parametrize(
    ("target", "call"),
    [("GET /outages", "outages"), ("GET /site-info", "site-info"), ("POST /site-outages", "post")],
)
async def test_500s_are_retried_on_every_endpoint(sandbox: Sandbox, target: str, call: str) -> None:
    sandbox.set_faults(FailFirst(2, target=target))
    async with _client(sandbox) as client:
        if call == "outages":
            attempts = (await client.fetch_outages()).attempts
        elif call == "site-info":
            attempts = (await client.fetch_site_info("kingfisher")).attempts
        else:
            attempts = (await client.post_site_outages("empty-acres", [])).attempts
    assert attempts == 3
    assert [r.status for r in sandbox.requests] == [500, 500, 200]


async def test_retry_after_is_respected(sandbox: Sandbox) -> None:
    sandbox.set_faults(RateLimit(1, per_s=3600, retry_after_s=2, target="GET /outages"))
    waits = Waits()
    policy = RetryPolicy(max_attempts=3, backoff_initial_s=0.01, rate_limit_max_attempts=5)
    async with _client(sandbox, policy, waits=waits) as client:
        await client.fetch_outages()
        with pytest.raises(UpstreamUnavailable, match=r"rate limited \(429\); gave up after 3 attempts"):
            await client.fetch_outages()
    assert waits.slept == [2.0, 2.0]  # the hint, larger than our own backoff (0.04 s, then 0.08 s)
    assert _statuses(sandbox, "/outages") == [200, 429, 429, 429]


async def test_retry_after_beyond_the_cap_fails_fast_and_says_when(sandbox: Sandbox) -> None:
    sandbox.set_faults(RateLimit(1, per_s=3600, retry_after_s=3600))
    policy = RetryPolicy(max_attempts=5, backoff_initial_s=0.01, retry_after_max_s=10)
    waits = Waits()
    async with _client(sandbox, policy, waits=waits) as client:
        await client.fetch_outages()
        with pytest.raises(UpstreamUnavailable, match=r"asks to retry after 3600 s \(at \d{4}-\d\d-\d\d"):
            await client.fetch_outages()
    assert waits.slept == []


async def test_429_without_retry_after_gets_few_slow_retries(sandbox: Sandbox) -> None:
    policy = RetryPolicy(max_attempts=10, backoff_initial_s=0.01, rate_limit_max_attempts=3)
    waits = Waits()
    async with _client(sandbox, policy, waits=waits) as client:
        with pytest.raises(UpstreamUnavailable, match="still rate limited after 3 attempts") as info:
            await client.fetch_site_info("too-much-too-soon")
    assert info.value.attempts == 3
    assert waits.slept == [0.04, 0.08]  # 4x slower than a 5xx's 0.01 s, 0.02 s
    assert _statuses(sandbox, "/site-info/too-much-too-soon") == [429, 429, 429]


async def test_403_is_not_retried_and_never_shows_the_key(sandbox: Sandbox) -> None:
    async with _client(sandbox, key="wrong-key-123") as client:
        with pytest.raises(ApiKeyRejected, match="the API key was rejected") as info:
            await client.fetch_outages()
    assert "wrong-key-123" not in str(info.value)
    assert _statuses(sandbox, "/outages") == [403]


async def test_404_is_an_unknown_site(sandbox: Sandbox) -> None:
    async with _client(sandbox) as client:
        with pytest.raises(UnknownSite, match="unknown site: nowhere"):
            await client.fetch_site_info("nowhere")
        with pytest.raises(UnknownSite):
            await client.post_site_outages("nowhere", [])
    assert [r.status for r in sandbox.requests] == [404, 404]


async def test_400_carries_the_upstream_message(sandbox: Sandbox) -> None:
    async with _client(sandbox) as client:
        with pytest.raises(
            PayloadRejected, match="the upstream rejected the payload: Unexpected outages received"
        ):
            await client.post_site_outages("norwich-pear-tree", [])
    assert _statuses(sandbox, "/site-outages/norwich-pear-tree") == [400]


async def test_a_timeout_is_retried(sandbox: Sandbox) -> None:
    sandbox.set_faults(Latency(1000, target="GET /site-info/zurich-lindenhof"))
    waits = Waits()
    policy = RetryPolicy(max_attempts=2, backoff_initial_s=0.01)
    async with _client(sandbox, policy, timeout_s=0.05, waits=waits) as client:
        with pytest.raises(
            UpstreamUnavailable, match=r"timed out waiting for 127.0.0.1:\d+; gave up after 2 attempts"
        ):
            await client.fetch_site_info("zurich-lindenhof")
    assert waits.slept == [0.01]


async def test_dropped_connections_and_cut_off_bodies_are_retried(sandbox: Sandbox) -> None:
    sandbox.set_faults(DropConnection(rate=0.5, target="GET /outages"), TruncatedBody(rate=0.5), seed=7)
    policy = RetryPolicy(max_attempts=20, backoff_initial_s=0.001, backoff_max_s=0.01)
    async with _client(sandbox, policy) as client:
        for _ in range(5):
            fetched = await client.fetch_outages()
            assert fetched.value.outages == _outages(sandbox.dataset.outages_body)
    faults = {r.fault for r in sandbox.requests}
    assert {"dropped-connection", "truncated-body"} <= faults


async def test_persistent_failure_ends_within_the_deadline(sandbox: Sandbox) -> None:
    sandbox.set_faults(ServerError(rate=1.0))
    policy = RetryPolicy(max_attempts=100, backoff_initial_s=0.2, backoff_max_s=0.4, deadline_s=1.0)
    waits = Waits()
    async with _client(sandbox, policy, waits=waits) as client:
        with pytest.raises(
            UpstreamUnavailable, match=r"server error 500; the run's deadline \(1 s\) would pass"
        ) as info:
            await client.fetch_outages()
    # 0.2 + 0.4 + 0.4 reaches the deadline exactly; one more 0.4 would pass it, so no fifth attempt
    assert (waits.slept, info.value.attempts) == ([0.2, 0.4, 0.4], 4)


def test_retry_after_parsing() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    later = format_datetime(now + timedelta(hours=2), usegmt=True)
    assert _retry_after(httpx.Response(429, headers={"retry-after": later}), now=now) == 7200.0
    assert _retry_after(httpx.Response(429, headers={"retry-after": "2.5"})) == 2.5
    for garbage in ("0", "-5", "soon", "", "nan", "inf", "Mon, 01 Jan 2001 00:00:00 GMT"):
        assert _retry_after(httpx.Response(429, headers={"retry-after": garbage})) is None


@pytest.mark.parametrize("base", ["/interview-tests-mock-api/v1", "/interview-tests-mock-api/v1/"])
async def test_base_url_path_prefix_is_kept(sandbox: Sandbox, base: str) -> None:
    async with KrakenFlexClient(sandbox.url + base, sandbox.api_key, policy=FAST) as client:
        with pytest.raises(UpstreamError):  # the sandbox serves at its root: the prefixed path is not found
            await client.fetch_site_info("kingfisher")
    paths = [r.path for r in sandbox.requests if "kingfisher" in r.path]
    assert paths == ["/interview-tests-mock-api/v1/site-info/kingfisher"]
