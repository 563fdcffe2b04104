"""The store's failures: every database problem is a StorageError naming the database, never its password."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from outagesync.adapters.storage import SqlStore
from outagesync.domain.models import RunReport, Trigger
from outagesync.domain.reports import ReportFilter
from outagesync.errors import ConfigError, StorageError

UNREACHABLE = "postgresql+psycopg://user:secret-pw@127.0.0.1:1/outagesync"
NOW = datetime(2024, 5, 1, tzinfo=UTC)

OPERATIONS: dict[str, Callable[[SqlStore], object]] = {
    "save_run": lambda store: store.save_run(RunReport("r1", Trigger.CLI, NOW, NOW, "d", False, ())),
    "list_reports": lambda store: store.list_reports(ReportFilter(), limit=10),
    "get_report": lambda store: store.get_report("r1"),
    "delete_reports": lambda store: store.delete_reports(ReportFilter()),
    "list_sites": lambda store: store.list_sites(),
    "add_site": lambda store: store.add_site("norwich-pear-tree"),
    "upgrade": lambda store: store.upgrade(),
    "current_revision": lambda store: store.current_revision(),
}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_an_unreachable_database_is_a_clear_storage_error(operation: str) -> None:
    with SqlStore.from_url(UNREACHABLE) as store, pytest.raises(StorageError) as caught:
        OPERATIONS[operation](store)
    message = str(caught.value)
    assert message.startswith(
        "cannot use the report database postgresql+psycopg://user:***@127.0.0.1:1/outagesync"
    )
    assert "Connection refused" in message or "connection failed" in message
    assert "secret-pw" not in message
    cause = caught.value.__cause__
    if operation == "save_run":  # the report went to the spool; the database's error is the cause's cause
        assert message.endswith("and will be stored by the next command that opens the database")
        assert isinstance(cause, StorageError)
        cause = cause.__cause__
    assert isinstance(cause, sa.exc.SQLAlchemyError)  # translated, with the cause kept


def test_health_check_reports_an_unreachable_database_without_raising() -> None:
    with SqlStore.from_url(UNREACHABLE) as store:
        health = store.check()
    assert (health.ok, health.migrated, health.revision) == (False, False, None)
    assert health.error is not None
    assert "secret-pw" not in health.error
    assert "127.0.0.1:1" in health.error


@pytest.mark.postgres
def test_a_missing_postgres_database_is_named_without_the_password(postgres_server_url: str) -> None:
    url = sa.make_url(postgres_server_url).set(password="hunter2", database="outagesync_no_such_db")
    with (
        SqlStore.from_url(url.render_as_string(hide_password=False)) as store,
        pytest.raises(StorageError) as caught,
    ):
        store.list_sites()
    assert "outagesync_no_such_db" in str(caught.value)
    assert "does not exist" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_sqlite_file_that_cannot_be_created_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with SqlStore.from_url(f"sqlite:///{blocker}/reports.db") as store, pytest.raises(StorageError) as caught:
        store.list_sites()
    assert str(blocker) in str(caught.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://app:topsecret@db/reports", "unsupported database mysql://app:***@db/reports"),
        ("postgresql+psycopg2://app@db/reports", "supports SQLite and PostgreSQL (psycopg 3)"),
    ],
)
def test_a_bad_database_url_is_a_configuration_error(url: str, expected: str) -> None:
    with pytest.raises(
        ConfigError, match=expected.replace("*", r"\*").replace("(", r"\(").replace(")", r"\)")
    ):
        SqlStore.from_url(url)


def test_plain_postgres_urls_use_psycopg_3() -> None:
    assert SqlStore.from_url("postgres://app@db/reports").url.drivername == "postgresql+psycopg"
    assert SqlStore.from_url("postgresql://app@db/reports").url.drivername == "postgresql+psycopg"


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="XDG_DATA_HOME is how Linux names the data dir"
)
def test_without_a_url_the_database_is_a_sqlite_file_in_the_user_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    with SqlStore.from_url(None) as store:
        store.add_site("norwich-pear-tree")
        assert store.database == f"sqlite+pysqlite:///{tmp_path}/xdg/outagesync/outagesync.db"
    assert (tmp_path / "xdg" / "outagesync" / "outagesync.db").is_file()
