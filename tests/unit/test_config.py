"""Settings: names, aliases, validation; secrets stay masked."""

from __future__ import annotations

import pytest

from outagesync.config import DEFAULT_API_URL, Settings, load_settings
from outagesync.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ("KRAKENFLEX_API_KEY", "KRAKEN_API_KEY", "KRAKENFLEX_API_URL", "OUTAGESYNC_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(str(tmp_path))


def test_generic_variable_names_are_not_picked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY", "someone-elses")
    monkeypatch.setenv("API_URL", "http://elsewhere")
    settings = Settings()
    assert settings.api_key is None
    assert settings.api_url == DEFAULT_API_URL


@pytest.mark.parametrize("name", ["KRAKENFLEX_API_KEY", "KRAKEN_API_KEY"])
def test_both_key_names_work_and_stay_masked(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "k-123")
    settings = Settings()
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "k-123"
    assert "k-123" not in repr(settings) + str(settings)
    assert "k-123" not in settings.digest()


@pytest.mark.parametrize("url", ["ftp://x", "not a url", "http://", "127.0.0.1:8181"])
def test_api_url_must_be_http(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("KRAKENFLEX_API_URL", url)
    with pytest.raises(ConfigError, match="KRAKENFLEX_API_URL: must be an http"):
        load_settings()


def test_flags_override_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTAGESYNC_CONCURRENCY", "3")
    assert load_settings().concurrency == 3
    assert load_settings(concurrency=5, since=None).concurrency == 5


def test_a_bad_number_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTAGESYNC_TIMEOUT", "-1")
    with pytest.raises(ConfigError, match="OUTAGESYNC_TIMEOUT"):
        load_settings()
