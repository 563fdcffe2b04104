"""No outcome lost, on SQLite and PostgreSQL: any upstream text round-trips, a refused outcome is spooled
and stored by the next store that opens the database, a run whose process died reads as abandoned."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from outagesync.adapters.storage import SqlStore
from outagesync.domain.models import (
    ErrorInfo,
    RunReport,
    RunStatus,
    SiteOutage,
    SiteResult,
    SiteStatus,
    Trigger,
)
from outagesync.domain.reports import ReportFilter
from outagesync.errors import StorageError
from tests.lock_holder import start_holder, stop_holder

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
STRANGE = ["nul\x00inside", "back\\slash \\0 \\\\", "é ✓ 🔋", "\x01\x1f\x7f", "x" * 20_000, "\\u0000"]


def _run(*sites: SiteResult, status: SiteStatus | None = None) -> RunReport:
    return RunReport(uuid.uuid4().hex, Trigger.CLI, T0, T0, "d", False, sites)


def _site(status: SiteStatus = SiteStatus.SUCCEEDED, **fields: object) -> SiteResult:
    return SiteResult(uuid.uuid4().hex, "kingfisher", status, T0, T0, T0, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", STRANGE)
def test_any_upstream_text_round_trips(database_url: str, tmp_path: Path, text: str) -> None:
    site = _site(
        SiteStatus.FAILED,
        items=(SiteOutage("d1", text, "2022-01-01T00:00:00.000Z", text),),
        upstream_message=text,
        error=ErrorInfo("upstream-rejected-payload", f"the upstream rejected the payload: {text}"),
    )
    with SqlStore.from_url(database_url, spool_dir=tmp_path) as store:
        store.save_run(_run(site))
        assert store.get_report(site.report_id).site == site
    assert not store.spool.path.exists()


def test_an_outcome_the_database_refuses_is_spooled_then_stored_by_the_next_store(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    report = _run(_site())
    broken = "postgresql+psycopg://outagesync:hunter2@127.0.0.1:1/none"
    with SqlStore.from_url(broken, spool_dir=tmp_path) as down, pytest.raises(StorageError) as caught:
        down.save_run(report)
    (logged,) = [r for r in caplog.records if r.name == "outagesync.storage"]
    assert (logged.levelname, logged.getMessage().endswith(f"the report is kept in {down.spool.path}")) == (
        "ERROR",
        True,
    )
    message = str(caught.value)
    kept = f"the report is kept in {down.spool.path}"
    assert message.endswith(f"{kept} and will be stored by the next command that opens the database")
    assert "hunter2" not in message + down.spool.path.read_text()
    assert len(down.spool.path.read_bytes().splitlines()) == 1
    # the spool is per database: the broken URL's spool is replayed by a store of that URL only
    spooled = SqlStore.from_url(sqlite_url, spool_dir=tmp_path)
    spooled.spool = down.spool  # the same database, back again (a file where the server was)
    with spooled:
        assert spooled.get_report(report.sites[0].report_id).site == report.sites[0]
    assert not down.spool.path.exists()


def test_a_run_that_cannot_be_recorded_before_posting_is_not_spooled(tmp_path: Path) -> None:
    running = _run(_site(SiteStatus.RUNNING))
    with SqlStore.from_url("postgresql+psycopg://u@127.0.0.1:1/none", spool_dir=tmp_path) as down:
        with pytest.raises(StorageError, match=r"^cannot use the report database"):
            down.save_run(running)
        assert not down.spool.path.exists()


def test_a_running_run_reads_as_abandoned_once_its_process_is_gone(database_url: str, tmp_path: Path) -> None:
    report = _run(_site(SiteStatus.RUNNING))
    with SqlStore.from_url(database_url, spool_dir=tmp_path) as store:
        store.save_run(report)
        process = start_holder(database_url, f"run:{report.run_id}")  # the run's process, alive
        try:
            live = store.get_report(report.sites[0].report_id)
            assert (live.site.status, live.run.status) == (SiteStatus.RUNNING, RunStatus.RUNNING)
        finally:
            stop_holder(process)
        dead = store.get_report(report.sites[0].report_id)
        assert (dead.site.status, dead.run.status) == (SiteStatus.ABANDONED, RunStatus.ABANDONED)
        (listed,) = store.list_reports(ReportFilter(run_id=report.run_id), limit=10).reports
        assert listed.site.status is SiteStatus.ABANDONED
        # its outcome, when it comes, replaces the record
        store.save_run(replace(report, sites=(replace(report.sites[0], status=SiteStatus.SUCCEEDED),)))
        assert store.get_report(report.sites[0].report_id).site.status is SiteStatus.SUCCEEDED
