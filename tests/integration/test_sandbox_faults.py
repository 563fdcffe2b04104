"""Every fault type of the sandbox over real HTTP: 500s, first-N failures, rate limits, latency, broken
bodies, dropped connections, targeting and reproducibility."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator

import httpx
import pytest

from outagesync.sandbox import (
    DropConnection,
    FailFirst,
    Latency,
    RateLimit,
    Sandbox,
    ServerError,
    TruncatedBody,
)
from outagesync.sandbox.faults import FaultInjector

# One TLS context for every client: building one per httpx.Client costs ~50 ms, and we only speak HTTP.
TLS = ssl.create_default_context()


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers={"x-api-key": sandbox.api_key}, verify=TLS) as client:
        yield client


def _statuses(client: httpx.Client, path: str, times: int) -> list[int]:
    return [client.get(path).status_code for _ in range(times)]


def test_server_errors_follow_the_seed(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(ServerError(0.5), seed=42)
    first = _statuses(client, "/outages", 30)
    sandbox.set_faults(ServerError(0.5), seed=42)
    again = _statuses(client, "/outages", 30)
    sandbox.set_faults(ServerError(0.5), seed=43)
    other = _statuses(client, "/outages", 30)
    assert first == again != other
    assert set(first) == {200, 500}


def test_a_server_error_has_api_gateways_body_or_the_one_given(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    sandbox.set_faults(ServerError(1.0, target="GET /outages"), ServerError(1.0, body=b"<html>oops</html>"))
    outages, site = client.get("/outages"), client.get("/site-info/kingfisher")
    assert (outages.status_code, outages.json()) == (500, {"message": "Internal server error"})
    assert (site.status_code, site.content) == (500, b"<html>oops</html>")
    assert [r.fault for r in sandbox.requests] == ["server-error", "server-error"]


def test_the_first_n_requests_of_the_target_fail(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(FailFirst(2, target="GET /outages"))
    assert client.get("/site-info/kingfisher").status_code == 200
    assert _statuses(client, "/outages", 4) == [500, 500, 200, 200]


def test_a_fault_targets_one_method_and_path_prefix(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(FailFirst(10, target="POST /site-outages"))
    assert client.get("/outages").status_code == 200
    assert client.get("/site-info/empty-acres").status_code == 200
    assert client.post("/site-outages/empty-acres", json=[]).status_code == 500


def test_rate_limit_answers_429_with_retry_after_then_recovers(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    sandbox.set_faults(RateLimit(2, per_s=0.3))
    assert _statuses(client, "/outages", 2) == [200, 200]
    throttled = client.get("/site-info/kingfisher")
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "1"  # whole seconds, rounded up
    assert throttled.json() == {"message": "Too Many Requests"}


def test_the_rate_limit_window_slides_on_the_injected_clock() -> None:
    now = [100.0]
    injector = FaultInjector([RateLimit(2, per_s=0.3)], clock=lambda: now[0])
    assert [injector.decide("GET", "/outages").status for _ in range(3)] == [None, None, 429]
    now[0] += 0.29
    assert injector.decide("GET", "/outages").retry_after_s == 1  # 0.01 s left, rounded up to whole seconds
    now[0] += 0.01
    assert [injector.decide("GET", "/outages").status for _ in range(3)] == [None, None, 429]


def test_rate_limit_sends_the_retry_after_given(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(RateLimit(1, retry_after_s=7, target="/site-info"))
    assert _statuses(client, "/site-info/kingfisher", 2) == [200, 429]
    assert client.get("/site-info/kingfisher").headers["retry-after"] == "7"
    assert client.get("/outages").status_code == 200


def test_latency_delays_only_the_target(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(Latency(200, target="GET /site-info"))
    started = time.perf_counter()
    assert client.get("/site-info/kingfisher").status_code == 200
    assert time.perf_counter() - started >= 0.2
    started = time.perf_counter()
    client.get("/outages")
    assert time.perf_counter() - started < 0.2
    assert [r.fault for r in sandbox.requests] == ["latency", None]


def test_a_truncated_body_is_a_200_with_invalid_json(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(TruncatedBody())
    response = client.get("/outages")
    assert response.status_code == 200
    assert response.content == sandbox.dataset.outages_body[: len(response.content)]
    assert 0 < len(response.content) < len(sandbox.dataset.outages_body)
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_only_successes_are_truncated(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(TruncatedBody())
    assert client.get("/site-info/no-such-site").json() == {"message": "Site not found"}
    assert sandbox.requests[-1].fault is None


def test_a_dropped_connection_is_a_transport_error_not_a_response(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    sandbox.set_faults(DropConnection(target="GET /outages"))
    with pytest.raises(httpx.TransportError):
        client.get("/outages")
    assert client.get("/site-info/kingfisher").status_code == 200  # the same client reconnects
    assert [(r.path, r.status, r.fault) for r in sandbox.requests] == [
        ("/outages", None, "dropped-connection"),
        ("/site-info/kingfisher", 200, None),
    ]


def test_a_dropped_post_is_a_transport_error_too(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(DropConnection(target="POST"))
    with pytest.raises(httpx.TransportError):
        client.post("/site-outages/norwich-pear-tree", json=[{"id": "x" * 100_000}])
    assert sandbox.accepted("norwich-pear-tree") is None


def test_drop_rate_follows_the_seed(sandbox: Sandbox, client: httpx.Client) -> None:
    def run() -> list[int | None]:
        outcomes: list[int | None] = []
        for _ in range(12):
            try:
                outcomes.append(client.get("/outages").status_code)
            except httpx.TransportError:
                outcomes.append(None)
        return outcomes

    sandbox.set_faults(DropConnection(0.5), seed=7)
    first = run()
    sandbox.set_faults(DropConnection(0.5), seed=7)
    assert run() == first
    assert set(first) == {None, 200}


def test_faults_spare_requests_with_a_wrong_key(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(FailFirst(1))
    assert client.get("/outages", headers={"x-api-key": "wrong"}).status_code == 403
    assert _statuses(client, "/outages", 2) == [500, 200]


def test_the_first_fault_that_fires_decides_and_latencies_add(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(Latency(60), FailFirst(1), ServerError(1.0, body=b"second"), Latency(60))
    started = time.perf_counter()
    first, second = client.get("/outages"), client.get("/outages")
    assert time.perf_counter() - started >= 0.24  # 2 x (60 + 60) ms
    assert (first.status_code, second.content) == (500, b"second")
    assert [r.fault for r in sandbox.requests] == ["fail-first", "server-error"]


def test_faults_given_to_the_constructor_come_back_on_reset() -> None:
    with (
        Sandbox(faults=[FailFirst(1)]) as sandbox,
        httpx.Client(headers={"x-api-key": sandbox.api_key}, verify=TLS) as client,
    ):
        assert _statuses(client, sandbox.url + "/outages", 2) == [500, 200]
        sandbox.reset()
        assert _statuses(client, sandbox.url + "/outages", 2) == [500, 200]
        sandbox.clear_faults()
        assert sandbox.faults == ()


def test_the_sandbox_endpoints_are_never_faulted(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(ServerError(1.0), DropConnection())
    assert client.get("/_sandbox/requests").status_code == 200


@pytest.mark.parametrize(
    "make",
    [
        lambda: ServerError(1.5),
        lambda: DropConnection(-0.1),
        lambda: FailFirst(-1),
        lambda: RateLimit(0),
        lambda: Latency(-5),
        lambda: TruncatedBody(target="outages"),
        lambda: ServerError(target="GET /a /b"),
    ],
)
def test_invalid_faults_are_refused(make: object) -> None:
    with pytest.raises(ValueError, match=r"."):
        make()  # type: ignore[operator]
