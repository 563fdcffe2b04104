"""The CLI's table rendering (render.grid) at every width from 60 to 160 columns, and the run summary line:
nothing cut, ids and figures whole, a table when it fits, else stacked blocks; piped, tab-separated."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from rich.console import Console

from outagesync.domain.models import (
    CallStats,
    ErrorInfo,
    RunReport,
    SiteOutage,
    SiteResult,
    SiteStatus,
    Trigger,
)
from outagesync.entrypoints.cli.render.grid import Column, Grid, print_grid
from outagesync.entrypoints.cli.render.runs import render_run, run_summary

AT = datetime(2024, 5, 1, 12, tzinfo=UTC)
NAME = "Battery at the far end of the long north-bank pier"
GRID = Grid(
    (Column("id", "id"), Column("name"), Column("count", "number"), Column("status", "status")),
    [
        (
            "0f8b6c1e-3d5a-4c2b-9e7f-1a2b3c4d5e6f",
            "Battery at the far end of the long north-bank pier",
            1_234_567,
            "succeeded",
        ),
        ("a1b2c3d4-0000-4000-8000-000000000001", "Inverter", None, "failed"),
    ],
    title="things",
)


def _terminal(width: int) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=width, force_terminal=True, color_system=None), out


@pytest.mark.parametrize("width", range(60, 161, 4))
def test_nothing_is_cut_at_any_width(width: int) -> None:
    console, out = _terminal(width)
    print_grid(GRID, console)
    lines = out.getvalue().splitlines()
    assert not [line for line in lines if "…" in line]
    assert max(len(line.rstrip()) for line in lines) <= width
    text = "\n".join(lines)
    for token in (
        "0f8b6c1e-3d5a-4c2b-9e7f-1a2b3c4d5e6f",
        "a1b2c3d4-0000-4000-8000-000000000001",
        "1,234,567",
    ):
        assert re.search(rf"(?<![\w,-]){re.escape(token)}(?![\w,-])", text), (width, token)
    words = text.split()
    assert all(word in words for word in NAME.split(" "))
    stacked = "id: 0f8b6c1e-3d5a-4c2b-9e7f-1a2b3c4d5e6f" in lines
    assert stacked is (width < 70)  # the id (36), the count, the status, the name's longest word and gaps


def test_stacked_blocks_are_column_value_lines() -> None:
    console, out = _terminal(60)
    print_grid(GRID, console)
    assert out.getvalue().splitlines() == [
        "things",
        "",
        "id: 0f8b6c1e-3d5a-4c2b-9e7f-1a2b3c4d5e6f",
        f"name: {NAME}",
        "count: 1,234,567",
        "status: succeeded",
        "",
        "id: a1b2c3d4-0000-4000-8000-000000000001",
        "name: Inverter",
        "count: -",
        "status: failed",
    ]


def test_piped_is_tab_separated_plain_and_the_title_goes_to_stderr() -> None:
    out, err = io.StringIO(), io.StringIO()
    piped = Console(file=out, width=80)
    print_grid(GRID, piped, err=Console(file=err, width=80))
    print_grid(GRID, piped)  # a second table on the same console: after an empty line
    rows = [
        "id\tname\tcount\tstatus",
        f"0f8b6c1e-3d5a-4c2b-9e7f-1a2b3c4d5e6f\t{NAME}\t1234567\tsucceeded",
        "a1b2c3d4-0000-4000-8000-000000000001\tInverter\t-\tfailed",
    ]
    assert out.getvalue().splitlines() == [*rows, "", *rows]
    assert err.getvalue() == "things\n"


def _site(n: int, status: SiteStatus, posted: int) -> SiteResult:
    error = ErrorInfo("unknown-site", f"unknown site: s{n}") if status is SiteStatus.FAILED else None
    items = tuple(
        SiteOutage(f"d{i}", f"Device {i}", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z")
        for i in range(posted)
    )
    calls = {"GET /outages": CallStats(1), "GET /site-info": CallStats(1)}
    return SiteResult(
        f"r{n}",
        f"s{n}",
        status,
        AT,
        AT,
        AT,
        fetched=500,
        site_devices=2,
        kept=posted,
        calls=calls,
        items=items,
        error=error,
    )


def test_a_run_of_many_sites_ends_with_a_summary_line() -> None:
    sites = [
        _site(n, SiteStatus.FAILED if n in (7, 700) else SiteStatus.SUCCEEDED, 124 if n < 996 else 0)
        for n in range(1000)
    ]
    report = RunReport("f" * 32, Trigger.CLI, AT, AT, "", False, tuple(sites))
    assert run_summary(report) == "1,000 sites: 998 succeeded, 2 failed · posted 123,256 items"
    dry = replace(report, dry_run=True, sites=tuple(replace(s, status=SiteStatus.DRY_RUN) for s in sites[:3]))
    assert run_summary(dry) == "3 sites: 3 dry run · would post 372 items"


def test_the_run_table_shows_codes_and_dashes_where_a_figure_does_not_apply() -> None:
    failed = SiteResult(
        "r1",
        "nowhere",
        SiteStatus.FAILED,
        AT,
        AT,
        AT,
        calls={"GET /site-info": CallStats(1)},
        error=ErrorInfo("unknown-site", "unknown site: nowhere"),
    )
    console, out = _terminal(160)
    render_run(RunReport("e" * 32, Trigger.CLI, AT, AT, "", False, (failed,)), console, console)
    row = next(line for line in out.getvalue().splitlines() if line.startswith("nowhere"))
    assert row.split() == [
        "nowhere",
        "failed",
        "-",
        "-",
        "-",
        "-",
        "-",
        "0",
        "-",
        "1",
        "(0)",
        "-",
        "unknown-site",
    ]
    assert "nowhere: unknown site: nowhere" in out.getvalue().splitlines()
