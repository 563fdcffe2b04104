"""`outagesync sandbox`: its help, its flag errors, and a real run in a subprocess stopped with Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from outagesync.entrypoints.cli.sandbox import sandbox_command

# The command as the lead's cli.py registers it, without depending on the rest of the CLI.
RUN_COMMAND = (
    "import typer; from outagesync.entrypoints.cli.sandbox import sandbox_command; typer.run(sandbox_command)"
)
OPTIONS = [
    "--host",
    "--port",
    "--api-key",
    "--dataset",
    "--outages",
    "--devices",
    "--sites",
    "--seed",
    "--changing-data",
    "--fail-rate",
    "--fail-first",
    "--rate-limit",
    "--retry-after",
    "--latency-ms",
    "--truncate-rate",
    "--drop-rate",
    "--fault-target",
    "--fault-seed",
]


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("sandbox")(sandbox_command)
    app.command("other")(lambda: None)  # two commands, so "sandbox" is a subcommand as in the real CLI
    return app


def test_help_documents_every_option() -> None:
    result = CliRunner().invoke(_app(), ["sandbox", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in OPTIONS:
        assert option in result.output
    assert "sandbox-api-key" in result.output
    assert "8181" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault-target", "outages"], "fault target"),
        (["--fault-target", "GET /nonsense"], "matches no upstream request"),
        (["--fault-target", "POST /outages"], "matches no upstream request"),
        (["--fault-target", "PUT"], "matches no upstream request"),
        (["--fail-rate", "1.5"], "--fail-rate"),
        (["--outages", "10", "--dataset", __file__], "either --dataset or --outages"),
    ],
)
def test_bad_flags_exit_2_with_a_reason(args: list[str], message: str) -> None:
    result = CliRunner().invoke(_app(), ["sandbox", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert message in result.output


def test_a_bad_dataset_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"outages": {}}')
    result = CliRunner().invoke(_app(), ["sandbox", "--dataset", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "'outages' must be a list" in result.output


def test_runs_in_the_foreground_logs_requests_and_stops_on_ctrl_c() -> None:
    command = [
        sys.executable,
        "-c",
        RUN_COMMAND,
        "--port",
        "0",
        "--api-key",
        "cli-secret-key",
        "--fail-first",
        "1",
    ]
    # S603: the command is this interpreter running our own module, with fixed arguments.
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert process.stderr is not None
        banner = ""
        while "Ctrl-C" not in banner:
            line = process.stderr.readline()
            assert line, f"the sandbox exited early: {banner}"
            banner += line
        found = re.search(r"http://127\.0\.0\.1:\d+", banner)
        assert found
        url = found.group(0)
        with httpx.Client(headers={"x-api-key": "cli-secret-key"}) as client:
            statuses = [client.get(url + "/outages").status_code for _ in range(2)]
        assert statuses == [500, 200]
    finally:
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=15)
    assert process.returncode == 0
    output = banner + rest
    assert re.search(r"GET /outages 500 [\d.]+ ms \[fail-first\]", output)
    assert re.search(r"GET /outages 200 [\d.]+ ms", output)
    assert "cli-secret-key" not in output
    assert "x-api-key: the value given with --api-key" in output


def test_changing_data_serves_a_new_version_per_get_and_logs_it() -> None:
    command = [sys.executable, "-c", RUN_COMMAND, "--port", "0", "--changing-data"]
    # S603: the command is this interpreter running our own module, with fixed arguments.
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert process.stderr is not None
        banner = ""
        while "Ctrl-C" not in banner:
            line = process.stderr.readline()
            assert line, f"the sandbox exited early: {banner}"
            banner += line
        found = re.search(r"http://127\.0\.0\.1:\d+", banner)
        assert found
        with httpx.Client(base_url=found.group(0), headers={"x-api-key": "sandbox-api-key"}) as client:
            ends = [
                {o["end"] for o in client.get("/outages").json() if o["begin"] == "2023-01-01T00:00:00.000Z"}
                for _ in range(2)
            ]
        assert ends == [{"2023-01-01T00:00:01.000Z"}, {"2023-01-01T00:00:02.000Z"}]
    finally:
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "  changing data: each GET /outages serves a new version (logged as '(version N)')\n" in banner
    assert re.search(r"GET /outages 200 [\d.]+ ms \(version 2\)", rest)
