"""The sandbox against the API contract, over real HTTP: every endpoint, status code, body and header."""

from __future__ import annotations

import json
import logging
import re
import ssl
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from outagesync.sandbox import Dataset, Sandbox

DATA = Path(__file__).parent.parent / "data"
CANONICAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ZURICH = "zurich-lindenhof"
# One TLS context for every client: building one per httpx.Client costs ~50 ms, and we only speak HTTP.
TLS = ssl.create_default_context()


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _as_multiset(items: list[dict[str, str]]) -> Counter[tuple[str, ...]]:
    return Counter((i["id"], i["name"], i["begin"], i["end"]) for i in items)


def _naive_right_payload(client: httpx.Client, site_id: str) -> list[dict[str, str]]:
    """A third implementation of the rule, for canonical timestamps only: plain string comparison."""
    outages = client.get("/outages").json()
    names = {d["id"]: d["name"] for d in client.get(f"/site-info/{site_id}").json()["devices"]}
    return [
        {"id": o["id"], "name": names[o["id"]], "begin": o["begin"], "end": o["end"]}
        for o in outages
        if o["id"] in names and o["begin"] >= "2022-01-01T00:00:00.000Z"
    ]


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers={"x-api-key": sandbox.api_key}, verify=TLS) as client:
        yield client


@pytest.fixture
def anonymous(sandbox: Sandbox) -> Iterator[httpx.Client]:
    """A client that sends no key."""
    with httpx.Client(base_url=sandbox.url, verify=TLS) as client:
        yield client


def _rejection(response: httpx.Response) -> str:
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Unexpected outages received"
    detail: str = body["detail"]
    return detail


# --- 200s


