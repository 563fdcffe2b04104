"""Waiting for a site's lock: the keys, and the polling (its clock and sleep injected). No I/O of its own.

A sync holds `site:<id>` from before the `GET /outages` whose data it posts until that site's POST has
settled, so two syncs of one site never interleave; it holds `run:<id>` while the run is recorded as
`running`, so a reader can tell a live run from one whose process died (`abandoned`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from outagesync.services.ports import SiteLocks

Sleep = Callable[[float], Awaitable[None]]
POLL_S = (0.05, 0.1, 0.2, 0.5)  # between tries while waiting; then every 0.5 s


def site_key(site_id: str) -> str:
    return f"site:{site_id}"


def run_key(run_id: str) -> str:
    return f"run:{run_id}"


async def acquire_waiting(
    locks: SiteLocks,
    key: str,
    *,
    wait_s: float,
    clock: Callable[[], datetime],
    sleep: Sleep,
    on_wait: Callable[[], None] | None = None,
) -> bool:
    """Take `key`, waiting up to `wait_s` seconds for its holder; False if it stayed held.

    `on_wait` is called once, when the first try finds the lock held.
    """
    started = clock()
    attempt = 0
    while not await locks.try_acquire(key):
        waited = (clock() - started).total_seconds()
        if waited >= wait_s:
            return False
        if attempt == 0 and on_wait is not None:
            on_wait()
        await sleep(min(POLL_S[min(attempt, len(POLL_S) - 1)], wait_s - waited))
        attempt += 1
    return True
