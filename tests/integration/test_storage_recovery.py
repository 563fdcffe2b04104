"""The store hides every credential of its URL, never shows SQL, and recovers a schema that went away:
a database that was not there when it first tried, or whose tables were dropped while it was in use."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from outagesync.adapters.storage import SqlStore
from outagesync.adapters.storage.engine import describe, mask
from outagesync.adapters.storage.migrate import head_revision
from outagesync.domain.sites import SiteChanges
from outagesync.errors import SiteNotManaged, StorageError


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://u:pw1@db:5432/x?password=pw2&sslmode=require",
            "postgresql+psycopg://u:***@db:5432/x?password=***&sslmode=require",
        ),
        (
            "postgresql+psycopg://u@db/x?PASS=a1&Pwd=a2&SSLPassword=a3&token=a4&KEY=a5&passwd=a6",
            "postgresql+psycopg://u@db/x?KEY=***&PASS=***&Pwd=***&SSLPassword=***&passwd=***&token=***",
        ),
        (
            "postgresql+psycopg://u@db/x?password=one&password=two&application_name=a%20b",
            "postgresql+psycopg://u@db/x?application_name=a+b&password=***&password=***",
        ),
        ("sqlite:////var/lib/outagesync.db", "sqlite:////var/lib/outagesync.db"),
    ],
)
def test_every_credential_of_a_url_is_masked(url: str, shown: str) -> None:
    assert mask(make_url(url)) == shown


def test_a_message_names_no_credential_and_no_statement() -> None:
    url = make_url("postgresql+psycopg://u:pw-user@db/x?password=pw-query")
    error = sa.exc.ProgrammingError(
        "SELECT * FROM reports", {}, Exception('relation "reports" does not exist\nLINE 1: SELECT * FROM ...')
    )
    assert describe(error, url) == 'relation "reports" does not exist'
    refused = Exception("password pw-query and pw-user refused\n[SQL: SELECT 1]\n[parameters: {}]")
    assert describe(refused, url) == "password *** and *** refused"


def _drop_every_table(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        tables = sa.MetaData()
        tables.reflect(engine)
        tables.drop_all(engine)
    finally:
        engine.dispose()


def test_tables_dropped_under_the_store_are_created_again_on_the_next_use(database_url: str) -> None:
    with SqlStore.from_url(database_url) as store:
        store.add_site("norwich-pear-tree")
        _drop_every_table(database_url)
        with pytest.raises(StorageError) as caught:
            store.get_site("norwich-pear-tree")
        assert str(caught.value) == (
            f"the report database {store.database} has lost its tables (were they dropped?): they are "
            "created again on the next request; retry"
        )
        with pytest.raises(SiteNotManaged):
            store.update_site("norwich-pear-tree", SiteChanges(enabled=False))
        assert store.current_revision() == head_revision()


def test_a_health_check_migrates_again_a_schema_dropped_under_the_store(database_url: str) -> None:
    with SqlStore.from_url(database_url) as store:
        store.upgrade()
        _drop_every_table(database_url)
        health = store.check()
        assert (health.ok, health.migrated, health.revision, health.error) == (
            True,
            True,
            head_revision(),
            None,
        )
        assert store.list_sites() == []


def test_a_health_check_of_a_store_never_migrated_does_not_migrate(database_url: str) -> None:
    with SqlStore.from_url(database_url) as store:
        health = store.check()
        assert (health.ok, health.migrated, health.revision) == (True, False, None)
        assert store.current_revision() is None


def test_a_failed_upgrade_is_tried_again_by_the_next_health_check(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the database's directory should be")
    with SqlStore.from_url(f"sqlite:///{blocker / 'outagesync.db'}") as store:
        with pytest.raises(StorageError):
            store.upgrade()
        assert store.check().ok is False
        blocker.unlink()
        health = store.check()
        assert (health.ok, health.migrated, health.revision) == (True, True, head_revision())
