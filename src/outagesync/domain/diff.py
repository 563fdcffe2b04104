"""What changes between two outage lists: items added, removed, and changed in place.

An item is identified by its device and its begin time (`id`, `begin`): the same outage with a new
`end` or a renamed device is *changed*, not removed and added. Lists are multisets (the upstream may
repeat an outage), so equal items are matched one for one before anything is called a change.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from outagesync.domain.models import SiteOutage


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One outage whose `end` or `name` differs between the lists."""

    before: SiteOutage
    after: SiteOutage

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the fields that changed, in item order."""
        before, after = self.before, self.after
        return tuple(name for name in ("name", "end") if getattr(before, name) != getattr(after, name))


@dataclass(frozen=True, slots=True)
class ItemsDiff:
    """`before` → `after`: every item of `after` is unchanged, added, or the `after` of a change."""

    added: tuple[SiteOutage, ...]
    removed: tuple[SiteOutage, ...]
    changed: tuple[ItemChange, ...]
    unchanged: int

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    @property
    def summary(self) -> str:
        """`+2 -1 ~3 =10`: added, removed, changed, unchanged."""
        return f"+{len(self.added)} -{len(self.removed)} ~{len(self.changed)} ={self.unchanged}"


def _order(item: SiteOutage) -> tuple[str, str, str, str]:
    return (item.begin, item.id, item.end, item.name)


def diff_items(before: Iterable[SiteOutage], after: Iterable[SiteOutage]) -> ItemsDiff:
    """The changes that turn `before` into `after` (as multisets), each group sorted by begin, device."""
    old, new = Counter(before), Counter(after)
    unchanged = sum((old & new).values())
    gone, came = old - new, new - old
    gone_by_key: defaultdict[tuple[str, str], list[SiteOutage]] = defaultdict(list)
    for item in sorted(gone.elements(), key=_order):
        gone_by_key[item.id, item.begin].append(item)
    added: list[SiteOutage] = []
    changed: list[ItemChange] = []
    for item in sorted(came.elements(), key=_order):
        candidates = gone_by_key.get((item.id, item.begin))
        if candidates:
            changed.append(ItemChange(candidates.pop(0), item))
        else:
            added.append(item)
    removed = sorted((item for rest in gone_by_key.values() for item in rest), key=_order)
    return ItemsDiff(tuple(added), tuple(removed), tuple(changed), unchanged)
