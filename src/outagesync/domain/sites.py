"""Changes to a managed site as a value: which fields to set, which to clear, which to keep. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from outagesync.domain.models import ManagedSite
from outagesync.domain.serialize import isoformat


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

    @property
    def is_empty(self) -> bool:
        return self.name is KEEP and self.since is KEEP and self.enabled is KEEP


def managed_site_to_dict(site: ManagedSite) -> dict[str, Any]:
    """The JSON shape of a managed site, for `sites ... --json` and the REST API."""
    return {
        "site_id": site.site_id,
        "name": site.name,
        "since": isoformat(site.since) if site.since else None,
        "enabled": site.enabled,
        "created_at": isoformat(site.created_at),
        "updated_at": isoformat(site.updated_at),
    }
