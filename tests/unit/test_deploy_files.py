"""The deployment files agree with the code: .env.example documents every setting, the compose stack and
the image run the commands that exist."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices

from outagesync.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def _variables(field: str) -> list[str]:
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [alias] if isinstance(alias, str) else [f"OUTAGESYNC_{field.upper()}"]


def test_env_example_documents_every_setting() -> None:
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    missing = [
        _variables(field)[0] for field in Settings.model_fields if not documented & set(_variables(field))
    ]
    assert missing == [], f"add these settings to .env.example (with their default): {missing}"


def test_the_image_and_the_stack_name_the_commands_that_exist() -> None:
    from typer.main import get_command

    from outagesync.entrypoints.cli.main import app

    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    used = re.findall(r'command: \["([a-z]+)"', (ROOT / "compose.yaml").read_text())
    used += re.findall(r'^CMD \["([a-z]+)"', (ROOT / "Dockerfile").read_text(), re.M)
    assert sorted(set(used)) == ["db", "sandbox", "serve", "sync", "worker"]
    assert set(used) <= commands
