"""The sandbox's fast payload check: the same verdicts as the plain check, for every way of writing a body."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime

import msgspec
import pytest

from outagesync.adapters.krakenflex.decode import decode_outages, decode_site_info
from outagesync.domain.payload import encode_payload
from outagesync.domain.select import select_site_outages
from outagesync.sandbox.data import Dataset, load_default_dataset
from outagesync.sandbox.payload import check_payload, read_items
from outagesync.sandbox.synthetic import generate_dataset

CUTOFF = datetime(2022, 1, 1, tzinfo=UTC)


def _our_payload(dataset: Dataset, site_id: str) -> bytes:
    info = decode_site_info(dataset.site_info_body(site_id) or b"", site_id)
    outages = decode_outages(dataset.outages_body).outages
    return encode_payload(select_site_outages(outages, info, CUTOFF).items)


@pytest.mark.parametrize(
    "dataset",
    [load_default_dataset(), generate_dataset(5_000, devices=40, sites=3, seed=7)],
    ids=["real", "synthetic"],
)
def test_the_expected_body_is_what_a_right_client_posts_and_is_the_right_payload(dataset: Dataset) -> None:
    for site_id in dataset.sites:
        expected = dataset.expected_body(site_id)
        assert expected == _our_payload(dataset, site_id)
        _, received, problem = read_items(expected)
        assert (problem, Counter(received)) == (None, dataset.right_payload(site_id))


def test_a_body_in_any_order_or_formatting_is_judged_as_the_plain_check_does() -> None:
    dataset = generate_dataset(3_000, devices=8, sites=1, seed=3)
    right = dataset.right_payload("site-1")
    assert right is not None
    expected = dataset.expected_body("site-1")
    items = json.loads(expected or b"")
    assert check_payload(expected or b"", right, expected) == (expected, None)  # kept as bytes
    shuffled = random.Random(1).sample(items, len(items))
    for body in (json.dumps(shuffled).encode(), json.dumps(items, indent=2).encode()):
        accepted, problem = check_payload(body, right, expected)
        assert problem is None
        assert _multiset(msgspec.to_builtins(accepted)) == _multiset(items)
    wrong = [*items[:-1], {**items[-1], "name": "Someone else"}]
    accepted, problem = check_payload(json.dumps(wrong).encode(), right, expected)
    assert accepted == []
    assert problem is not None
    assert problem.startswith("1 missing and 1 unexpected item(s)")
    assert 'name "Someone else" differs from the expected' in problem


def _multiset(items: list[dict[str, str]]) -> Counter[str]:
    return Counter(json.dumps(item, sort_keys=True) for item in items)
