"""What the CLI prints, as docs/cli.md ("Output") says: the installed command in a real pseudo-terminal of
60, 80 and 120 columns (its size set with TIOCSWINSZ, COLUMNS unset) and piped, syncing against a
sandbox over real HTTP with a real SQLite database. Nothing is cut (`…`), no line is wider than the
terminal, every id and figure appears whole, and piped output is tab-separated with nothing padded.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from outagesync.sandbox import Sandbox
from outagesync.sandbox.synthetic import generate_dataset

WIDTHS = (60, 80, 120)
COMMAND = str(Path(sys.executable).with_name("outagesync"))
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SITES = [f"site-{n}" for n in range(1, 5)]  # the synthetic dataset's 4 sites
LONG_NAME = "The long-named energy storage site on the far side of the estuary, north bank"


@pytest.fixture(scope="module")
def upstream() -> Iterator[Sandbox]:
    """A sandbox of our own with 12 sites of about 1,000 kept outages each (figures with separators)."""
    with Sandbox() as sandbox:
        sandbox.dataset = generate_dataset(20_000, devices=40, sites=4, seed=3)
        yield sandbox


@pytest.fixture(scope="module")
def env(upstream: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("layout")
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_")) and k not in ("COLUMNS", "LINES")
    }
    return {
        **clean,
        "HOME": str(home),
        "TERM": "xterm-256color",
        "KRAKENFLEX_API_URL": upstream.url,
        "KRAKENFLEX_API_KEY": upstream.api_key,
        "OUTAGESYNC_DATABASE_URL": f"sqlite:///{home / 'reports.db'}",
        "OUTAGESYNC_BACKOFF_INITIAL": "0.01",
        "OUTAGESYNC_BACKOFF_MAX": "0.02",
    }


def _in_terminal(env: dict[str, str], columns: int, *args: str) -> tuple[int, list[str]]:
    """The command's stdout in a pseudo-terminal `columns` wide (stderr piped apart): lines, ANSI out."""
    main, child = os.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    with subprocess.Popen(  # noqa: S603 (the installed command)
        [COMMAND, *args], stdin=subprocess.DEVNULL, stdout=child, stderr=subprocess.PIPE, env=env
    ) as process:
        os.close(child)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=120)
    os.close(main)
    text = ANSI.sub("", b"".join(chunks).decode())
    return process.returncode, [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]


