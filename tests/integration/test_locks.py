"""Site locks against the real things: flock on files beside SQLite, advisory locks on PostgreSQL.

Holders in other processes are real processes; a holder killed with SIGKILL must hold nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from outagesync.adapters.storage import SqlStore
from tests.lock_holder import start_holder, stop_holder


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    with SqlStore.from_url(database_url) as store:
        store.upgrade()
        yield store


async def test_one_holder_at_a_time_until_released(store: SqlStore) -> None:
    first, second = store.open_locks(), store.open_locks()
    assert await first.try_acquire("site:kingfisher") is True
    assert await first.try_acquire("site:kingfisher") is True  # again by its holder: still held
    assert await second.try_acquire("site:kingfisher") is False
    assert await second.try_acquire("site:norwich-pear-tree") is True  # other keys are independent
    await first.release("site:kingfisher")
    assert await second.try_acquire("site:kingfisher") is True
    await second.close()
    assert await first.try_acquire("site:kingfisher") is True
    assert await first.try_acquire("site:norwich-pear-tree") is True
    await first.close()


async def test_closing_a_holder_releases_everything_it_held(store: SqlStore) -> None:
    first, second = store.open_locks(), store.open_locks()
    for key in ("site:a", "site:b", "run:r1"):
        assert await first.try_acquire(key)
    await first.close()
    assert [await second.try_acquire(key) for key in ("site:a", "site:b", "run:r1")] == [True, True, True]
    await second.close()


async def test_a_holder_in_another_process_excludes_and_its_sigkill_frees(
    store: SqlStore, database_url: str
) -> None:
    holder = start_holder(database_url, "site:kingfisher")
    try:
        locks = store.open_locks()
        assert await locks.try_acquire("site:kingfisher") is False
        assert store.open_locks().is_free("site:kingfisher") is False
        stop_holder(holder)  # SIGKILL
        await _eventually_acquired(locks, "site:kingfisher")
        await locks.close()
        assert store.open_locks().is_free("site:kingfisher") is True
    finally:
        stop_holder(holder)


async def _eventually_acquired(locks: object, key: str) -> None:
    # PostgreSQL notices a dead client's connection as soon as its socket closes; poll a moment for it
    import asyncio

    for _ in range(200):
        if await locks.try_acquire(key):  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} stayed locked after its holder was killed")


@pytest.mark.postgres
async def test_a_postgresql_holder_whose_connection_dies_holds_nothing(postgres_url: str) -> None:
    import sqlalchemy as sa

    with SqlStore.from_url(postgres_url) as store:
        first, second = store.open_locks(), store.open_locks()
        assert await first.try_acquire("site:kingfisher")
        admin = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
        with admin.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid <> pg_backend_pid() "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
        admin.dispose()
        assert await second.try_acquire("site:kingfisher") is True
        await second.close()


def test_sqlite_lock_files_live_beside_the_database(tmp_path: object, sqlite_url: str) -> None:
    from pathlib import Path

    from outagesync.adapters.storage.locks import FileLocks

    with SqlStore.from_url(sqlite_url) as store:
        locks = store.open_locks()
        assert isinstance(locks, FileLocks)
        database = Path(sqlite_url.removeprefix("sqlite:///"))
        assert locks.directory == database.parent / "locks" / database.name


async def test_an_in_memory_database_locks_within_the_process() -> None:
    with SqlStore.from_url("sqlite://") as store:
        first, second = store.open_locks(), store.open_locks()
        assert (await first.try_acquire("site:x"), await second.try_acquire("site:x")) == (True, False)
        await first.close()
        assert await second.try_acquire("site:x") is True
        await second.close()
