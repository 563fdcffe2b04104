"""SqlStore against real databases: every test runs on a fresh SQLite file and a fresh PostgreSQL database."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from functools import partial

import pytest
import sqlalchemy as sa

from outagesync.adapters.storage import SqlStore
from outagesync.domain.models import (
    CallStats,
    ErrorInfo,
    InvalidRecord,
    RunReport,
    RunStatus,
    SiteOutage,
    SiteResult,
    SiteStatus,
    Trigger,
)
from outagesync.domain.payload import payload_digest
from outagesync.domain.reports import ReportFilter, RunInfo
from outagesync.domain.sites import SiteChanges
from outagesync.errors import ReportNotFound, SiteAlreadyManaged, SiteNotManaged, StorageError
from outagesync.presenters.cursors import decode_cursor, encode_cursor

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ITEMS_MAX = 5


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    with SqlStore.from_url(database_url, items_max=ITEMS_MAX) as store:
        yield store


def _items(count: int) -> tuple[SiteOutage, ...]:
    return tuple(
        SiteOutage(
            f"dev-{n}", f"Battery {n}", f"2022-01-0{1 + n % 9}T00:00:00.000Z", "2023-01-01T00:00:00.000Z"
        )
        for n in range(count)
    )


def _site(
    site_id: str, *, at: datetime = T0, status: SiteStatus = SiteStatus.SUCCEEDED, items: int = 2
) -> SiteResult:
    return SiteResult(
        report_id=uuid.uuid4().hex,
        site_id=site_id,
        status=status,
        started_at=at,
        finished_at=at + timedelta(seconds=2),
        since=datetime(2022, 1, 1, tzinfo=UTC),
        fetched=108,
        site_devices=8,
        kept=items,
        items=_items(items),
    )


def _run(*sites: SiteResult, dry_run: bool = False) -> RunReport:
    started = min((site.started_at for site in sites), default=T0)
    return RunReport(
        uuid.uuid4().hex, Trigger.CLI, started, started + timedelta(seconds=3), "digest", dry_run, sites
    )


def _site_id() -> str:
    return f"site-{uuid.uuid4().hex[:8]}"


# -- migrations ------------------------------------------------------------------------------------------


def test_first_use_creates_the_schema(store: SqlStore) -> None:
    assert store.current_revision() is None
    assert store.check().migrated is False
    store.save_run(_run(_site(_site_id())))
    assert store.current_revision() == store.head_revision()
    health = store.check()
    assert (health.ok, health.migrated, health.error) == (True, True, None)


def test_upgrade_from_empty_matches_the_declared_tables(store: SqlStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from outagesync.adapters.storage.tables import metadata

    store.upgrade()
    engine = sa.create_engine(store.url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert [d for d in differences if "alembic_version" not in str(d)] == []


def test_downgrade_to_base_and_upgrade_again(store: SqlStore) -> None:
    store.save_run(_run(_site(_site_id())))
    store.downgrade("base")
    assert store.current_revision() is None
    engine = sa.create_engine(store.url)
    assert set(sa.inspect(engine).get_table_names()) <= {"outagesync_alembic_version"}
    engine.dispose()
    store.upgrade()
    assert store.current_revision() == store.head_revision()
    site = _site(_site_id())
    store.save_run(_run(site))
    assert store.get_report(site.report_id).site.site_id == site.site_id


def test_a_schema_from_a_newer_outagesync_is_refused(database_url: str) -> None:
    with SqlStore.from_url(database_url) as first:
        first.upgrade()
        with first._engine.begin() as connection:
            connection.execute(sa.text("UPDATE outagesync_alembic_version SET version_num = '9999'"))
    with SqlStore.from_url(database_url) as store, pytest.raises(StorageError, match="upgrade outagesync"):
        store.list_sites()


def test_stores_starting_at_once_migrate_once_and_all_write(database_url: str) -> None:
    """Eight stores (one per CLI process, in effect) on one empty database: first use races, none loses."""
    stores = [SqlStore.from_url(database_url) for _ in range(8)]
    site_id = _site_id()
    errors = _in_threads([partial(_save_runs, store, site_id, 5) for store in stores])
    assert errors == []
    assert len(stores[0].list_reports(ReportFilter(site_id=site_id), limit=500).reports) == 40
    for store in stores:
        store.dispose()


_WRITER = """
import sys, uuid
from datetime import UTC, datetime
from outagesync.adapters.storage import SqlStore
from outagesync.domain.models import RunReport, SiteResult, SiteStatus, Trigger
url, site_id = sys.argv[1:]
sys.stdin.read()  # start together
now = datetime.now(UTC)
with SqlStore.from_url(url) as store:
    for _ in range(10):
        site = SiteResult(uuid.uuid4().hex, site_id, SiteStatus.SUCCEEDED, now, now, now)
        store.save_run(RunReport(uuid.uuid4().hex, Trigger.CLI, now, now, "d", False, (site,)))
