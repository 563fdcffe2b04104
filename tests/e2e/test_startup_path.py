"""Start-up off the critical path: what the first upstream request does not need is not loaded before it.

The real command runs in a child process against the sandbox; a probe records which modules were loaded
when its first request went out. The report database is migrated by a first run, as it is on any run
after the first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from outagesync.sandbox import Sandbox

PROBE = Path(__file__).with_name("first_request_probe.py")
NOT_BEFORE_THE_FIRST_REQUEST = [
    "alembic",  # migrations: only when the schema is not current
    "rich.table",  # rendering: after the run
    "rich.progress",
    "pygments",  # httpx's command-line client (tests/e2e/first_request_probe.py)
    "click",
    "outagesync.entrypoints.cli.render.runs",
    "opentelemetry",  # telemetry: only when configured
    "sentry_sdk",
    "rollbar",
]


def _sync(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own probe script)
        [sys.executable, str(PROBE), "sync", "norwich-pear-tree"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_nothing_the_first_request_does_not_need_is_loaded_before_it(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "OTEL_"))},
        "KRAKENFLEX_API_URL": sandbox.url,
        "KRAKENFLEX_API_KEY": sandbox.api_key,
        "OUTAGESYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'reports.db'}",
        "PROBE_MODULES": ",".join([*NOT_BEFORE_THE_FIRST_REQUEST, "sqlalchemy", "httpx"]),
    }
    first = _sync(env)  # creates the database: the migration runs before the first request
    assert first.returncode == 0, first.stderr
    assert "alembic" in _loaded(first)  # the probe sees what a run loads

    done = _sync(env)

    assert done.returncode == 0, done.stderr
    # the site lock and the `running` record are in the database: SQLAlchemy is needed before the GET
    assert _loaded(done) == ["sqlalchemy", "httpx"]


def _loaded(done: subprocess.CompletedProcess[str]) -> list[str]:
    probe: list[str] = json.loads(done.stderr.split("PROBE ", 1)[1].splitlines()[0])["loaded"]
    return probe
