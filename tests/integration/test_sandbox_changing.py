"""The sandbox's changing data over real HTTP: a new version per GET /outages, POSTs of any version."""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from outagesync.sandbox import Dataset, FailFirst, Sandbox, generate_dataset

NORWICH = "norwich-pear-tree"
MARKER_BEGIN = "2023-01-01T00:00:00.000Z"
DEFAULT_SITES = ["norwich-pear-tree", "kingfisher", "zurich-lindenhof", "empty-acres"]
TLS = ssl.create_default_context()  # one for every client: building one per client costs ~50 ms


@pytest.fixture
def changing(sandbox: Sandbox) -> Sandbox:
    sandbox.changing = True
    return sandbox


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers={"x-api-key": sandbox.api_key}, verify=TLS) as client:
        yield client


def _marker(device_id: str, version: int) -> dict[str, str]:
    return {"id": device_id, "begin": MARKER_BEGIN, "end": f"2023-01-01T00:00:{version:02d}.000Z"}


def _first_device(client: httpx.Client, site_id: str) -> dict[str, str]:
    device: dict[str, str] = client.get(f"/site-info/{site_id}").json()["devices"][0]
    return device


def _payload(outages: list[dict[str, Any]], client: httpx.Client, site_id: str) -> list[dict[str, str]]:
    """The right payload for some fetched outages, by the plain rule on canonical timestamps."""
    names = {d["id"]: d["name"] for d in client.get(f"/site-info/{site_id}").json()["devices"]}
    return [
        {"id": o["id"], "name": names[o["id"]], "begin": o["begin"], "end": o["end"]}
        for o in outages
        if o["id"] in names and o["begin"] >= "2022-01-01T00:00:00.000Z"
    ]


def _fetch_payload(client: httpx.Client, site_id: str) -> list[dict[str, str]]:
    return _payload(client.get("/outages").json(), client, site_id)


def _detail(response: httpx.Response) -> str:
    assert response.status_code == 400
    assert response.json()["message"] == "Unexpected outages received"
    detail: str = response.json()["detail"]
    return detail


# --- what is served


def test_each_get_serves_the_next_version_with_one_marker_per_site(
    changing: Sandbox, client: httpx.Client
) -> None:
    base = json.loads(changing.dataset.outages_body)
    firsts = [_first_device(client, site_id)["id"] for site_id in DEFAULT_SITES]
    for version in (1, 2, 3):
        response = client.get("/outages")
        assert response.status_code == 200
        assert response.headers["x-sandbox-version"] == str(version)
        outages = response.json()
        assert outages[: len(base)] == base
        assert outages[len(base) :] == [_marker(device_id, version) for device_id in firsts]
    assert changing.version == 3


def test_the_marker_of_each_version_is_in_every_sites_right_payload(
    changing: Sandbox, client: httpx.Client
) -> None:
    for version, site_id in enumerate(DEFAULT_SITES, start=1):
        payload = _fetch_payload(client, site_id)
        device = _first_device(client, site_id)
        assert payload[-1] == {**_marker(device["id"], version), "name": device["name"]}
        response = client.post(f"/site-outages/{site_id}", json=payload)
        assert response.status_code == 200
        assert response.headers["x-sandbox-version"] == str(version)
        assert changing.accepted_versions(site_id) == [version]


def test_a_get_answered_by_a_fault_serves_no_version(changing: Sandbox, client: httpx.Client) -> None:
    changing.set_faults(FailFirst(1, target="GET /outages"))
    assert client.get("/outages").status_code == 500
    assert client.get("/outages").headers["x-sandbox-version"] == "1"
    assert changing.version == 1


def test_every_synthetic_site_gets_a_marker(changing: Sandbox, client: httpx.Client) -> None:
    changing.dataset = generate_dataset(500, devices=20, sites=4, seed=7)
    outages = client.get("/outages").json()
    assert len(outages) == 504
    for site_id in ("site-1", "site-2", "site-3", "site-4"):
        payload = _payload(outages, client, site_id)
        assert client.post(f"/site-outages/{site_id}", json=payload).status_code == 200
        assert changing.accepted_versions(site_id) == [1]


