"""The rules: which outages a site gets. Pure functions, upstream order and repeated outages kept."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from itertools import chain

from outagesync.domain.models import DecodedOutages, Outage, Selection, SiteInfo
from outagesync.domain.timestamps import is_before

DeviceIndex = Mapping[str, list[int]]  # device id -> positions of its outages, ascending


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


def index_by_device(outages: Sequence[Outage]) -> DeviceIndex:
    """Where each device's outages are in `outages`: built once, it lets each of many sites look at its
    own devices' outages only, instead of at all of them."""
    index: dict[str, list[int]] = {}
    for position, outage in enumerate(outages):
        positions = index.get(outage.id)
        if positions is None:
            index[outage.id] = [position]
        else:
            positions.append(position)
    return index


def select_decoded_site_outages(
    decoded: DecodedOutages, site: SiteInfo, since: datetime, index: DeviceIndex | None = None
) -> Selection:
    """select_site_outages over decoded outages, the ones decoding released included in the counts.

    Released outages began before decoding's `release_before`, which must be at or before `since`:
    they count as dropped before the cutoff (a device of the site) or for an unknown device, as do the
    outages decoding dropped for a device of no site of the run (`foreign_count`). With the
    `index` of `decoded.outages`, only the site's devices' outages are looked at (same result).
    """
    device_ids = {device.id for device in site.devices}
    released_here = sum(decoded.released.get(device_id, 0) for device_id in device_ids)
    not_looked_at = 0
    outages: Sequence[Outage] = decoded.outages
    if index is not None:
        positions = sorted(chain.from_iterable(index.get(device_id, ()) for device_id in device_ids))
        not_looked_at = len(outages) - len(positions)
        outages = [outages[position] for position in positions]
    selection = select_site_outages(outages, site, since)
    return Selection(
        selection.items,
        dropped_before_cutoff=selection.dropped_before_cutoff + released_here,
        dropped_unknown_device=selection.dropped_unknown_device
        + not_looked_at
        + decoded.released_count
        - released_here
        + decoded.foreign_count,
    )
