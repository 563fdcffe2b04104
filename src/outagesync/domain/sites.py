"""Changes to a managed site as a value: which fields to set, which to clear, which to keep. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Literal


class Keep(Enum):
    """The type of KEEP: "leave this field as it is" (None means "clear it")."""

    KEEP = "keep"


KEEP: Literal[Keep.KEEP] = Keep.KEEP


@dataclass(frozen=True, slots=True)
class SiteChanges:
    """A partial update of a managed site: fields left at KEEP do not change; None clears name or since."""

    name: str | Keep | None = KEEP
    since: datetime | Keep | None = KEEP
    enabled: bool | Keep = KEEP
    schedule: str | Keep | None = KEEP  # None clears it (the default schedule applies again)
    allow_empty: bool | Keep = KEEP

    @property
    def is_empty(self) -> bool:
        fields = (self.name, self.since, self.enabled, self.schedule, self.allow_empty)
        return all(value is KEEP for value in fields)
