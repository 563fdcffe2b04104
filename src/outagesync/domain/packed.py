"""Outages and items held packed: their text in one buffer, not a Python object per field.

A decoded outage as an `Outage` and its two strings weighs about 216 bytes; packed, about 60. A million
outages (half of them kept) are then about 30 MB instead of 108, and a site's items are a list of
positions into them (4 bytes each) instead of 500,000 more structs. Both are read-only sequences of the
ordinary values: `Outage` and `SiteOutage` objects are made when read, a slice at a time by the payload
encoder, so only a slice of them exists at once. Pure: no I/O.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import accumulate, chain
from operator import attrgetter, sub
from typing import Any, overload

from outagesync.domain.models import Outage, SiteOutage

_READ_AT_ONCE = 10_000
_ID, _BEGIN, _END = attrgetter("id"), attrgetter("begin"), attrgetter("end")
_ESCAPED = re.compile(r'["\\\x00-\x1f]')  # what JSON writes escaped; any other ASCII is itself


def _json_length(text: str) -> int | None:
    """The length of `text` as a JSON string, quotes included, if nothing in it is escaped."""
    if not text.isascii() or _ESCAPED.search(text) is not None:
        return None
    return len(text) + 2


class PackedOutages(Sequence[Outage]):
    """Outages in upstream order. Each `extend` joins its outages' begin and end texts into one str (a
    block); per outage, a device number, its block and where its begin and end are in it."""

    __slots__ = (
        "_blocks",
        "_device_ids",
        "_devices",
        "_in_block",
        "_lengths",
        "_numbers",
        "_plain",
        "_starts",
    )

    def __init__(self, outages: Iterable[Outage] = ()) -> None:
        self._device_ids: list[str] = []  # one str per device, shared by every outage read
        self._numbers: dict[str, int] = {}
        self._devices = array("I")  # the device number of each outage
        self._in_block = array("I")  # the block of each outage
        self._starts = array("I")  # per outage: where its begin starts, where its end starts, where it ends
        self._lengths = array("I")  # per outage: the length of its begin and end texts
        self._blocks: list[str] = []
        self._plain: list[bool] = []  # per block: ASCII with nothing JSON escapes (its JSON length is known)
        self.extend(outages)

    def extend(self, outages: Iterable[Outage]) -> None:
        outages = list(outages)
        if not outages:
            return
        numbers, ids = self._numbers, self._device_ids
        device_ids = list(map(_ID, outages))
        for device_id in dict.fromkeys(device_ids):  # the piece's devices: a few, whatever the fleet
            if device_id not in numbers:
                numbers[device_id] = len(ids)
                ids.append(device_id)
        self._devices.extend(map(numbers.__getitem__, device_ids))
        texts: list[str] = [""] * (2 * len(outages))
        texts[0::2] = map(_BEGIN, outages)
        texts[1::2] = map(_END, outages)
        offsets = list(accumulate(map(len, texts), initial=0))
        # per outage: its begin's start, its end's start, its end's end
        triples = zip(offsets[0:-1:2], offsets[1::2], offsets[2::2], strict=True)
        self._starts.extend(chain.from_iterable(triples))
        self._lengths.extend(map(sub, offsets[2::2], offsets[0:-1:2]))  # begin and end, together
        self._in_block.extend([len(self._blocks)] * len(outages))
        block = "".join(texts)
        self._blocks.append(block)
        self._plain.append(block.isascii() and _ESCAPED.search(block) is None)

    def device_ids(self) -> list[str]:
        """The device ids, by device number."""
        return self._device_ids

    def device_number(self, position: int) -> int:
        return self._devices[position]

    def device_number_of(self, device_id: str) -> int | None:
        """The number of a device, None if no outage held is of it."""
        return self._numbers.get(device_id)

    def device_numbers(self) -> array[int]:
        """The device number of each outage, in order (read-only)."""
        return self._devices

    def begin(self, position: int) -> str:
        starts = self._starts
        return self._blocks[self._in_block[position]][starts[3 * position] : starts[3 * position + 1]]

    def named(self, positions: Iterable[int], names: Mapping[int, str]) -> list[SiteOutage]:
        """The outages at these positions as items, each named after its device (`names` by number)."""
        ids, devices, blocks, in_block, starts = (
            self._device_ids,
            self._devices,
            self._blocks,
            self._in_block,
            self._starts,
        )
        items = []
        for p in positions:
            block, number, at = blocks[in_block[p]], devices[p], 3 * p
            begin, middle, end = starts[at], starts[at + 1], starts[at + 2]
            items.append(SiteOutage(ids[number], names[number], block[begin:middle], block[middle:end]))
        return items

    def json_length(self, positions: Sequence[int], names: Mapping[int, str]) -> int | None:
        """len(encode_payload(self.named(positions, names))) without making the items, or None if a text
        needs escaping (then encoding is the only exact way to know)."""
        if not all(self._plain):
            return None
        device_ids, devices = self._device_ids, self._devices
        # an item is {"id":ID,"name":NAME,"begin":"BEGIN","end":"END"}: 31 bytes, the two quoted strings
        # ID and NAME, and BEGIN and END (4 more quotes)
        fixed: dict[int, int] = {}
        for number, name in names.items():
            id_length, name_length = _json_length(device_ids[number]), _json_length(name)
            if id_length is None or name_length is None:
                return None
            fixed[number] = 35 + id_length + name_length
        per_device = Counter(map(devices.__getitem__, positions))  # counted in C
        texts = sum(map(self._lengths.__getitem__, positions))
        total = texts + sum(fixed[number] * count for number, count in per_device.items())
        return total + max(len(positions) - 1, 0) + 2  # commas and brackets

    def clear(self) -> None:
        del (
            self._devices[:],
            self._in_block[:],
            self._starts[:],
            self._lengths[:],
            self._blocks[:],
            self._plain[:],
        )

    def __len__(self) -> int:
        return len(self._devices)

    @overload
    def __getitem__(self, index: int) -> Outage: ...

    @overload
    def __getitem__(self, index: slice) -> list[Outage]: ...

    def __getitem__(self, index: int | slice) -> Outage | list[Outage]:
        if isinstance(index, slice):
            return [self._outage(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("outage index out of range")
        return self._outage(index)

    def __iter__(self) -> Iterator[Outage]:
        return (self._outage(i) for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=False))

    __hash__ = None  # type: ignore[assignment]  # appended to: not hashable, as a list is not

    def __repr__(self) -> str:
        return f"PackedOutages({list(self)!r})"

    def _outage(self, i: int) -> Outage:
        block, starts, at = self._blocks[self._in_block[i]], self._starts, 3 * i
        begin, middle, end = starts[at], starts[at + 1], starts[at + 2]
        return Outage(self._device_ids[self._devices[i]], block[begin:middle], block[middle:end])


class PackedItems(Sequence[SiteOutage]):
    """A site's items: positions in a PackedOutages, each named after its device. Immutable."""

    __slots__ = ("_digest", "_names", "_outages", "_positions")

    def __init__(self, outages: PackedOutages, positions: array[int], names: Mapping[int, str]) -> None:
        self._outages = outages
        self._positions = positions
        self._names = names  # device number -> device name
        self._digest: str | None = None

    @property
    def digest(self) -> str | None:
        """The payload digest, once worked out (domain/payload.py): the items never change."""
        return self._digest

    def remember_digest(self, digest: str) -> None:
        self._digest = digest

    def json_length(self) -> int | None:
        """The length of the items as posted JSON, if it can be known without encoding them."""
        return self._outages.json_length(self._positions, self._names)

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, index: int) -> SiteOutage: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[SiteOutage, ...]: ...

    def __getitem__(self, index: int | slice) -> SiteOutage | tuple[SiteOutage, ...]:
        if isinstance(index, slice):
            return tuple(self._outages.named(self._positions[index], self._names))
        return self._outages.named([self._positions[index]], self._names)[0]

    def __iter__(self) -> Iterator[SiteOutage]:
        positions = self._positions
        for start in range(0, len(positions), _READ_AT_ONCE):  # made a slice at a time, not all at once
            yield from self._outages.named(positions[start : start + _READ_AT_ONCE], self._names)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=False))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"PackedItems({list(self)!r})"

    def _item(self, position: int) -> SiteOutage:
        outage = self._outages[position]
        return SiteOutage(
            outage.id, self._names[self._outages.device_number(position)], outage.begin, outage.end
        )


def as_sequence(items: Any) -> Sequence[SiteOutage]:
    """Items as stored in a result: packed items as they are, anything else as a tuple."""
    return items if isinstance(items, PackedItems) else tuple(items)
