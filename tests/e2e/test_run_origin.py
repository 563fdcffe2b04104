"""Reports record where a run synced to (issue 12, point 7): the upstream base URL without credentials,
and whether it was the built-in sandbox; `sync --sandbox` keeps its own default report database, read
with `reports --sandbox`, so demo runs never mix with a real history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from outagesync.entrypoints.cli import app
from outagesync.sandbox import Sandbox


@pytest.fixture
def data_dir(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """outagesync's user data directory, in the test's own XDG_DATA_HOME (platformdirs)."""
    clean_env.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data" / "outagesync"


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _reports(*args: str) -> list[dict[str, object]]:
    result = _run("reports", *args, "list", "--json")
    assert result.exit_code == 0, result.stderr
    items: list[dict[str, object]] = json.loads(result.stdout)["items"]
    return items


def test_sync_sandbox_keeps_its_own_history(data_dir: Path) -> None:
    synced = _run("sync", "--sandbox")
    assert synced.exit_code == 0, synced.stderr
    (report,) = _reports("--sandbox")
    assert report["sandbox"] is True
    assert str(report["upstream_url"]).startswith("http://127.0.0.1:")
    assert f"report stored; see it with: outagesync reports --sandbox show {report['id']}" in synced.stderr
    assert (data_dir / "sandbox.db").is_file()
    assert _reports() == []  # the default database holds no demo run
    shown = _run("reports", "--sandbox", "show", str(report["id"]), "--json")
    assert json.loads(shown.stdout)["sandbox"] is True


def test_an_explicit_database_is_used_by_the_sandbox_too(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OUTAGESYNC_DATABASE_URL", f"sqlite:///{tmp_path}/mine.db")
    synced = _run("sync", "--sandbox")
    assert synced.exit_code == 0, synced.stderr
    assert "see it with: outagesync reports show " in synced.stderr
    (report,) = _reports()
    assert report["sandbox"] is True
    assert not (data_dir / "sandbox.db").exists()


def test_a_real_run_records_the_base_url_without_credentials(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox
) -> None:
    url = sandbox.url.replace("http://", "http://someone:s3cret@") + "/"
    monkeypatch.setenv("KRAKENFLEX_API_URL", url)
    monkeypatch.setenv("KRAKENFLEX_API_KEY", sandbox.api_key)
    synced = _run("sync", "--json")
    run = json.loads(synced.stdout)
    assert (run["upstream_url"], run["sandbox"]) == (sandbox.url + "/", False)
    (report,) = _reports()
    assert (report["upstream_url"], report["sandbox"]) == (sandbox.url + "/", False)
    assert "s3cret" not in synced.stdout + synced.stderr
