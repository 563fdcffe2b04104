"""The rules: which outages a site gets. Pure functions, upstream order and repeated outages kept."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from itertools import chain, compress

from outagesync.domain.models import DecodedOutages, Outage, Selection, SiteInfo
from outagesync.domain.packed import PackedItems, PackedOutages
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
    if isinstance(outages, PackedOutages):
        ids = outages.device_ids()
        by_number: dict[int, list[int]] = {}
        for position in range(len(outages)):
            by_number.setdefault(outages.device_number(position), []).append(position)
        return {ids[number]: positions for number, positions in by_number.items()}
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
    positions: list[int] | None = None
    if index is not None:
        positions = sorted(chain.from_iterable(index.get(device_id, ()) for device_id in device_ids))
        not_looked_at = len(outages) - len(positions)
    if isinstance(outages, PackedOutages):
        # every kept outage began at or after kept_from: with a cutoff no later, none is before it
        check = decoded.kept_from is None or since > decoded.kept_from
        selection = _select_packed(outages, site, since, positions, check_cutoff=check)
    else:
        looked_at = outages if positions is None else [outages[position] for position in positions]
        selection = select_site_outages(looked_at, site, since)
    return Selection(
        selection.items,
        dropped_before_cutoff=selection.dropped_before_cutoff + released_here,
        dropped_unknown_device=selection.dropped_unknown_device
        + not_looked_at
        + decoded.released_count
        - released_here
        + decoded.foreign_count,
    )


def _select_packed(
    outages: PackedOutages,
    site: SiteInfo,
    since: datetime,
    positions: list[int] | None,
    *,
    check_cutoff: bool,
) -> Selection:
    """select_site_outages over packed outages: the items are positions into them (same rule, same order)."""
    named: dict[int, str] = {}  # device number -> name, for the site's devices that have outages
    for device in site.devices:
        number = outages.device_number_of(device.id)
        if number is not None:
            named[number] = device.name
    count = len(outages) if positions is None else len(positions)
    numbers = outages.device_numbers()
    if positions is None:  # every outage: the device numbers are read in C
        on_site = compress(range(len(outages)), map(named.__contains__, numbers))
    else:
        on_site = compress(positions, map(named.__contains__, map(numbers.__getitem__, positions)))
    before_cutoff = 0
    if check_cutoff:
        kept = array("I")
        for position in on_site:
            if is_before(outages.begin(position), since):
                before_cutoff += 1
            else:
                kept.append(position)
    else:
        kept = array("I", on_site)
    unknown_device = count - len(kept) - before_cutoff
    items = PackedItems(outages, kept, named)
    return Selection(items, dropped_before_cutoff=before_cutoff, dropped_unknown_device=unknown_device)
