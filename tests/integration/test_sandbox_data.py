"""The sandbox's data: the default dataset, datasets from code and files, the seeded synthetic generator."""

from __future__ import annotations

import json
import re
import ssl
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from outagesync.sandbox import (
    Dataset,
    Sandbox,
    generate_dataset,
    load_dataset_file,
    load_default_dataset,
)

CANONICAL = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
DEVICE = "11111111-1111-4111-8111-111111111111"
# One TLS context for every client: building one per httpx.Client costs ~50 ms, and we only speak HTTP.
TLS = ssl.create_default_context()
SITE = {"id": "offset-site", "name": "Offset Site", "devices": [{"id": DEVICE, "name": "Batterie Nº 1"}]}


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers={"x-api-key": sandbox.api_key}, verify=TLS) as client:
        yield client


def test_default_dataset_sites_and_the_size_of_their_right_payloads() -> None:
    dataset = load_default_dataset()
    sizes = {site_id: dataset.right_payload(site_id).total() for site_id in dataset.sites}  # type: ignore[union-attr]
    assert sizes == {"norwich-pear-tree": 10, "kingfisher": 3, "zurich-lindenhof": 6, "empty-acres": 0}
    assert dataset.outage_count == 127


def test_default_dataset_has_outages_of_devices_in_no_site_and_from_2020_to_2023() -> None:
    dataset = load_default_dataset()
    outages = json.loads(dataset.outages_body)
    site_devices = {d["id"] for site in dataset.sites.values() for d in site["devices"]}
    assert sum(o["id"] not in site_devices for o in outages) >= 90
    assert {o["begin"][:4] for o in outages} == {"2020", "2021", "2022", "2023"}
    assert any(o["begin"] == "2022-01-01T00:00:00.000Z" for o in outages)


def test_timestamps_with_offsets_are_compared_as_instants(sandbox: Sandbox, client: httpx.Client) -> None:
    outages = [
        {"id": DEVICE, "begin": "2022-01-01T00:30:00.000+01:00", "end": "2022-01-02T00:00:00.000+01:00"},
        {
            "id": DEVICE,
            "begin": "2022-01-01T01:00:00+01:00",
            "end": "2022-01-02T00:00:00+01:00",
        },  # the cutoff
    ]
    sandbox.dataset = Dataset(outages, [SITE])
    assert client.get("/outages").json() == outages
    right = [{"id": DEVICE, "name": "Batterie Nº 1", "begin": outages[1]["begin"], "end": outages[1]["end"]}]
    assert client.post("/site-outages/offset-site", json=right).status_code == 200


def test_malformed_records_are_served_as_given_and_never_expected(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    outages = [
        {"id": DEVICE, "end": "2022-08-22T10:04:53.554Z"},
        {"id": DEVICE, "begin": 1650000000, "end": "2022-08-22T10:04:53.554Z"},
        {"id": DEVICE, "begin": "yesterday", "end": "2022-08-22T10:04:53.554Z"},
        "not an object",
    ]
    sandbox.dataset = Dataset(outages, {"offset-site": SITE})
    assert client.get("/outages").json() == outages
    assert client.post("/site-outages/offset-site", json=[]).status_code == 200


def test_a_raw_body_is_served_byte_for_byte(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.dataset = Dataset(outages_body=b'[{"id": "x", "begin": "2022-01-01T00:00:00.000Z"', sites=[SITE])
    assert client.get("/outages").content == b'[{"id": "x", "begin": "2022-01-01T00:00:00.000Z"'
    assert client.post("/site-outages/offset-site", json=[]).status_code == 200


def test_right_payloads_come_from_a_raw_body_that_parses() -> None:
    body = json.dumps(
        [{"id": DEVICE, "begin": "2023-01-01T00:00:00.000Z", "end": "2023-01-02T00:00:00.000Z"}]
    )
    dataset = Dataset(outages_body=body.encode(), sites=[SITE])
    assert dataset.right_payload("offset-site") == Counter(
        {(DEVICE, "Batterie Nº 1", "2023-01-01T00:00:00.000Z", "2023-01-02T00:00:00.000Z"): 1}
    )
    assert dataset.right_payload("no-such-site") is None


def test_a_dataset_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "dataset.json"
    outages = [{"id": DEVICE, "begin": "2022-03-01T00:00:00.000Z", "end": "2022-03-02T00:00:00.000Z"}]
    path.write_text(json.dumps({"description": "one outage", "outages": outages, "sites": [SITE]}))
    dataset = load_dataset_file(path)
    assert json.loads(dataset.outages_body) == outages
    assert dataset.right_payload("offset-site").total() == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"outages": [], "site": []}', "unknown key(s) site"),
        ('{"outages": {}}', "'outages' must be a list"),
        ('{"sites": [{"name": "no id"}]}', "needs a string 'id'"),
    ],
)
def test_a_bad_dataset_file_is_refused_with_the_reason(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(problem)):
        load_dataset_file(path)


def test_the_generator_is_deterministic_for_a_seed() -> None:
    first = generate_dataset(5_000, 200, 20, seed=3)
    assert generate_dataset(5_000, 200, 20, seed=3).outages_body == first.outages_body
    assert generate_dataset(5_000, 200, 20, seed=4).outages_body != first.outages_body
    assert first.sites == generate_dataset(5_000, 200, 20, seed=3).sites


def test_generated_data_has_the_requested_shape() -> None:
    dataset = generate_dataset(20_000, 500, 40, seed=1)
    outages = json.loads(dataset.outages_body)
    assert len(outages) == dataset.outage_count == 20_000
    assert len({o["id"] for o in outages}) <= 500
    assert [o["id"] for o in outages] == sorted(o["id"] for o in outages)
    assert len(CANONICAL.findall(dataset.outages_body)) == 40_000
    assert {o["begin"][:4] for o in outages} == {"2020", "2021", "2022", "2023"}
    in_sites = {d["id"] for site in dataset.sites.values() for d in site["devices"]}
    assert len(dataset.sites) == 40
    assert 0 < len({o["id"] for o in outages} - in_sites) < 50


def test_generated_sites_accept_their_right_payload(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.dataset = generate_dataset(20_000, 500, 40, seed=9)
    outages = client.get("/outages").json()
    site = client.get("/site-info/site-07").json()
    names = {d["id"]: d["name"] for d in site["devices"]}
    payload = [
        {"id": o["id"], "name": names[o["id"]], "begin": o["begin"], "end": o["end"]}
        for o in outages
        if o["id"] in names and o["begin"] >= "2022-01-01T00:00:00.000Z"
    ]
    assert payload
    assert client.post("/site-outages/site-07", json=payload).status_code == 200
    assert client.post("/site-outages/site-07", json=payload[1:]).status_code == 400


def test_a_large_wrong_post_is_summarised_not_echoed(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.dataset = generate_dataset(1_000, 100, 10, seed=2)
    item = {"id": DEVICE, "name": "n", "begin": "2022-01-01T00:00:00.000Z", "end": "2022-01-02T00:00:00.000Z"}
    detail = client.post("/site-outages/site-01", json=[item] * 50_000).json()["detail"]
    assert "50000 unexpected" in detail
    assert "and 49997 more" in detail
    assert len(detail) < 2_000
