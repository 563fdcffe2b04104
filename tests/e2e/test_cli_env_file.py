"""Where settings come from (issue 12, points 3 and 5): the global --env-file (and OUTAGESYNC_ENV_FILE),
and a warning with the closest known name for an OUTAGESYNC_*/KRAKENFLEX_* variable outagesync does not
read (a typo would otherwise be silently ignored)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from outagesync import config
from outagesync.entrypoints.cli import app


@pytest.fixture(autouse=True)
def _isolated(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setattr(config, "_warned", set())  # each test sees its warnings


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _shown(result: Result) -> dict[str, str]:
    """`config show`'s lines as variable -> "value  # source"."""
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


def test_env_file_replaces_dot_env(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OUTAGESYNC_CONCURRENCY=3\n")
    (tmp_path / "prod.env").write_text("OUTAGESYNC_CONCURRENCY=7\n")
    assert _shown(_run("config", "show"))["OUTAGESYNC_CONCURRENCY"] == "3  # .env file"
    for args in (("--env-file", "prod.env", "config", "show"), ("config", "show", "--env-file", "prod.env")):
        result = _run(*args)
        assert result.exit_code == 0, result.stderr
        assert _shown(result)["OUTAGESYNC_CONCURRENCY"] == "7  # .env file"
    assert "OUTAGESYNC_ENV_FILE" not in os.environ  # the option does not outlive the command


def test_outagesync_env_file_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "other.env").write_text("OUTAGESYNC_LOCK_WAIT=12\n")
    monkeypatch.setenv("OUTAGESYNC_ENV_FILE", str(tmp_path / "other.env"))
    assert _shown(_run("config", "show"))["OUTAGESYNC_LOCK_WAIT"] == "12.0  # .env file"


def test_a_missing_env_file_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run("--env-file", "missing.env", "config", "show")
    assert result.exit_code == 2
    assert "no such file: missing.env" in result.stderr
    monkeypatch.setenv("OUTAGESYNC_ENV_FILE", str(tmp_path / "gone.env"))
    result = _run("config", "show")
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_unknown_variables_get_a_warning_with_the_closest_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTAGESYNC_CONCURENCY", "4")
    monkeypatch.setenv("KRAKENFLEX_APIKEY", "k")
    (tmp_path / ".env").write_text("OUTAGESYNC_WHATEVER=1\n")
    result = _run("config", "show")
    assert result.exit_code == 0
    warnings = [
        line.split("outagesync.config: ", 1)[1] for line in result.stderr.splitlines() if "WARNING" in line
    ]
    assert warnings == [
        "KRAKENFLEX_APIKEY is not an outagesync setting and is ignored (did you mean KRAKENFLEX_API_KEY?)",
        "OUTAGESYNC_CONCURENCY is not an outagesync setting and is ignored (did you mean OUTAGESYNC_CONCURRENCY?)",
        "OUTAGESYNC_WHATEVER is not an outagesync setting and is ignored",
    ]
    assert "4" not in " ".join(warnings)  # names only, never values
    quiet = _run("-q", "config", "show")
    assert quiet.stderr == ""


def test_the_example_env_file_and_the_deployment_files_raise_no_warning() -> None:
    root = Path(__file__).parent.parent.parent
    texts = [(root / name).read_text() for name in (".env.example", "compose.yaml", "Dockerfile")]
    named = {name for text in texts for name in re.findall(r"\b(?:OUTAGESYNC|KRAKENFLEX)_[A-Z0-9_]+", text)}
    assert config.unknown_variables(named) == []


def test_every_setting_and_the_env_file_are_known() -> None:
    known = config.known_variables()
    assert {
        "KRAKENFLEX_API_KEY",
        "KRAKENFLEX_API_URL",
        "OUTAGESYNC_ENV_FILE",
        "OUTAGESYNC_DATABASE_URL",
    } <= known
    assert config.unknown_variables(known) == []
