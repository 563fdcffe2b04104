"""Telemetry settings through the real CLI: a setting whose extra is not installed is a configuration error
(exit 2) naming the pip command; a bad telemetry URL is one too; telemetry off imports none of the SDKs.

"Not installed" is made real for one process: its `sys.modules` marks the package as missing before our
code runs, as an interpreter without the extra would fail to import it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from outagesync.sandbox import Sandbox

RUN_CLI = """
import sys
for name in sys.argv[1].split(","):
    if name:
        sys.modules[name] = None  # `import name` now raises ImportError, as without the package
sys.argv = ["outagesync", *sys.argv[2:]]
from outagesync.entrypoints.cli import main
main()
"""

PRINT_IMPORTED = """
import sys
sys.argv = ["outagesync", *sys.argv[1:]]
from outagesync.entrypoints.cli import main
try:
    main()
except SystemExit:
    pass
heavy = ("opentelemetry", "sentry_sdk", "rollbar", "prometheus_client", "google.protobuf")
print(",".join(sorted({m.split(".")[0] for m in sys.modules if m.startswith(heavy)})))
"""


def _env(sandbox: Sandbox, tmp_path: Path, **extra: str) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "OTEL_", "SENTRY_", "ROLLBAR_"))
    }
    return {
        **clean,
        "KRAKENFLEX_API_URL": sandbox.url,
        "KRAKENFLEX_API_KEY": sandbox.api_key,
        "OUTAGESYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'config.db'}",
        **extra,
    }


def _python(code: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (this interpreter, our code)
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("missing", "setting", "value", "extra"),
    [
        ("opentelemetry.sdk", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9", "otel"),
        (
            "opentelemetry.exporter",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://127.0.0.1:9/v1/traces",
            "otel",
        ),
        ("sentry_sdk", "SENTRY_DSN", "http://public@127.0.0.1:9/1", "sentry"),
        ("rollbar", "ROLLBAR_ACCESS_TOKEN", "token", "rollbar"),
    ],
)
@pytest.mark.parametrize("command", [["sync", "--no-store"], ["serve", "--port", "0"]])
def test_a_setting_whose_extra_is_missing_is_a_config_error(
    sandbox: Sandbox, tmp_path: Path, missing: str, setting: str, value: str, extra: str, command: list[str]
) -> None:
    done = _python(RUN_CLI, missing, *command, env=_env(sandbox, tmp_path, **{setting: value}))
    assert done.returncode == 2, done.stderr
    expected = (
        f"error: {setting} is set but the {extra} extra is not installed: pip install 'outagesync[{extra}]'"
    )
    assert done.stderr.startswith(expected), done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("OUTAGESYNC_PUSHGATEWAY_URL", "localhost:9091"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector"),
        ("SENTRY_TRACES_SAMPLE_RATE", "2"),
        ("OUTAGESYNC_LOG_FORMAT", "xml"),
    ],
)
def test_a_bad_telemetry_setting_is_a_config_error(
    sandbox: Sandbox, tmp_path: Path, setting: str, value: str
) -> None:
    done = _python(RUN_CLI, "", "sync", "--no-store", env=_env(sandbox, tmp_path, **{setting: value}))
    assert done.returncode == 2, done.stderr
    assert setting in done.stderr
    assert "Traceback" not in done.stderr


def test_telemetry_off_imports_no_sdk(sandbox: Sandbox, tmp_path: Path) -> None:
    done = _python(PRINT_IMPORTED, "sync", "--no-store", "kingfisher", env=_env(sandbox, tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == ""


def test_each_telemetry_part_imports_its_own_sdk_only(sandbox: Sandbox, tmp_path: Path) -> None:
    pushed = _python(
        PRINT_IMPORTED,
        "sync",
        "--no-store",
        "kingfisher",
        env=_env(
            sandbox, tmp_path, OUTAGESYNC_PUSHGATEWAY_URL="http://127.0.0.1:9", OTEL_SDK_DISABLED="true"
        ),
    )
    assert pushed.returncode == 0, pushed.stderr  # a lost push is a warning, not a failed run
    assert pushed.stdout.splitlines()[-1] == "prometheus_client"