def test_outages_are_served_as_compact_json_with_the_real_headers(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    response = client.get("/outages")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    assert re.fullmatch(r"[0-9a-f-]{36}", response.headers["x-amzn-requestid"])
    assert "server" not in response.headers
    assert response.content == sandbox.dataset.outages_body
    assert b", " not in response.content


def test_default_outages_hold_the_108_real_items_sorted_by_id(client: httpx.Client) -> None:
    outages = client.get("/outages").json()
    assert len(outages) == 127
    assert [o["id"] for o in outages] == sorted(o["id"] for o in outages)
    assert all(CANONICAL.match(o["begin"]) and CANONICAL.match(o["end"]) for o in outages)
    real = Counter(json.dumps(o, sort_keys=True) for o in _load("outages_real.json"))
    served = Counter(json.dumps(o, sort_keys=True) for o in outages)
    assert real - served == Counter()


def test_site_info_of_norwich_pear_tree_is_the_real_one(client: httpx.Client) -> None:
    response = client.get("/site-info/norwich-pear-tree")
    assert response.status_code == 200
    assert response.json() == _load("site_info_norwich.json")


def test_site_info_sends_non_ascii_names_as_utf8(client: httpx.Client) -> None:
    response = client.get(f"/site-info/{ZURICH}")
    assert "Batterie Nº 2 – Zürich".encode() in response.content
    assert response.json()["name"] == "Zürich Lindenhof – Speicher"


def test_real_accepted_payload_is_accepted_for_norwich_pear_tree(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    payload = _load("accepted_norwich.json")
    response = client.post("/site-outages/norwich-pear-tree", json=payload)
    assert response.status_code == 200
    assert sandbox.accepted("norwich-pear-tree") == payload


def test_order_of_items_and_of_keys_does_not_matter(client: httpx.Client) -> None:
    payload = [dict(reversed(list(item.items()))) for item in reversed(_load("accepted_norwich.json"))]
    assert client.post("/site-outages/norwich-pear-tree", json=payload).status_code == 200


@pytest.mark.parametrize(
    ("site_id", "count"), [("norwich-pear-tree", 10), ("kingfisher", 3), (ZURICH, 6), ("empty-acres", 0)]
)
def test_every_default_site_accepts_its_right_payload(client: httpx.Client, site_id: str, count: int) -> None:
    payload = _naive_right_payload(client, site_id)
    assert len(payload) == count
    assert client.post(f"/site-outages/{site_id}", json=payload).status_code == 200


def test_kingfisher_accepts_the_briefs_worked_example(client: httpx.Client) -> None:
    assert client.post("/site-outages/kingfisher", json=_load("expected_kingfisher.json")).status_code == 200


def test_zurich_edge_cases_cutoff_kept_and_a_repeated_outage_counted_twice(client: httpx.Client) -> None:
    payload = _naive_right_payload(client, ZURICH)
    begins = Counter(item["begin"] for item in payload)
    assert begins["2022-01-01T00:00:00.000Z"] == 1
    assert begins["2022-07-14T09:15:00.500Z"] == 2
    assert "2021-12-31T23:59:59.999Z" not in begins
    payload.remove(next(item for item in payload if item["begin"] == "2022-07-14T09:15:00.500Z"))
    detail = _rejection(client.post(f"/site-outages/{ZURICH}", json=payload))
    assert detail.startswith("1 missing and 0 unexpected")


def test_posting_the_right_payload_again_is_accepted_again(client: httpx.Client) -> None:
    payload = _load("accepted_norwich.json")
    statuses = [client.post("/site-outages/norwich-pear-tree", json=payload).status_code for _ in range(2)]
    assert statuses == [200, 200]


# --- 400s


def test_real_subset_payload_is_rejected(client: httpx.Client) -> None:
    detail = _rejection(
        client.post("/site-outages/norwich-pear-tree", json=_load("rejected_subset_norwich.json"))
    )
    assert detail.startswith("7 missing and 0 unexpected")
    assert "Battery 2" in detail


def test_an_empty_list_is_rejected_where_outages_are_due(client: httpx.Client) -> None:
    assert _rejection(client.post("/site-outages/norwich-pear-tree", json=[])).startswith("10 missing")


def test_an_extra_pre_2022_item_is_unexpected(client: httpx.Client) -> None:
    extra = {
        "id": "9ed11921-1c5b-40f4-be66-adb4e2f016bd",
        "name": "Battery 4",
        "begin": "2021-12-31T23:59:59.999Z",
        "end": "2022-02-01T00:00:00.000Z",
    }
    detail = _rejection(
        client.post("/site-outages/norwich-pear-tree", json=[*_load("accepted_norwich.json"), extra])
    )
    assert detail.startswith("0 missing and 1 unexpected")
    assert "2021-12-31T23:59:59.999Z" in detail


def test_a_duplicate_item_is_one_copy_too_many(client: httpx.Client) -> None:
    payload = _load("accepted_norwich.json")
    detail = _rejection(client.post("/site-outages/norwich-pear-tree", json=[*payload, payload[0]]))
    assert "one copy too many" in detail


def test_a_reformatted_timestamp_is_named_as_the_differing_field(client: httpx.Client) -> None:
    payload = _load("accepted_norwich.json")
    payload[1]["begin"] = "2022-01-01T00:00:00Z"  # the real API rejected exactly this
    detail = _rejection(client.post("/site-outages/norwich-pear-tree", json=payload))
    assert 'begin "2022-01-01T00:00:00Z" differs from the expected "2022-01-01T00:00:00.000Z"' in detail


def test_a_wrong_device_name_is_named_as_the_differing_field(client: httpx.Client) -> None:
    payload = _load("accepted_norwich.json")
    payload[0]["name"] = "battery 6"
    assert 'name "battery 6" differs from the expected "Battery 6"' in _rejection(
        client.post("/site-outages/norwich-pear-tree", json=payload)
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"[{", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b'{"id": "x"}', "must be a JSON array of outages, not an object"),
        (b'["x"]', "item 0: must be an object with id, name, begin and end, not a string"),
        (b'[{"id": "a", "begin": "b", "end": "c"}]', "item 0: missing field(s) name"),
        (b'[{"id": "a", "name": "n", "begin": "b", "end": "c", "x": 1}]', "item 0: unexpected field(s) x"),
        (
            b'[{"id": "a", "name": "n", "begin": 20220101, "end": "c"}]',
            "item 0: field begin must be a string",
        ),
        (b'[{"id": "a", "name": null, "begin": "b", "end": "c"}]', "field name must be a string, not null"),
    ],
)
def test_schema_errors_are_400_with_what_is_wrong(client: httpx.Client, body: bytes, expected: str) -> None:
    response = client.post("/site-outages/norwich-pear-tree", content=body)
    assert expected in _rejection(response)


def test_a_rejected_post_keeps_the_last_accepted_list(sandbox: Sandbox, client: httpx.Client) -> None:
    client.post("/site-outages/empty-acres", json=[])
    client.post("/site-outages/empty-acres", json=_load("accepted_norwich.json"))
    assert sandbox.accepted("empty-acres") == []


# --- 403, 404, 429

CALLS = [
    ("GET", "/outages"),
    ("GET", "/site-info/norwich-pear-tree"),
    ("POST", "/site-outages/norwich-pear-tree"),
]


