"""Shell completion (`outagesync --install-completion`): managed site ids from the report database, and
report statuses. A completion is quick and never fails loudly: on any problem it offers nothing.
"""

from __future__ import annotations

import threading

from outagesync.domain.models import SiteStatus
from outagesync.errors import OutageSyncError

TIMEOUT_S = 2.0  # an unreachable database server must not hang the shell


def complete_site_ids(incomplete: str) -> list[str]:
    """The managed site ids that start with what was typed (none when the database cannot say, quickly)."""
    found: list[str] = []
    thread = threading.Thread(target=lambda: found.extend(_managed_site_ids(incomplete)), daemon=True)
    thread.start()
    thread.join(TIMEOUT_S)
    return [] if thread.is_alive() else found


def complete_statuses(incomplete: str) -> list[str]:
    """Report statuses that start with what was typed."""
    return [status.value for status in SiteStatus if status.value.startswith(incomplete)]


def _managed_site_ids(prefix: str) -> list[str]:
    from outagesync import bootstrap
    from outagesync.config import load_settings

    try:
        return bootstrap.managed_site_ids(load_settings(), prefix)
    except (OutageSyncError, OSError):
        return []
