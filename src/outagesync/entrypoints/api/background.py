"""REST syncs that outlive their request: started as tasks of the app, answered within a wait, else 202.

A client waits at most OUTAGESYNC_SYNC_WAIT seconds (none with `Prefer: respond-async`, RFC 7240); a
sync still running then goes on in the server and the answer is 202 with its report's URL (status
`running` until it ends). At shutdown, the syncs still running are cancelled and awaited: they store
their unfinished sites as `interrupted`. No business logic: only when to answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from outagesync.domain.models import RunReport

log = logging.getLogger("outagesync.api")
Recorded = Callable[[RunReport], None]


@dataclass(frozen=True, slots=True)
class Accepted:
    """The sync goes on in the server; `running` is its run as recorded before its first POST."""

    running: RunReport


class BackgroundSyncs:
    """The app's syncs in flight (they are not the requests' tasks: a request may end first)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[RunReport]] = set()

    async def run_or_accept(
        self, start: Callable[[Recorded], Awaitable[RunReport]], *, wait_s: float
    ) -> RunReport | Accepted:
        """Run `start(on_recorded)` as a task; its report if it ends within `wait_s`, else Accepted
        (once the run is recorded; a run that is never recorded, a dry run, is waited for)."""
        recorded: list[RunReport] = []
        known = asyncio.Event()

        def on_recorded(running: RunReport) -> None:
            recorded.append(running)
            known.set()

        task = asyncio.ensure_future(start(on_recorded))
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        await asyncio.wait({task}, timeout=wait_s)  # the request's own cancellation leaves the task be
        if not task.done():
            noted = asyncio.ensure_future(known.wait())
            await asyncio.wait({task, noted}, return_when=asyncio.FIRST_COMPLETED)
            noted.cancel()
        if task.done():
            return task.result()
        return Accepted(recorded[0])

    async def shutdown(self) -> None:
        """Cancel every sync still running and wait for each to store its report."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            log.warning(
                "stopping %d sync(s) still running: their unfinished sites are interrupted", len(tasks)
            )
            await asyncio.gather(*tasks, return_exceptions=True)

    def _finished(self, task: asyncio.Task[RunReport]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and not task.get_loop().is_closed():
            # nobody may be waiting for it any more (the request was answered 202): say what happened
            log.error("a sync running in the background failed: %s", task.exception())
