"""`outagesync config show`: every effective setting with its source, secrets masked, as lines or JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from outagesync.config import Settings
from outagesync.entrypoints.cli import app

KEY = "config-key-never-shown"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No outagesync variable but those the test sets; a .env file in the working directory."""
    for name in list(os.environ):
        if name.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_", "OTEL_", "SENTRY_", "ROLLBAR_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("OUTAGESYNC_TIMEOUT=12\nOUTAGESYNC_API_URL=http://127.0.0.1:9/v1\n")
    monkeypatch.setenv("KRAKEN_API_KEY", KEY)
    monkeypatch.setenv("OUTAGESYNC_DATABASE_URL", "postgresql+psycopg://user:pa55word@db.internal/outagesync")
    monkeypatch.setenv("OUTAGESYNC_API_TOKEN", "a-token-of-sixteen-or-more")
    return monkeypatch


def _run(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    for secret in (KEY, "pa55word", "a-token-of-sixteen-or-more"):
        assert secret not in result.stdout + result.stderr
    return result


def test_config_show_gives_each_setting_its_value_and_source(env: pytest.MonkeyPatch) -> None:
    result = _run("config", "show")
    assert result.exit_code == 0, result.stderr
    lines = {line.split("=")[0]: " ".join(line.split()) for line in result.stdout.splitlines()}
    assert [
        lines[name]
        for name in (
            "OUTAGESYNC_API_URL",
            "KRAKEN_API_KEY",
            "OUTAGESYNC_TIMEOUT",
            "OUTAGESYNC_MAX_ATTEMPTS",
            "OUTAGESYNC_DATABASE_URL",
            "OUTAGESYNC_API_TOKEN",
            "OUTAGESYNC_CA_BUNDLE",
        )
    ] == [
        "OUTAGESYNC_API_URL=http://127.0.0.1:9/v1 # .env file",
        "KRAKEN_API_KEY=*** # environment",
        "OUTAGESYNC_TIMEOUT=12.0 # .env file",
        "OUTAGESYNC_MAX_ATTEMPTS=5 # default",
        "OUTAGESYNC_DATABASE_URL=postgresql+psycopg://user:***@db.internal/outagesync # environment",
        "OUTAGESYNC_API_TOKEN=*** # environment",
        "OUTAGESYNC_CA_BUNDLE= # default",
    ]
    assert len(lines) == len(result.stdout.splitlines()) == len(Settings.model_fields)  # each field, once
    assert all("=" in line and "  # " in line for line in result.stdout.splitlines())
    assert "   " not in result.stdout  # piped: nothing padded (docs/cli.md)


def test_config_show_json(env: pytest.MonkeyPatch) -> None:
    result = _run("config", "show", "--json")
    assert result.exit_code == 0, result.stderr
    settings = {s["variable"]: s for s in json.loads(result.stdout)["settings"]}
    assert settings["KRAKEN_API_KEY"] == {
        "variable": "KRAKEN_API_KEY",
        "value": "***",
        "source": "environment",
    }
    assert settings["OUTAGESYNC_CONCURRENCY"] == {
        "variable": "OUTAGESYNC_CONCURRENCY",
        "value": "8",
        "source": "default",
    }


def test_config_show_names_an_invalid_setting(env: pytest.MonkeyPatch) -> None:
    env.setenv("OUTAGESYNC_CONCURRENCY", "lots")
    result = _run("config", "show")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: invalid configuration: OUTAGESYNC_CONCURRENCY: Input should be a valid integer, unable to "
        "parse string as an integer"
    ]
