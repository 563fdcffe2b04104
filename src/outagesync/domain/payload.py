"""The POST body and its digest. Pure; the bytes posted are the bytes digested and reported."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import msgspec

from outagesync.domain.models import SiteOutage
from outagesync.errors import InvalidSiteId

_encoder = msgspec.json.Encoder()
_canonical_encoder = msgspec.json.Encoder(order="sorted")
_SITE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,127}")


def encode_payload(items: Sequence[SiteOutage]) -> bytes:
    """The JSON array posted to `/site-outages/{siteId}`: objects with id, name, begin, end, in order."""
    return _encoder.encode(items)


def payload_digest(items: Sequence[SiteOutage]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of the items, in posted order."""
    return hashlib.sha256(_canonical_encoder.encode(items)).hexdigest()


def check_site_id(site_id: str) -> str:
    """The site id if it is safe to put in an upstream URL path, else InvalidSiteId."""
    if not _SITE_ID.fullmatch(site_id):
        raise InvalidSiteId(
            f"invalid site id {site_id!r}: use 1-128 letters, digits, '-', '_', '.' or '~', "
            "starting with a letter or digit"
        )
    return site_id
