"""The POST body and its digest. Pure; the bytes posted are encoded here, and digested here.

msgspec encodes the Structs directly: the payload of a million items in well under a second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import msgspec

from outagesync.domain.models import SiteOutage

_encoder = msgspec.json.Encoder()
_canonical_encoder = msgspec.json.Encoder(order="sorted")
_PIECE_ITEMS = 10_000  # about 1.3 MB of JSON per piece


def encode_payload(items: Sequence[SiteOutage]) -> bytes:
    """The JSON array posted to `/site-outages/{siteId}`: objects with id, name, begin, end, in order."""
    return _encoder.encode(items)


def payload_pieces(items: Sequence[SiteOutage], per_piece: int = _PIECE_ITEMS) -> Iterator[bytes]:
    """encode_payload's bytes, a piece at a time: a 500,000-item payload (66 MB) is never whole."""
    return _pieces(items, _encoder, per_piece)


def payload_length(items: Sequence[SiteOutage], per_piece: int = _PIECE_ITEMS) -> int:
    """len(encode_payload(items)), from its pieces (the POST's Content-Length)."""
    return sum(len(piece) for piece in payload_pieces(items, per_piece))


def payload_digest(items: Sequence[SiteOutage], per_piece: int = _PIECE_ITEMS) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of the items, in posted order."""
    digest = hashlib.sha256()
    for piece in _pieces(items, _canonical_encoder, per_piece):
        digest.update(piece)
    return digest.hexdigest()


def _pieces(items: Sequence[SiteOutage], encoder: msgspec.json.Encoder, per_piece: int) -> Iterator[bytes]:
    """The array `[a,b,...]` as `[a,...`, `,x,...`, ..., `,z]`: each piece's items encoded together."""
    if not items:
        yield b"[]"
        return
    for start in range(0, len(items), per_piece):
        encoded = encoder.encode(items[start : start + per_piece])  # "[" items "]"
        head = b"[" if start == 0 else b","
        tail = b"]" if start + per_piece >= len(items) else b""
        yield head + encoded[1:-1] + tail