"""


def test_processes_writing_at_once_lose_nothing(database_url: str) -> None:
    """Four processes (like four `outagesync sync` at once) write into one database that none created yet."""
    site_id = _site_id()
    argv = [sys.executable, "-c", _WRITER, database_url, site_id]
    processes = [
        subprocess.Popen(argv, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603 (fixed argv)
        for _ in range(4)
    ]
    outcomes = [process.communicate(input="go", timeout=120) for process in processes]
    assert [(p.returncode, err) for p, (_out, err) in zip(processes, outcomes, strict=True)] == [(0, "")] * 4
    with SqlStore.from_url(database_url) as store:
        assert len(store.list_reports(ReportFilter(site_id=site_id), limit=500).reports) == 40


def _save_runs(store: SqlStore, site_id: str, count: int) -> None:
    for _ in range(count):
        store.save_run(_run(_site(site_id)))


def _in_threads(jobs: list[Callable[[], None]]) -> list[BaseException]:
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        barrier.wait()
        try:
            job()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


# -- reports ---------------------------------------------------------------------------------------------


def test_a_saved_report_comes_back_whole(store: SqlStore) -> None:
    calls = {"GET /site-info": CallStats(1), "GET /outages": CallStats(3), "POST /site-outages": CallStats(2)}
    invalid = (
        InvalidRecord("GET /outages", 4, "begin", "not a timestamp"),
        InvalidRecord("GET /outages", 7, None, "x"),
    )
    site = replace(
        _site(_site_id(), status=SiteStatus.FAILED),
        dropped_before_cutoff=5,
        dropped_unknown_device=90,
        invalid_records=invalid,
        calls=calls,
        post_status=400,
        upstream_message="Unexpected outages received",
        error=ErrorInfo(
            "upstream-rejected-payload", "the upstream rejected the payload: Unexpected outages received"
        ),
    )
    run = _run(site)
    store.save_run(run)
    stored = store.get_report(site.report_id)
    assert stored.site == site  # every field of the result, the call order kept on JSONB too
    assert list(stored.site.calls) == list(calls)
    assert stored.run == RunInfo(run.run_id, Trigger.CLI, RunStatus.FAILED, False)
    assert (stored.invalid_total, stored.items_total, stored.items_truncated, stored.items_loaded) == (
        2,
        2,
        False,
        True,
    )
    assert stored.items_digest == payload_digest(site.items)
    assert stored.posted == 0


def test_times_come_back_as_the_same_instants_in_utc(store: SqlStore) -> None:
    local = datetime(2024, 5, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    site = _site(_site_id(), at=local)
    store.save_run(_run(site))
    started_at = store.get_report(site.report_id).site.started_at
    assert started_at == local
    assert started_at.tzinfo is UTC
    assert started_at.hour == 12


def test_items_beyond_the_limit_keep_only_digest_and_total(store: SqlStore) -> None:
    big, exact = _site(_site_id(), items=ITEMS_MAX + 7), _site(_site_id(), items=ITEMS_MAX)
    store.save_run(_run(big, exact))
    stored = store.get_report(big.report_id)
    assert stored.site.items == big.items[:ITEMS_MAX]
    assert (stored.items_total, stored.items_truncated, stored.posted) == (ITEMS_MAX + 7, True, ITEMS_MAX + 7)
    assert stored.items_digest == payload_digest(big.items)
    assert store.get_report(exact.report_id).items_truncated is False


def test_a_dry_run_is_stored_with_its_status(store: SqlStore) -> None:
    site = _site(_site_id(), status=SiteStatus.DRY_RUN)
    store.save_run(_run(site, dry_run=True))
    stored = store.get_report(site.report_id)
    assert (stored.site.status, stored.run.status, stored.run.dry_run, stored.posted) == (
        SiteStatus.DRY_RUN,
        RunStatus.DRY_RUN,
        True,
        0,
    )


def test_saving_a_run_again_replaces_it(store: SqlStore) -> None:
    first = _site(_site_id(), status=SiteStatus.INTERRUPTED)
    run = _run(first)
    store.save_run(run)
    second = replace(first, report_id=uuid.uuid4().hex, status=SiteStatus.SUCCEEDED)
    store.save_run(replace(run, sites=(second,)))
    page = store.list_reports(ReportFilter(run_id=run.run_id), limit=10)
    assert [r.report_id for r in page.reports] == [second.report_id]


def test_reports_are_listed_newest_first_page_by_page(store: SqlStore) -> None:
    site_id = _site_id()
    sites = [_site(site_id, at=T0 + timedelta(minutes=n)) for n in range(7)]
    sites += [_site(site_id, at=T0 + timedelta(minutes=3)) for _ in range(2)]  # same start: ordered by id
    for site in sites:
        store.save_run(_run(site))
    expected = [s.report_id for s in sorted(sites, key=lambda s: (s.started_at, s.report_id), reverse=True)]
    seen: list[str] = []
    cursor = None
    while True:
        page = store.list_reports(ReportFilter(site_id=site_id), limit=4, after=cursor)
        seen += [r.report_id for r in page.reports]
        if page.more_after is None:
            break
        cursor = decode_cursor(encode_cursor(page.more_after))  # the token round trip of the entry points
    assert seen == expected
    assert all(not r.items_loaded and r.site.items == () for r in page.reports)  # listings leave them out


def test_reports_are_filtered_by_site_status_run_and_time(store: SqlStore) -> None:
    site_a, site_b = _site_id(), _site_id()
    early = _site(site_a, at=T0)
    late_failed = _site(site_a, at=T0 + timedelta(hours=1), status=SiteStatus.FAILED)
    other = _site(site_b, at=T0 + timedelta(hours=1))
    run = _run(late_failed, other)
    store.save_run(_run(early))
    store.save_run(run)

    def ids(**criteria: object) -> set[str]:
        page = store.list_reports(ReportFilter(**criteria), limit=50)  # type: ignore[arg-type]
        return {r.report_id for r in page.reports}

    assert ids(site_id=site_a) == {early.report_id, late_failed.report_id}
    assert ids(site_id=site_a, status=SiteStatus.FAILED) == {late_failed.report_id}
    assert ids(run_id=run.run_id) == {late_failed.report_id, other.report_id}
    assert ids(site_id=site_a, started_from=T0 + timedelta(minutes=1)) == {late_failed.report_id}
    assert ids(site_id=site_a, started_before=T0 + timedelta(hours=1)) == {early.report_id}


def test_an_unknown_report_is_not_found(store: SqlStore) -> None:
    with pytest.raises(ReportNotFound, match="no report with id 'missing'"):
        store.get_report("missing")
    with pytest.raises(ReportNotFound):
        store.delete_report("missing")


def test_a_report_is_found_by_a_unique_prefix_of_its_id(store: SqlStore) -> None:
    first = replace(_site(_site_id()), report_id="abcdef01" + "a" * 24)
    second = replace(_site(_site_id()), report_id="abcdef01" + "b" * 24)
    store.save_run(_run(first, second))
    assert store.get_report("abcdef01a").report_id == first.report_id
    with pytest.raises(ReportNotFound, match="more than one report id starts with 'abcdef01'"):
        store.get_report("abcdef01")
    with pytest.raises(ReportNotFound):
        store.get_report("abcdef0")  # shorter than 8 characters: exact ids only
    with pytest.raises(ReportNotFound):
        store.get_report("abcdef0_a")  # LIKE wildcards are matched literally


def test_clearing_reports_deletes_only_the_matching_ones(store: SqlStore) -> None:
    site_a, site_b = _site_id(), _site_id()
    old, new, other = _site(site_a, at=T0), _site(site_a, at=T0 + timedelta(days=2)), _site(site_b, at=T0)
    old_run = _run(old)
    for run in (old_run, _run(new), _run(other)):
        store.save_run(run)
    deleted = store.delete_reports(ReportFilter(site_id=site_a, started_before=T0 + timedelta(days=1)))
    assert deleted == 1
    remaining = {r.report_id for r in store.list_reports(ReportFilter(), limit=50).reports}
    assert remaining == {new.report_id, other.report_id}
    with store._engine.connect() as connection:  # the run left without reports went too
        assert (
            connection.execute(
                sa.text("SELECT count(*) FROM runs WHERE id = :id"), {"id": old_run.run_id}
            ).scalar()
            == 0
        )
    assert store.delete_reports(ReportFilter()) == 2


def test_deleting_one_report(store: SqlStore) -> None:
    keep, drop = _site(_site_id()), _site(_site_id())
    store.save_run(_run(keep, drop))
    store.delete_report(drop.report_id)
    assert [r.report_id for r in store.list_reports(ReportFilter(), limit=10).reports] == [keep.report_id]


def test_concurrent_writers_on_one_store_lose_nothing(store: SqlStore) -> None:
    site_id = _site_id()
    errors = _in_threads([partial(_save_runs, store, site_id, 5) for _ in range(8)])
    assert errors == []
    assert len(store.list_reports(ReportFilter(site_id=site_id), limit=500).reports) == 40


# -- managed sites ---------------------------------------------------------------------------------------


def test_managed_sites_are_added_and_listed_by_id(store: SqlStore) -> None:
    since = datetime(2023, 1, 1, tzinfo=UTC)
    b = store.add_site("b-site", name="Site B", since=since)
    store.add_site("a-site")
    store.add_site("c-site", enabled=False)
    assert store.get_site("b-site") == b
    assert (b.name, b.since, b.enabled, b.created_at == b.updated_at) == ("Site B", since, True, True)
    assert [s.site_id for s in store.list_sites()] == ["a-site", "b-site", "c-site"]
    assert [s.site_id for s in store.list_sites(enabled_only=True)] == ["a-site", "b-site"]
    assert [s.site_id for s in store.list_sites(limit=1, after="a-site")] == ["b-site"]


def test_a_site_cannot_be_added_twice(store: SqlStore) -> None:
    store.add_site("twice")
    with pytest.raises(SiteAlreadyManaged, match="'twice' is already managed"):
        store.add_site("twice", name="again")
    assert store.get_site("twice").name is None


def test_updating_a_site_changes_only_what_is_given(store: SqlStore) -> None:
    added = store.add_site("upd", name="Old", since=datetime(2023, 1, 1, tzinfo=UTC))
    renamed = store.update_site("upd", SiteChanges(name="New"))
    assert (renamed.name, renamed.since, renamed.enabled) == ("New", added.since, True)
    assert renamed.created_at == added.created_at
    assert renamed.updated_at >= added.updated_at
    cleared = store.update_site("upd", SiteChanges(name=None, since=None, enabled=False))
    assert (cleared.name, cleared.since, cleared.enabled) == (None, None, False)
    assert store.get_site("upd") == cleared


def test_unknown_sites_are_not_managed(store: SqlStore) -> None:
    with pytest.raises(SiteNotManaged, match="'ghost' is not managed"):
        store.get_site("ghost")
    with pytest.raises(SiteNotManaged):
        store.update_site("ghost", SiteChanges(enabled=False))
    with pytest.raises(SiteNotManaged):
        store.remove_site("ghost")


def test_removing_a_site_keeps_its_reports(store: SqlStore) -> None:
    store.add_site("gone")
    site = _site("gone")
    store.save_run(_run(site))
    store.remove_site("gone")
    assert store.list_sites() == []
    assert store.get_report(site.report_id).site.site_id == "gone"
