"""The sandbox writes GET /outages in any JSON style, and outagesync syncs every one the same way."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from outagesync.adapters.krakenflex.client import KrakenFlexClient, RetryPolicy
from outagesync.sandbox import Sandbox
from outagesync.services.sync import SyncOptions, sync_sites

STYLES = {
    "compact": (b'[{"id":', b"\n"),
    "spaced": (b'[{"id": ', b"\n"),
    "indented": (b'[\n  {\n    "id": ', b"\r\n"),
    "crlf": (b'[\r\n  {\r\n    "id": ', None),
}


async def _outages(sandbox: Sandbox) -> bytes:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{sandbox.url}/outages", headers={"x-api-key": sandbox.api_key})
        return response.content


@pytest.mark.parametrize("style", list(STYLES))
async def test_every_style_serves_the_same_records_and_syncs_alike(style: str) -> None:
    head, absent = STYLES[style]
    with Sandbox(json_style=style) as sandbox, Sandbox() as compact:
        body = await _outages(sandbox)
        assert body.startswith(head)
        if absent is not None:
            assert absent not in body
        plain = await _outages(compact)
        assert json.loads(body) == json.loads(plain)
        async with KrakenFlexClient(
            sandbox.url, sandbox.api_key, policy=RetryPolicy(max_attempts=1)
        ) as client:
            report = await sync_sites(
                ["norwich-pear-tree"],
                options=SyncOptions(since=datetime(2022, 1, 1, tzinfo=UTC)),
                upstream=client,
                reports=None,
                clock=lambda: datetime.now(UTC),
            )
        (site,) = report.sites
        assert (site.status, site.posted) == ("succeeded", 10)
        sandbox.reset()  # the style stays: it is the constructor's
        again = await _outages(sandbox)
        assert again == body


def test_an_unknown_style_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"unknown JSON style 'pretty': use one of compact, spaced, indented, crlf"
    ):
        Sandbox(json_style="pretty")


def test_the_cli_refuses_an_unknown_style_as_a_usage_error() -> None:
    from typer.testing import CliRunner

    from outagesync.entrypoints.cli import app

    result = CliRunner().invoke(app, ["sandbox", "--json-style", "pretty"])
    assert result.exit_code == 2
    assert "Invalid value for --json-style: use one of compact, spaced, indented, crlf" in result.output
