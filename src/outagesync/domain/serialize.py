"""Reports as plain JSON-ready dicts: one shape for `sync --json`, the REST API and the stored JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from outagesync.domain.models import RunReport, SiteResult


def isoformat(moment: datetime) -> str:
    """UTC, millisecond precision, `Z`: the upstream's own timestamp form."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def site_result_to_dict(
    site: SiteResult, *, run_id: str | None = None, with_items: bool = True
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": site.report_id,
        "site_id": site.site_id,
        "status": site.status.value,
        "started_at": isoformat(site.started_at),
        "finished_at": isoformat(site.finished_at),
        "since": isoformat(site.since),
        "fetched": site.fetched,
        "site_devices": site.site_devices,
        "kept": site.kept,
        "dropped_before_cutoff": site.dropped_before_cutoff,
        "dropped_unknown_device": site.dropped_unknown_device,
        "invalid": len(site.invalid_records),
        "posted": site.posted,
        "calls": {
            endpoint: {"attempts": stats.attempts, "retries": stats.retries}
            for endpoint, stats in site.calls.items()
        },
        "post_status": site.post_status,
        "upstream_message": site.upstream_message,
        "error": {"type": site.error.type, "message": site.error.message} if site.error else None,
        "invalid_records": [str(record) for record in site.invalid_records],
    }
    if run_id is not None:
        data["run_id"] = run_id
    if with_items:
        data["items"] = [
            {"id": item.id, "name": item.name, "begin": item.begin, "end": item.end} for item in site.items
        ]
    return data


def run_report_to_dict(report: RunReport, *, with_items: bool = True) -> dict[str, Any]:
    return {
        "run_id": report.run_id,
        "trigger": report.trigger.value,
        "status": report.status.value,
        "dry_run": report.dry_run,
        "started_at": isoformat(report.started_at),
        "finished_at": isoformat(report.finished_at),
        "settings_digest": report.settings_digest,
        "report_stored": report.storage_error is None,
        "storage_error": report.storage_error,
        "sites": [site_result_to_dict(site, with_items=with_items) for site in report.sites],
    }
