"""Running a use case's coroutine from synchronous code (the CLI, the Python API's blocking calls)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_to_value(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main), without asyncio's two full repr()s of the result on the way out.

    CPython 3.11 and 3.12 before the fix of python/cpython#112559 repr the main task, result included,
    when they restore the SIGINT handler: for a 500,000-item report that took 1.2 s and 100+ MB.
    """
    import asyncio  # imported here: it adds to every command's start-up, `--help` included

    values: list[T] = []

    async def boxed() -> None:
        values.append(await main)

    asyncio.run(boxed())
    return values[0]
