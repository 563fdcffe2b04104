"""One page of a report's posted items, searched: what the report page shows. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from outagesync.domain.models import SiteOutage

ITEMS_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class ItemsPage:
    """`items` of page `page` (1-based) of `pages`; `matching` items contain the search text."""

    items: tuple[SiteOutage, ...]
    page: int
    pages: int
    matching: int


def page_of_items(
    items: Sequence[SiteOutage], *, text: str = "", page: int = 1, size: int = ITEMS_PAGE_SIZE
) -> ItemsPage:
    """The items whose device id, name, begin or end contains `text` (any case), page `page` of them
    (clamped to the pages there are)."""
    needle = text.strip().casefold()
    found = [
        item
        for item in items
        if not needle
        or any(needle in field.casefold() for field in (item.id, item.name, item.begin, item.end))
    ]
    pages = max(1, -(-len(found) // size))
    page = min(max(page, 1), pages)
    return ItemsPage(tuple(found[(page - 1) * size : page * size]), page, pages, len(found))
