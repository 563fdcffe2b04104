"""The payload encoded a piece at a time is the payload: same bytes, same length, same digest."""

from __future__ import annotations

import hashlib

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from outagesync.domain.models import SiteOutage
from outagesync.domain.payload import encode_payload, payload_digest, payload_length, payload_pieces

_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
_items = st.lists(st.builds(SiteOutage, _text, _text, _text, _text), max_size=40)


@settings(max_examples=200, deadline=None)
@given(_items, st.integers(1, 7))
def test_pieces_rebuild_the_payload_exactly(items: list[SiteOutage], per_piece: int) -> None:
    pieces = list(payload_pieces(items, per_piece))  # many pieces out of few items
    assert b"".join(pieces) == encode_payload(items)
    assert payload_length(items, per_piece) == len(encode_payload(items))
    assert len(pieces) == max(1, -(-len(items) // per_piece))
    canonical = msgspec.json.Encoder(order="sorted").encode(items)
    assert payload_digest(items, per_piece) == payload_digest(items) == hashlib.sha256(canonical).hexdigest()
