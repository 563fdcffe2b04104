"""The public Python API against the sandbox, through `import outagesync` only (no internal module)."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest

import outagesync
from outagesync.sandbox import Sandbox

DATA = Path(__file__).parent.parent / "data"
NORWICH = "norwich-pear-tree"


@pytest.fixture
def settings(sandbox: Sandbox, sqlite_url: str) -> dict[str, object]:
    return sandbox.settings(database_url=sqlite_url, backoff_initial=0.01, backoff_max=0.02)


def test_a_sync_posts_the_list_and_stores_the_report(sandbox: Sandbox, settings: dict[str, object]) -> None:
    report = outagesync.sync([NORWICH], settings=settings)
    assert isinstance(report, outagesync.RunReport)
    (site,) = report.sites
    assert (report.status, report.trigger, site.status, site.posted, site.post_status) == (
        outagesync.RunStatus.SUCCEEDED,
        outagesync.Trigger.PYTHON,
        outagesync.SiteStatus.SUCCEEDED,
        10,
        200,
    )
    assert sandbox.accepted(NORWICH) == json.loads((DATA / "accepted_norwich.json").read_text())
    stored = outagesync.get_report(site.report_id, settings=settings)
    assert (stored.site, stored.run.run_id) == (site, report.run_id)
    page = outagesync.list_reports(site_id=NORWICH, settings=settings)
    assert [r.report_id for r in page.reports] == [site.report_id]
    assert page.more_after is None


def test_a_dry_run_posts_nothing(sandbox: Sandbox, settings: dict[str, object]) -> None:
    report = outagesync.sync([NORWICH], dry_run=True, settings=settings)
    (site,) = report.sites
    assert (report.status, site.status, len(site.items), site.posted) == ("dry_run", "dry_run", 10, 0)
    assert [r.method for r in sandbox.requests if r.method == "POST"] == []


def test_an_empty_list_is_refused_unless_allow_empty(sandbox: Sandbox, settings: dict[str, object]) -> None:
    assert outagesync.sync([NORWICH], settings=settings).ok  # the site's accepted list now has 10 items
    sandbox.clear_requests()
    refused = outagesync.sync([NORWICH], since="2099-01-01", settings=settings).sites[0]
    assert (refused.status, refused.error and refused.error.code) == ("failed", "empty-list-refused")
    assert [r.method for r in sandbox.requests if r.method == "POST"] == []
    allowed = outagesync.sync([NORWICH], since="2099-01-01", allow_empty=True, settings=settings).sites[0]
    # posted: the sandbox accepts only the 2022 cutoff's list, so it refuses [] with a 400
    assert (allowed.post_status, allowed.error and allowed.error.code) == (400, "upstream-rejected-payload")
    assert [r.method for r in sandbox.requests if r.method == "POST"] == ["POST"]


def test_a_failing_site_is_a_result_not_an_exception(settings: dict[str, object]) -> None:
    report = outagesync.sync(["nowhere", "kingfisher"], settings=settings)
    results = {site.site_id: (site.status, site.error) for site in report.sites}
    assert results == {
        "nowhere": (
            "failed",
            outagesync.ErrorInfo(
                "unknown-site", "unknown site: nowhere (GET /site-info: 404 Site not found)"
            ),
        ),
        "kingfisher": ("succeeded", None),
    }
    assert (report.status, report.ok) == (outagesync.RunStatus.PARTIAL, False)


def test_configuration_errors_are_exceptions_of_the_tree(sandbox: Sandbox, sqlite_url: str) -> None:
    with pytest.raises(outagesync.errors.ConfigError, match=r"^no API key: set KRAKENFLEX_API_KEY"):
        outagesync.sync([NORWICH], settings={"api_url": sandbox.url, "database_url": sqlite_url})
    with pytest.raises(outagesync.errors.ConfigError, match=r"KRAKENFLEX_API_URL: must be an http"):
        outagesync.Client({"api_url": "ftp://x"})
    with pytest.raises(outagesync.errors.InvalidSiteId, match=r"invalid site id '\.\./etc'"):
        outagesync.sync(["../etc"], settings=sandbox.settings(database_url=sqlite_url))
    with pytest.raises(outagesync.errors.InvalidInput, match="not one string"):
        outagesync.sync(NORWICH, settings=sandbox.settings(database_url=sqlite_url))


def test_explicit_settings_ignore_the_environment(
    sandbox: Sandbox, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKENFLEX_API_KEY", "wrong-key")
    monkeypatch.setenv("OUTAGESYNC_SINCE", "2099-01-01T00:00:00Z")
    given = outagesync.Settings(api_url=sandbox.url, api_key=sandbox.api_key, database_url=sqlite_url)
    (site,) = outagesync.sync([NORWICH], settings=given).sites
    assert (site.status, site.posted) == ("succeeded", 10)


def test_no_settings_means_the_environment(
    sandbox: Sandbox, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env in the way
    monkeypatch.setenv("KRAKENFLEX_API_URL", sandbox.url)
    monkeypatch.setenv("KRAKENFLEX_API_KEY", sandbox.api_key)
    monkeypatch.setenv("OUTAGESYNC_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("OUTAGESYNC_SINCE", "2099-01-01T00:00:00Z")
    items = outagesync.preview("kingfisher")
    assert items == []  # the environment's cutoff applied


def test_preview_returns_the_items_and_raises_the_sites_failure(settings: dict[str, object]) -> None:
    expected = json.loads((DATA / "expected_kingfisher.json").read_text())
    items = outagesync.preview("kingfisher", settings=settings)
    assert [{"id": i.id, "name": i.name, "begin": i.begin, "end": i.end} for i in items] == expected
    assert outagesync.preview("kingfisher", since="2023-01-01", settings=settings) == []
    with pytest.raises(outagesync.errors.UnknownSite, match=r"^unknown site: nowhere \(GET /site-info: 404"):
        outagesync.preview("nowhere", settings=settings)


def test_without_a_store_nothing_is_recorded(settings: dict[str, object]) -> None:
    with outagesync.Client(settings, store=False) as client:
        (site,) = client.sync([NORWICH]).sites
        assert site.status == "succeeded"
        with pytest.raises(outagesync.errors.ConfigError, match="store=False"):
            client.list_reports()
    assert outagesync.list_reports(settings=settings).reports == ()


async def test_the_async_variant_runs_in_the_running_loop(settings: dict[str, object]) -> None:
    report = await outagesync.sync_async(["kingfisher"], settings=settings)
    assert [site.status for site in report.sites] == ["succeeded"]
    items = await outagesync.preview_async("kingfisher", settings=settings)
    assert len(items) == 3
    with pytest.raises(outagesync.errors.InvalidInput, match=r"await sync_async\(\) instead"):
        outagesync.sync(["kingfisher"], settings=settings)


def test_one_client_from_two_threads_at_once(sandbox: Sandbox, settings: dict[str, object]) -> None:
    reports: dict[str, outagesync.RunReport] = {}
    start = threading.Barrier(2)
    with outagesync.Client(settings) as client:

        def run(site_id: str) -> None:
            start.wait()
            reports[site_id] = client.sync([site_id])

        threads = [threading.Thread(target=run, args=(site,)) for site in ("kingfisher", NORWICH)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert {site: r.sites[0].status for site, r in reports.items()} == {
            "kingfisher": "succeeded",
            NORWICH: "succeeded",
        }
        stored = {r.site.site_id for r in client.list_reports().reports}
    assert stored == {"kingfisher", NORWICH}
    assert sandbox.accepted(NORWICH) is not None
    assert sandbox.accepted("kingfisher") is not None


def test_the_public_surface_imports_nothing_heavy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, outagesync; print([m for m in ('pydantic', 'sqlalchemy', 'httpx') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert done.stdout == "[]\n"


def test_running_in_an_event_loop_thread_is_refused_clearly() -> None:
    async def inside() -> None:
        with pytest.raises(outagesync.errors.InvalidInput):
            outagesync.preview("kingfisher", settings={"api_key": "x"})

    asyncio.run(inside())


def test_the_examples_run() -> None:
    import subprocess
    import sys

    done = subprocess.run(  # noqa: S603 (our own example, by path)
        [sys.executable, str(DATA.parent.parent / "examples" / "python_api.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert lines[:3] == [
        "norwich-pear-tree: succeeded (posted 10)",
        "kingfisher: succeeded (posted 3)",
        "script exit code: 0",
    ]
    assert lines[3].startswith("task: {'site_id': 'kingfisher', 'posted': 3, 'report_id': '")
    assert lines[4:] == [
        "last 3 kingfisher reports: ['succeeded', 'succeeded', 'succeeded']",
        "service previewed 3 items",
    ]