def test_a_site_without_devices_is_recorded_as_the_newest_version(
    changing: Sandbox, client: httpx.Client
) -> None:
    device = {"id": "d-1", "name": "Battery 1"}
    changing.dataset = Dataset(
        [{"id": "d-1", "begin": "2022-05-01T00:00:00.000Z", "end": "2022-05-02T00:00:00.000Z"}],
        [{"id": "bare", "name": "Bare", "devices": []}, {"id": "full", "name": "Full", "devices": [device]}],
    )
    assert [o["id"] for o in client.get("/outages").json()] == ["d-1", "d-1"]
    client.get("/outages")
    assert client.post("/site-outages/bare", json=[]).headers["x-sandbox-version"] == "2"
    assert changing.accepted_versions("bare") == [2]


def test_a_body_that_is_not_an_array_is_served_unchanged(changing: Sandbox, client: httpx.Client) -> None:
    changing.dataset = Dataset(sites=[{"id": "s", "name": "S", "devices": []}], outages_body=b"<html>")
    response = client.get("/outages")
    assert (response.content, response.headers["x-sandbox-version"]) == (b"<html>", "1")


def test_without_changing_nothing_is_versioned(sandbox: Sandbox, client: httpx.Client) -> None:
    response = client.get("/outages")
    assert response.content == sandbox.dataset.outages_body
    assert "x-sandbox-version" not in response.headers
    posted = client.post(f"/site-outages/{NORWICH}", json=_payload(response.json(), client, NORWICH))
    assert (posted.status_code, posted.content) == (200, b"{}")
    assert "x-sandbox-version" not in posted.headers
    assert "x-sandbox-version" not in client.get(f"/_sandbox/site-outages/{NORWICH}").headers
    assert (sandbox.version, sandbox.accepted_versions(NORWICH)) == (0, [])


# --- what is accepted, and recorded


def test_a_stale_payload_is_accepted_and_recorded_as_its_version(
    changing: Sandbox, client: httpx.Client
) -> None:
    first = _fetch_payload(client, NORWICH)
    client.get("/outages")
    client.get("/outages")
    response = client.post(f"/site-outages/{NORWICH}", json=first)
    assert (response.status_code, response.headers["x-sandbox-version"]) == (200, "1")
    assert changing.accepted_versions(NORWICH) == [1]
    assert changing.accepted(NORWICH) == first
    read_back = client.get(f"/_sandbox/site-outages/{NORWICH}")
    assert (read_back.json(), read_back.headers["x-sandbox-version"]) == (first, "1")


def test_accepted_versions_are_listed_in_the_order_accepted(changing: Sandbox, client: httpx.Client) -> None:
    payloads = [_fetch_payload(client, NORWICH) for _ in range(3)]
    for version in (3, 1, 2, 1):
        assert client.post(f"/site-outages/{NORWICH}", json=payloads[version - 1]).status_code == 200
    assert changing.accepted_versions(NORWICH) == [3, 1, 2, 1]
    assert changing.accepted_versions("kingfisher") == []
    assert client.get(f"/_sandbox/site-outages/{NORWICH}").headers["x-sandbox-version"] == "1"


def test_an_overlapping_stale_sync_is_reported_as_the_last_write(
    changing: Sandbox, client: httpx.Client
) -> None:
    slow = _fetch_payload(client, NORWICH)  # sync A fetches version 1, then stalls
    fast = _fetch_payload(client, NORWICH)  # sync B fetches version 2 and posts it
    assert client.post(f"/site-outages/{NORWICH}", json=fast).status_code == 200
    assert client.post(f"/site-outages/{NORWICH}", json=slow).status_code == 200  # A overwrites it
    assert changing.accepted_versions(NORWICH) == [2, 1]


