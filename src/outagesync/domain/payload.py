"""The POST body and its digest. Pure; the bytes posted are encoded here, and digested here.

msgspec encodes the Structs directly: the payload of a million items in well under a second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import msgspec

from outagesync.domain.models import SiteOutage

_encoder = msgspec.json.Encoder()
_canonical_encoder = msgspec.json.Encoder(order="sorted")


def encode_payload(items: Sequence[SiteOutage]) -> bytes:
    """The JSON array posted to `/site-outages/{siteId}`: objects with id, name, begin, end, in order."""
    return _encoder.encode(items)


def payload_digest(items: Sequence[SiteOutage]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of the items, in posted order."""
    return hashlib.sha256(_canonical_encoder.encode(items)).hexdigest()
