"""`outagesync doctor`: check the configuration, the upstream and the report database; post nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from outagesync.entrypoints.cli.console import print_json, say
from outagesync.entrypoints.cli.exit_codes import ExitCode
from outagesync.entrypoints.cli.options import JsonFlag
from outagesync.errors import ConfigError, OutageSyncError

if TYPE_CHECKING:
    from outagesync.config import Settings
    from outagesync.services.doctor import Check

CONFIG_FIX = "fix the variable named above; `outagesync config show` lists every setting and its source"


def doctor_command(json_output: JsonFlag = False) -> None:
    """Check that outagesync can work here: configuration, upstream, API key, report database.

    Checks the configuration, that the URL answers like the KrakenFlex API (TLS verified), that the API
    key is accepted, that the report database is reachable and migrated. Reads only (one GET
    /site-info); posts nothing. Exit 0 when every check passes, else 1; -q prints the failures only.

    Environment: KRAKENFLEX_API_KEY, KRAKENFLEX_API_URL, OUTAGESYNC_CA_BUNDLE, OUTAGESYNC_DATABASE_URL

    Examples:
        outagesync doctor
        outagesync doctor -q || echo "outagesync cannot work here"
        outagesync doctor --json | jq '.checks[] | select(.ok | not)'
    """
    from outagesync.config import load_settings
    from outagesync.services.doctor import Check

    try:
        settings = load_settings()
    except ConfigError as exc:
        checks = [Check("configuration", False, str(exc), CONFIG_FIX)]
    else:
        checks = [Check("configuration", True, "valid"), *_upstream_checks(settings), _database(settings)]
    _show(checks, json_output=json_output)
    raise typer.Exit(ExitCode.OK if all(check.ok for check in checks) else ExitCode.FAILED)


def _upstream_checks(settings: Settings) -> list[Check]:
    from outagesync import bootstrap
    from outagesync.entrypoints.run import run_to_value
    from outagesync.services.doctor import KEY_FIX, URL_FIX, Check, check_upstream

    once = settings.model_copy(update={"max_attempts": 1})  # a diagnosis, not a sync: no retries

    async def checked() -> list[Check]:
        async with bootstrap.open_upstream(once) as upstream:
            return await check_upstream(upstream=upstream, url=settings.api_url)

    try:
        return run_to_value(checked())
    except ConfigError as exc:
        if settings.api_key is None or not settings.api_key.get_secret_value():
            skipped = Check("KrakenFlex API", False, "not checked: no API key", URL_FIX)
            return [skipped, Check("API key", False, str(exc), KEY_FIX)]
        return [Check("KrakenFlex API", False, str(exc), URL_FIX)]


def _database(settings: Settings) -> Check:
    from outagesync import bootstrap
    from outagesync.services.doctor import DB_FIX, Check, check_database

    try:
        store = bootstrap.build_store(settings)
    except OutageSyncError as exc:
        return Check("report database", False, str(exc), DB_FIX)
    try:
        return check_database(store=store)
    finally:
        store.dispose()


def _show(checks: list[Check], *, json_output: bool) -> None:
    if json_output:
        rows = [{"name": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix or None} for c in checks]
        print_json({"ok": all(check.ok for check in checks), "checks": rows})
        return
    for check in checks:
        if check.ok:
            say(f"ok   {check.name}: {check.detail}")  # --quiet: the failures only
        else:
            typer.echo(f"FAIL {check.name}: {check.detail}")
            typer.echo(f"     fix: {check.fix}")