@pytest.mark.parametrize(("method", "path"), CALLS)
@pytest.mark.parametrize("headers", [{}, {"x-api-key": "not_a_valid_key"}], ids=["missing", "wrong"])
def test_missing_or_wrong_key_is_403_forbidden(
    anonymous: httpx.Client, method: str, path: str, headers: dict[str, str]
) -> None:
    response = anonymous.request(method, path, headers=headers, json=[])
    assert response.status_code == 403
    assert response.content == b'{"message":"Forbidden"}'
    assert response.headers["x-amzn-errortype"] == "ForbiddenException"
    assert response.headers["content-type"] == "application/json"


def test_the_key_is_checked_before_the_site(client: httpx.Client) -> None:
    response = client.get("/site-info/no-such-site", headers={"x-api-key": "wrong"})
    assert response.status_code == 403


def test_a_changed_key_applies_at_once(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.api_key = "another-key"
    assert client.get("/outages").status_code == 403
    assert client.get("/outages", headers={"x-api-key": "another-key"}).status_code == 200


@pytest.mark.parametrize(("method", "path"), CALLS[1:])
def test_unknown_site_is_404_before_the_payload_is_read(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path.replace("norwich-pear-tree", "no-such-site"), content=b"not json")
    assert response.status_code == 404
    assert response.content == b'{"message":"Site not found"}'


@pytest.mark.parametrize(("method", "path"), CALLS[1:])
def test_too_much_too_soon_is_429_without_retry_after(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path.replace("norwich-pear-tree", "too-much-too-soon"), json=[])
    assert response.status_code == 429
    assert response.json() == {"message": "You have exceeded your limit for your API key"}
    assert "retry-after" not in response.headers


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nope"), ("POST", "/outages"), ("GET", "/site-outages/x")]
)
def test_unrouted_requests_get_api_gateways_missing_token_403(
    client: httpx.Client, method: str, path: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}


# --- the sandbox's own endpoints and inspection


def test_read_back_returns_the_last_accepted_list_as_received(client: httpx.Client) -> None:
    assert client.get("/_sandbox/site-outages/norwich-pear-tree").status_code == 404
    payload = list(reversed(_load("accepted_norwich.json")))
    client.post("/site-outages/norwich-pear-tree", json=payload)
    response = client.get("/_sandbox/site-outages/norwich-pear-tree")
    assert response.status_code == 200
    assert response.json() == payload


def test_read_back_needs_the_key_and_a_known_site(anonymous: httpx.Client, client: httpx.Client) -> None:
    assert anonymous.get("/_sandbox/site-outages/kingfisher").status_code == 403
    assert client.get("/_sandbox/site-outages/no-such-site").json() == {"message": "Site not found"}


def test_request_log_has_method_path_status_and_never_the_key(
    sandbox: Sandbox, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="outagesync.sandbox")
    sandbox.api_key = "secret-key-4711"
    client.get("/outages", headers={"x-api-key": "secret-key-4711"})
    client.get("/site-info/no-such-site", headers={"x-api-key": "secret-key-4711"})
    client.get("/_sandbox/requests", headers={"x-api-key": "secret-key-4711"})
    assert [(r.method, r.path, r.status) for r in sandbox.requests] == [
        ("GET", "/outages", 200),
        ("GET", "/site-info/no-such-site", 404),
    ]
    assert "GET /outages 200" in caplog.text
    assert "secret-key-4711" not in caplog.text + repr(sandbox.requests)
    sandbox.clear_requests()
    assert sandbox.requests == []


def test_request_log_is_served_as_json(client: httpx.Client) -> None:
    client.get("/outages")
    log = client.get("/_sandbox/requests").json()
    assert [(r["method"], r["path"], r["status"], r["fault"]) for r in log] == [
        ("GET", "/outages", 200, None)
    ]


def test_reset_restores_the_default_dataset_key_and_forgets(sandbox: Sandbox, client: httpx.Client) -> None:
    default_body = sandbox.dataset.outages_body
    client.post("/site-outages/empty-acres", json=[])
    sandbox.dataset = Dataset([], {})
    sandbox.api_key = "changed"
    sandbox.reset()
    assert sandbox.dataset.outages_body == default_body
    assert sandbox.accepted("empty-acres") is None
    assert client.get("/outages").status_code == 200
    assert len(sandbox.requests) == 1


def test_accepted_items_compare_as_a_multiset(sandbox: Sandbox, client: httpx.Client) -> None:
    payload = _load("accepted_norwich.json")
    client.post("/site-outages/norwich-pear-tree", json=payload)
    accepted = sandbox.accepted("norwich-pear-tree")
    assert accepted is not None
    assert _as_multiset(accepted) == _as_multiset(payload)