def test_a_payload_of_no_version_served_is_400(changing: Sandbox, client: httpx.Client) -> None:
    payload = _fetch_payload(client, NORWICH)
    client.get("/outages")
    unmarked = payload[:-1]
    assert _detail(client.post(f"/site-outages/{NORWICH}", json=unmarked)).startswith(
        "matches none of the versions 1–2 served; against version 2: 1 missing and 0 unexpected item(s)"
    )
    unserved = [*unmarked, {**payload[-1], "end": "2023-01-01T00:00:05.000Z"}]
    assert _detail(client.post(f"/site-outages/{NORWICH}", json=unserved)).startswith(
        "matches none of the versions 1–2 served; against version 2: 1 missing and 1 unexpected item(s)"
    )
    incomplete = payload[1:]
    assert _detail(client.post(f"/site-outages/{NORWICH}", json=incomplete)).startswith(
        "matches none of the versions 1–2 served; against version 1: 1 missing and 0 unexpected item(s)"
    )
    assert changing.accepted(NORWICH) is None
    assert changing.accepted_versions(NORWICH) == []


def test_a_post_before_any_version_was_served_is_400(changing: Sandbox, client: httpx.Client) -> None:
    assert _detail(client.post("/site-outages/empty-acres", json=[])) == (
        "no version of the data with this site was served yet (GET /outages first)"
    )


def test_schema_errors_are_reported_as_without_changing_data(changing: Sandbox, client: httpx.Client) -> None:
    client.get("/outages")
    detail = _detail(client.post(f"/site-outages/{NORWICH}", content=b'{"id": "x"}'))
    assert detail == "the body must be a JSON array of outages, not an object"


def test_only_the_last_1000_versions_are_kept(changing: Sandbox, client: httpx.Client) -> None:
    device = {"id": "d-1", "name": "Battery 1"}
    changing.dataset = Dataset([], [{"id": "s", "name": "S", "devices": [device]}])
    first = _fetch_payload(client, "s")
    second = _fetch_payload(client, "s")
    for _ in range(999):
        client.get("/outages")
    assert changing.version == 1001
    assert _detail(client.post("/site-outages/s", json=first)).startswith(
        "matches none of the versions 2–1001 served; against version 1001:"
    )
    assert client.post("/site-outages/s", json=second).status_code == 200


def test_turning_changing_off_serves_and_accepts_the_plain_data(
    changing: Sandbox, client: httpx.Client
) -> None:
    versioned = _fetch_payload(client, NORWICH)
    changing.changing = False
    plain = _fetch_payload(client, NORWICH)
    assert client.post(f"/site-outages/{NORWICH}", json=versioned).status_code == 400
    assert client.post(f"/site-outages/{NORWICH}", json=plain).status_code == 200
    assert "x-sandbox-version" not in client.get(f"/_sandbox/site-outages/{NORWICH}").headers
    assert (changing.version, changing.accepted_versions(NORWICH)) == (1, [])


def test_reset_turns_changing_off_and_forgets_the_versions(changing: Sandbox, client: httpx.Client) -> None:
    client.post(f"/site-outages/{NORWICH}", json=_fetch_payload(client, NORWICH))
    changing.reset()
    assert (changing.changing, changing.version, changing.accepted_versions(NORWICH)) == (False, 0, [])
    assert client.get("/outages").content == changing.dataset.outages_body


def test_the_request_log_names_the_versions(
    changing: Sandbox, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="outagesync.sandbox")
    client.post("/site-outages/empty-acres", json=_fetch_payload(client, "empty-acres"))
    client.get("/_sandbox/requests")  # a request is logged after its answer: one more, and the POST's is in
    messages = [r.getMessage().split(" ", 3) for r in caplog.records if r.name == "outagesync.sandbox"]
    messages = [m for m in messages if not m[1].startswith("/_sandbox/")]
    assert [(m[0], m[1], m[2], m[3].split(" ms", 1)[1]) for m in messages] == [
        ("GET", "/outages", "200", " (version 1)"),
        ("GET", "/site-info/empty-acres", "200", ""),
        ("POST", "/site-outages/empty-acres", "200", " (version 1)"),
    ]


def test_a_sandbox_can_start_changing() -> None:
    with Sandbox(changing=True) as own:
        response = httpx.get(own.url + "/outages", headers={"x-api-key": own.api_key}, verify=TLS)
        assert (own.changing, response.headers["x-sandbox-version"], own.version) == (True, "1", 1)
