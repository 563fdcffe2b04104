"""Example values for /openapi.json and /docs: data only, one story (a sync of norwich-pear-tree)."""

from __future__ import annotations

from typing import Any

ITEM: dict[str, Any] = {
    "id": "002b28fc-283c-47ec-9af2-ea287336dc1b",
    "name": "Battery 1",
    "begin": "2022-05-23T12:21:27.377Z",
    "end": "2022-11-13T02:16:38.905Z",
}
SITE_IN: dict[str, Any] = {
    "site_id": "norwich-pear-tree",
    "name": "Norwich Pear Tree",
    "since": "2022-01-01T00:00:00.000Z",
    "enabled": True,
    "schedule": "*/15 * * * *",
    "allow_empty": False,
}
SITE_SETTINGS: dict[str, Any] = {key: value for key, value in SITE_IN.items() if key != "site_id"}
SITE: dict[str, Any] = {
    **SITE_IN,
    "created_at": "2024-05-01T09:30:00.000Z",
    "updated_at": "2024-05-01T09:30:00.000Z",
}
SITE_OUTCOME: dict[str, Any] = {
    "id": "5f0c6b7e9d8a4b0e8f1c2d3e4a5b6c7d",
    "site_id": "norwich-pear-tree",
    "status": "succeeded",
    "started_at": "2024-05-01T09:30:00.000Z",
    "finished_at": "2024-05-01T09:30:00.412Z",
    "since": "2022-01-01T00:00:00.000Z",
    "fetched": 12,
    "site_devices": 2,
    "kept": 1,
    "dropped_before_cutoff": 3,
    "dropped_unknown_device": 8,
    "invalid": 0,
    "posted": 1,
    "calls": {
        "GET /outages": {"attempts": 1, "retries": 0},
        "GET /site-info": {"attempts": 1, "retries": 0},
        "POST /site-outages": {"attempts": 2, "retries": 1},
    },
    "post_status": 200,
    "upstream_message": None,
    "upstream_detail": None,
    "error": None,
    "invalid_records": [],
}
RUN_ID = "0d8b0ad41c7a4f40a8b9e2f0d6c1a3b5"
REPORT_SUMMARY: dict[str, Any] = {
    **SITE_OUTCOME,
    "run_id": RUN_ID,
    "trigger": "api",
    "run_status": "succeeded",
    "dry_run": False,
    "items_total": 1,
    "items_digest": "0b5d2b1a8d1e0a7f7c5e8a8f0e5f2b6a1c9d3e7f4a2b8c6d0e1f3a5b7c9d2e4f",
    "items_truncated": False,
}
REPORT: dict[str, Any] = {**REPORT_SUMMARY, "items": [ITEM]}
CURSOR = "WyIyMDI0LTA1LTAxVDA5OjMwOjAwKzAwOjAwIiwiNWYwYyJd"
REPORT_PAGE: dict[str, Any] = {
    "items": [REPORT_SUMMARY],
    "next_cursor": CURSOR,
    "next": f"/reports?limit=1&cursor={CURSOR}",
}
RUN: dict[str, Any] = {
    "run_id": RUN_ID,
    "trigger": "api",
    "status": "succeeded",
    "dry_run": False,
    "started_at": "2024-05-01T09:30:00.000Z",
    "finished_at": "2024-05-01T09:30:00.412Z",
    "settings_digest": "9c1185a5c5e9fc54612808977ee8f548b2258d31d1f3c0a4e0b6a1b1f0c2d3e4",
    "report_stored": True,
    "storage_error": None,
    "sites": [SITE_OUTCOME],
}
PREVIEW: dict[str, Any] = {
    "site_id": "norwich-pear-tree",
    "since": "2022-01-01T00:00:00.000Z",
    "fetched": 12,
    "site_devices": 2,
    "kept": 1,
    "dropped_before_cutoff": 3,
    "dropped_unknown_device": 8,
    "invalid": 0,
    "invalid_records": [],
    "items": [ITEM],
    "items_truncated": False,
}
CHECK: dict[str, Any] = {
    "status": "OK",
    "database": {"status": "OK", "migrated": True, "elapsed_ms": 0.8},
    "elapsed_ms": 1.1,
}
PROBLEM: dict[str, Any] = {
    "type": "urn:outagesync:problem:upstream-rejected-payload",
    "title": "The KrakenFlex API rejected the payload",
    "status": 502,
    "detail": "the upstream rejected the payload: site outages must not be empty",
    "instance": "/sites/norwich-pear-tree/sync",
    "site_id": "norwich-pear-tree",
    "report_id": "5f0c6b7e9d8a4b0e8f1c2d3e4a5b6c7d",
    "run_id": RUN_ID,
    "report": "/reports/5f0c6b7e9d8a4b0e8f1c2d3e4a5b6c7d",
}
