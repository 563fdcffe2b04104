"""The POST body and its digest. Pure; the bytes posted are encoded here, and digested here.

msgspec encodes the Structs directly: the payload of a million items in well under a second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import msgspec

from outagesync.domain.models import SiteOutage
from outagesync.domain.packed import PackedItems

_encoder = msgspec.json.Encoder()
_canonical_encoder = msgspec.json.Encoder(order="sorted")
_PIECE_ITEMS = 10_000  # about 1.3 MB of JSON per piece


def encode_payload(items: Sequence[SiteOutage]) -> bytes:
    """The JSON array posted to `/site-outages/{siteId}`: objects with id, name, begin, end, in order."""
    return _encoder.encode(items if isinstance(items, list | tuple) else list(items))


def payload_pieces(items: Sequence[SiteOutage], per_piece: int = _PIECE_ITEMS) -> Iterator[bytes]:
    """encode_payload's bytes, a piece at a time: a 500,000-item payload (66 MB) is never whole.

    Packed items are read once for both: their digest is worked out on the way and remembered.
    """
    if isinstance(items, PackedItems) and items.digest is None:
        return _pieces_digesting(items, per_piece)
    return (piece for piece, _ in _pieces(items, per_piece, canonical=False))


def payload_length(items: Sequence[SiteOutage], per_piece: int = _PIECE_ITEMS) -> int:
    """len(encode_payload(items)) (the POST's Content-Length): counted from packed items' texts when
    nothing in them is escaped, else from the encoded pieces."""
    if isinstance(items, PackedItems) and (length := items.json_length()) is not None:
        return length
    return sum(len(piece) for piece, _ in _pieces(items, per_piece, canonical=False))


def payload_digest(items: Sequence[SiteOutage], per_piece: int = _PIECE_ITEMS) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of the items, in posted order."""
    if isinstance(items, PackedItems) and items.digest is not None:
        return items.digest
    digest = hashlib.sha256()
    for _, canonical in _pieces(items, per_piece, posted=False):
        digest.update(canonical)
    return digest.hexdigest()


def _pieces_digesting(items: PackedItems, per_piece: int) -> Iterator[bytes]:
    digest = hashlib.sha256()
    for piece, canonical in _pieces(items, per_piece):
        digest.update(canonical)
        yield piece
    items.remember_digest(digest.hexdigest())


def _pieces(
    items: Sequence[SiteOutage], per_piece: int, *, posted: bool = True, canonical: bool = True
) -> Iterator[tuple[bytes, bytes]]:
    """The array `[a,b,...]` as `[a,...`, `,x,...`, ..., `,z]`, posted and canonical (b"" if not asked):
    each piece's items are made and encoded together."""
    if not items:
        yield b"[]", b"[]"
        return
    for start in range(0, len(items), per_piece):
        chunk = items[start : start + per_piece]
        head = b"[" if start == 0 else b","
        tail = b"]" if start + per_piece >= len(items) else b""
        as_posted = head + _encoder.encode(chunk)[1:-1] + tail if posted else b""
        as_canonical = head + _canonical_encoder.encode(chunk)[1:-1] + tail if canonical else b""
        yield as_posted, as_canonical
