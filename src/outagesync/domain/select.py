"""The rules: which outages a site gets. Pure functions, upstream order and repeated outages kept."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from outagesync.domain.models import Outage, Selection, SiteInfo
from outagesync.domain.validate import is_before


def select_site_outages(outages: Iterable[Outage], site: SiteInfo, since: datetime) -> Selection:
    """Outages of the site's devices that began at or after `since` (inclusive), named, in upstream order.

    `outages` must have been validated (every `begin` parses). Only `begin` is compared, as an instant;
    `begin` and `end` are passed on exactly as received.
    """
    names = {device.id: device.name for device in site.devices}
    items = []
    before_cutoff = unknown_device = 0
    for outage in outages:
        name = names.get(outage.id)
        if name is None:
            unknown_device += 1
        elif is_before(outage.begin, since):
            before_cutoff += 1
        else:
            items.append(outage.named(name))
    return Selection(items, dropped_before_cutoff=before_cutoff, dropped_unknown_device=unknown_device)
