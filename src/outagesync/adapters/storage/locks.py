"""Named locks beside the report database, for the services' SiteLocks port.

- PostgreSQL: session advisory locks on one connection per holder; every process and machine sharing
  the database agrees, and a holder that dies (its connection closes) holds nothing.
- SQLite file: `flock` on one file per key in a `locks/` directory beside the database: every process of
  the machine agrees (two holders in one process too: each open file is its own lock owner), and the
  kernel drops the lock of a process that dies, SIGKILL included.
- SQLite in memory: a lock table in this process (nothing else can share that database anyway).

Taking a lock never waits (the services poll, see services/locking.py).
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import threading
from pathlib import Path
from typing import IO, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import URL

from outagesync.adapters.storage.engine import storage_errors
from outagesync.errors import StorageError

log = logging.getLogger("outagesync.storage")


def lock_number(key: str) -> int:
    """A stable signed 64-bit number for `key` (PostgreSQL's advisory lock space); outagesync's keys
    are prefixed so they cannot meet another application's numbers by design."""
    digest = hashlib.sha256(b"outagesync:" + key.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class FileLocks:
    """flock-based locks in `directory`, one file per key (names made safe by hashing)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._held: dict[str, IO[bytes]] = {}

    async def try_acquire(self, key: str) -> bool:
        return self.try_acquire_now(key)

    async def release(self, key: str) -> None:
        self.release_now(key)

    async def close(self) -> None:
        for key in list(self._held):
            self.release_now(key)

    def try_acquire_now(self, key: str) -> bool:
        if key in self._held:
            return True
        self.directory.mkdir(parents=True, exist_ok=True)
        file = self._path(key).open("ab")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        self._held[key] = file
        return True

    def release_now(self, key: str) -> None:
        file = self._held.pop(key, None)
        if file is not None:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
            file.close()

    def is_free(self, key: str) -> bool:
        """Whether nobody holds `key` now (tried and let go at once)."""
        if key in self._held:
            return False
        if not self._path(key).exists():
            return True
        probe = FileLocks(self.directory)
        free = probe.try_acquire_now(key)
        probe.release_now(key)
        return free

    def _path(self, key: str) -> Path:
        kind, _, name = key.partition(":")
        return self.directory / f"{kind}-{hashlib.sha256(name.encode()).hexdigest()[:32]}.lock"


class ProcessLocks:
    """Locks for an in-memory database: a set of held keys shared by the holders of this process."""

    _held: ClassVar[dict[str, int]] = {}  # key -> id of the holder
    _guard: ClassVar[threading.Lock] = threading.Lock()

    async def try_acquire(self, key: str) -> bool:
        with self._guard:
            owner = self._held.setdefault(key, id(self))
            return owner == id(self)

    async def release(self, key: str) -> None:
        with self._guard:
            if self._held.get(key) == id(self):
                del self._held[key]

    async def close(self) -> None:
        with self._guard:
            for key in [k for k, owner in self._held.items() if owner == id(self)]:
                del self._held[key]

    def is_free(self, key: str) -> bool:
        with self._guard:
            return key not in self._held


class PostgresLocks:
    """Advisory locks held on one connection of `engine` (opened on first use, closed with the holder)."""

    def __init__(self, engine: sa.Engine, url: URL) -> None:
        self.engine = engine
        self.url = url
        self._connection: sa.Connection | None = None
        self._guard = threading.Lock()  # one connection: one statement at a time
        self._held: set[str] = set()  # advisory locks count: take each key once, release it once

    async def try_acquire(self, key: str) -> bool:
        if key in self._held:
            return True
        if await asyncio.to_thread(self._execute, "pg_try_advisory_lock", key):
            self._held.add(key)
            return True
        return False

    async def release(self, key: str) -> None:
        if key in self._held:
            self._held.discard(key)
            try:
                await asyncio.to_thread(self._execute, "pg_advisory_unlock", key)
            except StorageError as exc:  # the connection is gone, and the server dropped its locks with it
                log.warning("releasing %s: %s (the lock went with its connection)", key, exc)
                self._forget_connection()

    async def close(self) -> None:
        await asyncio.to_thread(self.close_now)

    def close_now(self) -> None:
        with self._guard:
            self._held.clear()
            if self._connection is not None:
                connection, self._connection = self._connection, None
                try:
                    with storage_errors(self.url):
                        connection.execute(sa.select(sa.func.pg_advisory_unlock_all()))
                        connection.close()
                except StorageError as exc:  # a dead connection holds nothing
                    log.warning("closing the lock connection: %s", exc)
                    connection.invalidate()

    def _forget_connection(self) -> None:
        with self._guard:
            if self._connection is not None:
                self._connection.invalidate()
                self._connection = None

    def is_free(self, key: str) -> bool:
        if key in self._held:
            return False
        with storage_errors(self.url), self.engine.connect() as connection:
            number = lock_number(key)
            if not connection.execute(sa.select(sa.func.pg_try_advisory_lock(number))).scalar():
                return False
            connection.execute(sa.select(sa.func.pg_advisory_unlock(number)))
            return True

    def _execute(self, function: str, key: str) -> bool:
        with self._guard, storage_errors(self.url):
            if self._connection is None:
                # autocommit: a session lock outlives transactions, and no transaction stays open
                self._connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            result = self._connection.execute(sa.select(getattr(sa.func, function)(lock_number(key))))
            return bool(result.scalar())


def lock_directory(database: Path) -> Path:
    """Where the lock files of a SQLite database live: beside it."""
    return database.parent / "locks" / database.name


__all__ = ["FileLocks", "PostgresLocks", "ProcessLocks", "lock_directory", "lock_number"]