def _piped(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (the installed command)
        [COMMAND, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _json(env: dict[str, str], *args: str) -> Any:
    done = _piped(env, *args, "--json")
    return json.loads(done.stdout)


def _whole(token: str, lines: list[str]) -> bool:
    """`token` on one line, not part of a longer word or number."""
    pattern = re.compile(rf"(?<![\w,.-]){re.escape(token)}(?![\w,.-])")
    return any(pattern.search(line) for line in lines)


def _check_terminal_output(lines: list[str], columns: int, tokens: list[str]) -> None:
    """Nothing cut, tables within the width (messages are single long lines the terminal wraps)."""
    assert not [line for line in lines if "…" in line]
    assert not [line for line in lines if len(line) > columns and "  " in line]  # a table row too wide
    assert [token for token in tokens if not _whole(token, lines)] == []


@pytest.fixture(scope="module")
def synced(env: dict[str, str]) -> dict[str, Any]:
    """One run over the 12 sites and an unknown one, recorded; managed sites, one with a long name."""
    for site in SITES[:3]:
        assert (
            _piped(env, "sites", "add", site, "--name", LONG_NAME if site == SITES[1] else site).returncode
            == 0
        )
    done = _piped(env, "sync", *SITES, "nowhere", "--json")
    assert done.returncode == 1, done.stderr  # `nowhere` fails
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _run_tokens(report: dict[str, Any]) -> list[str]:
    """What a run's output must show whole: site ids, their figures (1,234), error codes, the run id."""
    tokens = [report["run_id"][:12], "unknown-site"]
    for site in report["sites"]:
        tokens.append(site["site_id"])
        if site["status"] == "succeeded":
            tokens += [f"{site[name]:,}" for name in ("fetched", "kept", "posted")]
    return tokens


@pytest.mark.parametrize("columns", WIDTHS)
def test_sync_in_a_terminal_cuts_nothing(env: dict[str, str], synced: dict[str, Any], columns: int) -> None:
    code, lines = _in_terminal(env, columns, "sync", *SITES, "nowhere")
    assert code == 1
    run_id = re.fullmatch(r"run ([0-9a-f]{12}): partial", lines[0])
    assert run_id is not None, lines[0]
    _check_terminal_output(lines, columns, _run_tokens({**synced, "run_id": run_id.group(1)}))
    posted = sum(site["posted"] for site in synced["sites"])
    assert f"5 sites: 4 succeeded, 1 failed · posted {posted:,} items" in lines
    assert "nowhere: unknown site: nowhere (GET /site-info: 404 Site not found)" in lines
    stacked = f"site: {SITES[0]}" in lines
    assert stacked is (columns < 120)  # the table needs about 116 columns
    first = next(s for s in synced["sites"] if s["site_id"] == SITES[0])
    if stacked:
        block = lines[lines.index(f"site: {SITES[0]}") :][:12]
        assert block == [
            f"site: {SITES[0]}",
            "status: succeeded",
            f"fetched: {first['fetched']:,}",
            f"devices: {first['site_devices']:,}",
            f"kept: {first['kept']:,}",
            f"before cutoff: {first['dropped_before_cutoff']:,}",
            f"unknown device: {first['dropped_unknown_device']:,}",
            "invalid: 0",
            f"posted: {first['posted']:,}",
            "requests (retries): 3 (0)",
            "POST: 200",
            "error: -",
        ]
    else:
        header = next(line for line in lines if line.startswith("site "))
        assert header.split() == [
            *("site", "status", "fetched", "devices", "kept", "cutoff", "device", "invalid", "posted"),
            *("(retries)", "POST", "error"),
        ]
        (row,) = [line for line in lines if line.startswith(f"{SITES[0]} ")]
        figures = ("fetched", "site_devices", "kept", "dropped_before_cutoff", "dropped_unknown_device")
        assert row.split() == [
            *(SITES[0], "succeeded"),
            *(f"{first[name]:,}" for name in figures),
            *("0", f"{first['posted']:,}", "3", "(0)", "200", "-"),
        ]
        (failed,) = [line for line in lines if line.startswith("nowhere ")]
        assert failed.split() == [
            *("nowhere", "failed", "-", "-", "-", "-", "-", "0", "-", "1", "(0)", "-", "unknown-site")
        ]


def test_sync_piped_is_tab_separated_and_plain(env: dict[str, str], synced: dict[str, Any]) -> None:
    done = _piped(env, "sync", SITES[0], "nowhere")
    assert done.returncode == 1
    site = next(s for s in synced["sites"] if s["site_id"] == SITES[0])
    figures = [site[name] for name in ("fetched", "site_devices", "kept", "dropped_before_cutoff")]
    assert done.stdout.splitlines() == [
        "site\tstatus\tfetched\tdevices\tkept\tbefore cutoff\tunknown device\tinvalid\tposted"
        "\trequests (retries)\tPOST\terror",
        f"{SITES[0]}\tsucceeded\t"
        + "\t".join(str(n) for n in figures)
        + f"\t{site['dropped_unknown_device']}"
        f"\t0\t{site['posted']}\t3 (0)\t200\t-",
        "nowhere\tfailed\t-\t-\t-\t-\t-\t0\t-\t1 (0)\t-\tunknown-site",
    ]
    assert "," not in done.stdout  # plain digits for scripts
    stderr = done.stderr.splitlines()
    assert re.fullmatch(r"run [0-9a-f]{12}: partial", stderr[0])
    assert stderr[1:3] == [
        "nowhere: unknown site: nowhere (GET /site-info: 404 Site not found)",
        f"2 sites: 1 succeeded, 1 failed · posted {site['posted']:,} items",
    ]


def test_sync_json_is_only_json_whatever_the_verbosity(env: dict[str, str], synced: dict[str, Any]) -> None:
    for flags in (("-v",), ("-q",)):
        done = _piped(env, *flags, "sync", SITES[0], "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["sites"][0]["site_id"] == SITES[0]


def test_quiet_prints_only_errors(env: dict[str, str], synced: dict[str, Any]) -> None:
    for args in (("sync", SITES[0]), ("reports", "list"), ("config", "show")):
        done = _piped(env, "-q", *args)
        assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), args
    failed = _piped(env, "sync", "nowhere", "-q")
    assert (failed.returncode, failed.stdout) == (1, "")
    assert failed.stderr.splitlines() == [
        "error: nowhere: unknown site: nowhere (GET /site-info: 404 Site not found)"
    ]


@pytest.mark.parametrize("columns", WIDTHS)
def test_reports_list_and_its_cursor_in_a_terminal(
    env: dict[str, str], synced: dict[str, Any], columns: int
) -> None:
    page = _json(env, "reports", "list", "--limit", "6")
    code, lines = _in_terminal(env, columns, "reports", "list", "--limit", "6")
    assert code == 0
    tokens = [item["id"][:12] for item in page["items"]] + [item["site_id"] for item in page["items"]]
    tokens += [item["started_at"][:16].replace("T", " ") for item in page["items"]]
    _check_terminal_output(lines, columns, tokens)
    assert f"more: add --cursor {page['next_cursor']}" in lines  # the token whole, on one line
    stacked = "started (UTC): " + page["items"][0]["started_at"][:16].replace("T", " ") in lines
    assert stacked is (columns < 80)


def test_reports_list_piped(env: dict[str, str], synced: dict[str, Any]) -> None:
    page = _json(env, "reports", "list", "--limit", "3")
    done = _piped(env, "reports", "list", "--limit", "3")
    lines = done.stdout.splitlines()
    assert lines[0] == "id\tstarted (UTC)\tsite\tstatus\tposted\tPOST\terror"
    assert [line.split("\t")[0] for line in lines[1:]] == [item["id"][:12] for item in page["items"]]
    assert all(cell == cell.strip() and cell for line in lines for cell in line.split("\t"))
    assert done.stderr.splitlines() == [
        "site reports, newest first",
        f"more: add --cursor {page['next_cursor']}",
    ]


@pytest.fixture(scope="module")
def shown(env: dict[str, str], synced: dict[str, Any]) -> dict[str, Any]:
    site = next(s for s in synced["sites"] if s["site_id"] == SITES[2])
    report: dict[str, Any] = _json(env, "reports", "show", site["id"])
    return report


@pytest.mark.parametrize("columns", WIDTHS)
def test_reports_show_in_a_terminal(
    env: dict[str, str], synced: dict[str, Any], shown: dict[str, Any], columns: int
) -> None:
    site = next(s for s in synced["sites"] if s["site_id"] == SITES[2])
    code, lines = _in_terminal(env, columns, "reports", "show", site["id"][:12])
    assert code == 0
    items = shown["items"]
    tokens = [site["id"], synced["run_id"], shown["items_digest"], f"{site['posted']:,}"]
    tokens += [item["id"] for item in items[:5]] + [item["begin"] for item in items[:5]]
    _check_terminal_output(lines, columns, tokens)
    assert lines[0] == f"report {site['id']}"
    assert f"items: {shown['items_total']:,}, sha256 {shown['items_digest']}" in lines


@pytest.mark.parametrize("columns", WIDTHS)
def test_sites_list_in_a_terminal(env: dict[str, str], synced: dict[str, Any], columns: int) -> None:
    code, lines = _in_terminal(env, columns, "sites", "list")
    assert code == 0
    _check_terminal_output(lines, columns, [*SITES[:3], "2000-01-01" if False else "the run's"])
    assert all(word in " ".join(lines).split() for word in LONG_NAME.split())  # folded, never cut


def test_sites_list_piped(env: dict[str, str], synced: dict[str, Any]) -> None:
    done = _piped(env, "sites", "list")
    lines = done.stdout.splitlines()
    assert lines[0] == "site\tname\tcutoff\tenabled\tschedule\tupdated (UTC)"
    assert [line.split("\t")[:5] for line in lines[1:]] == [
        [SITES[0], SITES[0], "the run's", "yes", "-"],
        [SITES[1], LONG_NAME, "the run's", "yes", "-"],
        [SITES[2], SITES[2], "the run's", "yes", "-"],
    ]


@pytest.mark.parametrize("columns", WIDTHS)
def test_doctor_and_config_show_in_a_terminal(
    env: dict[str, str], synced: dict[str, Any], columns: int
) -> None:
    code, lines = _in_terminal(env, columns, "doctor")
    assert code == 0
    assert not [line for line in lines if "…" in line]
    assert [line.split(":")[0] for line in lines if line] == [
        "ok   configuration",
        "ok   KrakenFlex API",
        "ok   API key",
        "ok   report database",
    ]
    code, lines = _in_terminal(env, columns, "config", "show")
    assert code == 0
    assert not [line for line in lines if "…" in line]
    assert _whole(f"KRAKENFLEX_API_URL={env['KRAKENFLEX_API_URL']}", lines)


def test_config_show_piped_is_not_padded(env: dict[str, str]) -> None:
    done = _piped(env, "config", "show")
    assert done.returncode == 0
    assert all(re.fullmatch(r"[A-Z_]+=\S*  # [a-zA-Z .]+", line) for line in done.stdout.splitlines()), (
        done.stdout
    )


def test_quiet_still_prints_the_error_of_a_server_that_cannot_listen(env: dict[str, str]) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _piped(env, "-q", "serve", "--port", str(port))
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
