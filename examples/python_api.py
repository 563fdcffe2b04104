"""Using outagesync from Python: a script, an Airflow-style task and an async service.

Type-checked by `make lint` (mypy --strict), so these examples stay true to the API. Run it against the
built-in sandbox: `.venv/bin/python examples/python_api.py`.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import outagesync
from outagesync.sandbox import Sandbox


def script(settings: outagesync.Settings) -> int:
    """A script: sync two sites, print what happened, exit 0 only if every site was accepted."""
    report = outagesync.sync(["norwich-pear-tree", "kingfisher"], settings=settings)
    for site in report.sites:
        outcome = (
            f"posted {site.posted}" if site.error is None else f"{site.error.code}: {site.error.message}"
        )
        print(f"{site.site_id}: {site.status} ({outcome})")
    return 0 if report.ok else 1


def handler(site_id: str, day: date, settings: outagesync.Settings) -> dict[str, object]:
    """An Airflow/Dagster/Prefect-style task: one site, a cutoff from the schedule, a summary to return.

    A failing site is a result; raise to let the orchestrator retry it.
    """
    since = datetime(day.year, day.month, day.day, tzinfo=UTC)
    (site,) = outagesync.sync([site_id], since=since, settings=settings).sites
    if site.error is not None:
        raise RuntimeError(f"{site_id}: {site.error.code}: {site.error.message}")
    return {"site_id": site.site_id, "posted": site.posted, "report_id": site.report_id}


async def service(settings: outagesync.Settings) -> list[outagesync.SiteOutage]:
    """An async service: preview without posting, then sync, in the service's own event loop."""
    with outagesync.Client(settings) as client:
        items = await client.preview_async("kingfisher")
        report = await client.sync_async(["kingfisher"])
        assert report.sites[0].posted == len(items)
        page = client.list_reports(site_id="kingfisher", limit=5)
        print(f"last {len(page.reports)} kingfisher reports: {[r.site.status.value for r in page.reports]}")
        return items


def main() -> None:
    with Sandbox() as sandbox, tempfile.TemporaryDirectory() as directory:
        database = Path(directory) / "reports.db"
        settings = outagesync.Settings(**sandbox.settings(database_url=f"sqlite:///{database}"))
        try:
            print("script exit code:", script(settings))
            print("task:", handler("kingfisher", date(2022, 1, 1), settings))
            print("service previewed", len(asyncio.run(service(settings))), "items")
        except outagesync.errors.OutageSyncError as exc:  # configuration, input or storage trouble
            print(f"error ({exc.code}): {exc}")


if __name__ == "__main__":
    main()
