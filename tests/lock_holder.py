"""A process that holds one lock of a report database until it is killed: another sync, for tests.

`python -m tests.lock_holder DATABASE_URL KEY` prints "held" once it holds KEY (e.g. site:kingfisher).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

from outagesync.adapters.storage import SqlStore


async def _hold(database_url: str, key: str) -> None:
    locks = SqlStore.from_url(database_url).open_locks()
    if not await locks.try_acquire(key):
        raise SystemExit(f"{key} is held by another holder")
    print("held", flush=True)
    await asyncio.sleep(3600)  # until the test kills this process (SIGKILL: no cleanup runs)


def start_holder(database_url: str, key: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The holder as a child process; returns once it holds the lock."""
    command = [sys.executable, "-m", "tests.lock_holder", database_url, key]
    holder = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)  # noqa: S603 (fixed)
    assert holder.stdout is not None
    line = holder.stdout.readline()
    if line != "held\n":
        holder.kill()
        holder.communicate()
        raise AssertionError(f"the lock holder did not take {key}: {line!r}")
    return holder


def stop_holder(holder: subprocess.Popen[str]) -> None:
    """SIGKILL, then reap it and close its pipe."""
    holder.kill()
    holder.communicate(timeout=30)


if __name__ == "__main__":
    asyncio.run(_hold(sys.argv[1], sys.argv[2]))
