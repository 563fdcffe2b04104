"""Run status, payload encoding and digest, site ids."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outagesync.domain.ids import check_site_id
from outagesync.domain.models import RunStatus, SiteOutage, SiteStatus, run_status
from outagesync.domain.payload import encode_payload, payload_digest
from outagesync.errors import InvalidSiteId

S = SiteStatus


@pytest.mark.parametrize(
    ("statuses", "dry_run", "expected"),
    [
        ([S.SUCCEEDED, S.SUCCEEDED], False, RunStatus.SUCCEEDED),
        ([S.SUCCEEDED, S.FAILED], False, RunStatus.PARTIAL),
        ([S.FAILED, S.FAILED], False, RunStatus.FAILED),
        ([S.SUCCEEDED, S.INTERRUPTED], False, RunStatus.INTERRUPTED),
        ([S.DRY_RUN], True, RunStatus.DRY_RUN),
        ([S.DRY_RUN, S.FAILED], True, RunStatus.PARTIAL),
    ],
)
def test_run_status(statuses: list[SiteStatus], dry_run: bool, expected: RunStatus) -> None:
    assert run_status(statuses, dry_run=dry_run) is expected


_items = st.lists(
    st.builds(SiteOutage, id=st.text(), name=st.text(), begin=st.text(), end=st.text()), max_size=10
)


@given(_items)
def test_payload_is_the_items_with_exactly_four_fields(items: list[SiteOutage]) -> None:
    decoded = json.loads(encode_payload(items))
    assert decoded == [{"id": i.id, "name": i.name, "begin": i.begin, "end": i.end} for i in items]
    assert all(list(obj) == ["id", "name", "begin", "end"] for obj in decoded)


@given(_items)
def test_digest_is_sha256_of_canonical_json(items: list[SiteOutage]) -> None:
    canonical = json.dumps(
        [{"id": i.id, "name": i.name, "begin": i.begin, "end": i.end} for i in items],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert payload_digest(items) == hashlib.sha256(canonical.encode()).hexdigest()


@pytest.mark.parametrize("site_id", ["norwich-pear-tree", "kingfisher", "too-much-too-soon", "Site_1.a~b"])
def test_valid_site_ids(site_id: str) -> None:
    assert check_site_id(site_id) == site_id


@pytest.mark.parametrize("site_id", ["", "../etc", "a/b", "a b", "-x", "é", "x" * 129, "a?b=c"])
def test_invalid_site_ids(site_id: str) -> None:
    with pytest.raises(InvalidSiteId, match="invalid site id"):
        check_site_id(site_id)
