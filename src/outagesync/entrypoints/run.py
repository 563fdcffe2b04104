"""Running a use case's coroutine from synchronous code (the CLI, the Python API's blocking calls)."""

from __future__ import annotations

import signal
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


class Stopped(Exception):
    """The run was cancelled because the process received `signum` (SIGTERM, SIGHUP)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def run_to_value(main: Coroutine[Any, Any, T], *, stop_on: Iterable[signal.Signals] = ()) -> T:
    """asyncio.run(main), and its value; `stop_on` signals cancel `main` as Ctrl-C does, then Stopped.

    SIGINT is asyncio's own: it cancels `main` and raises KeyboardInterrupt. Signal handlers can only be
    installed from the main thread: only the CLI asks for them.

    Also avoids asyncio's two full repr()s of the result on the way out: CPython 3.11 and 3.12 before
    the fix of python/cpython#112559 repr the main task, result included, when they restore the SIGINT
    handler (for a 500,000-item report that took 1.2 s and 100+ MB).
    """
    import asyncio  # imported here: it adds to every command's start-up, `--help` included

    values: list[T] = []
    received: list[int] = []
    signals = tuple(stop_on)

    async def boxed() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def stop(signum: int) -> None:
            received.append(signum)
            task.cancel()

        for signum in signals:
            loop.add_signal_handler(signum, stop, signum)
        try:
            values.append(await main)
        finally:
            for signum in signals:
                loop.remove_signal_handler(signum)

    try:
        asyncio.run(boxed())
    except asyncio.CancelledError:
        if received:
            raise Stopped(received[0]) from None
        raise
    return values[0]
