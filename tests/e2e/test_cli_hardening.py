"""`outagesync reports list` and `db current` against crafted input: a cursor that overflows, a password in
the database URL's query. Through the real CLI app (Typer's runner), in a clean environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from outagesync.adapters.storage.migrate import head_revision
from outagesync.entrypoints.cli import app

# base64url of ["9999-12-31T23:59:59-23:59","a"]: a valid instant, but past year 9999 in UTC
OVERFLOWING_CURSOR = "WyI5OTk5LTEyLTMxVDIzOjU5OjU5LTIzOjU5IiwiYSJd"
SECRET = "hunter2-in-the-query"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No OUTAGESYNC_ or KRAKENFLEX_ variable and no .env; a SQLite file of the test's own."""
    for name in list(os.environ):
        if name.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OUTAGESYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'reports.db'}")
    return tmp_path


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_reports_list_refuses_a_cursor_whose_instant_overflows_in_utc(clean_env: Path) -> None:
    result = _run("reports", "list", "--cursor", OVERFLOWING_CURSOR)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: invalid cursor '{OVERFLOWING_CURSOR}': pass the next_cursor of a previous page\n"
    )


@pytest.mark.postgres
def test_db_current_hides_a_password_given_as_a_query_parameter(
    clean_env: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the test server trusts local connections, so the password is sent and ignored
    url = sa.make_url(postgres_url)
    monkeypatch.setenv("OUTAGESYNC_DATABASE_URL", f"{postgres_url}?password={SECRET}&application_name=x")
    assert _run("db", "upgrade").exit_code == 0
    result = _run("db", "current")
    assert result.exit_code == 0, result.stderr
    shown = url.render_as_string(hide_password=True)
    assert result.stdout.splitlines() == [
        f"database: {shown}?application_name=x&password=***",
        f"revision: {head_revision()} (up to date)",
    ]


def test_db_current_on_a_down_database_hides_a_password_given_as_a_query_parameter(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTAGESYNC_DATABASE_URL", f"postgresql+psycopg://u@127.0.0.1:1/db?password={SECRET}")
    result = _run("db", "current")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: cannot use the report database postgresql+psycopg://u@127.0.0.1:1/db?password=***: "
    )
    assert SECRET not in result.stdout + result.stderr
