"""outagesync: keep each energy site's outage list on the KrakenFlex platform correct.

The public Python API is what this module exports (`__all__`, documented in docs/python-api.md and
versioned semantically); every other module is internal. Names are imported on first use, so that
`import outagesync` (and the `outagesync` command's start-up) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from outagesync import errors
    from outagesync.config import ExplicitSettings as Settings
    from outagesync.domain.models import (
        ErrorInfo,
        RunReport,
        RunStatus,
        SiteOutage,
        SiteResult,
        SiteStatus,
        Trigger,
    )
    from outagesync.domain.reports import ReportCursor, ReportPage, RunInfo, StoredReport
    from outagesync.entrypoints.library import (
        Client,
        get_report,
        list_reports,
        preview,
        preview_async,
        sync,
        sync_async,
    )
    from outagesync.errors import OutageSyncError

_EXPORTS = {
    "Client": ("outagesync.entrypoints.library", "Client"),
    "sync": ("outagesync.entrypoints.library", "sync"),
    "sync_async": ("outagesync.entrypoints.library", "sync_async"),
    "preview": ("outagesync.entrypoints.library", "preview"),
    "preview_async": ("outagesync.entrypoints.library", "preview_async"),
    "list_reports": ("outagesync.entrypoints.library", "list_reports"),
    "get_report": ("outagesync.entrypoints.library", "get_report"),
    "Settings": ("outagesync.config", "ExplicitSettings"),
    "RunReport": ("outagesync.domain.models", "RunReport"),
    "SiteResult": ("outagesync.domain.models", "SiteResult"),
    "SiteOutage": ("outagesync.domain.models", "SiteOutage"),
    "SiteStatus": ("outagesync.domain.models", "SiteStatus"),
    "RunStatus": ("outagesync.domain.models", "RunStatus"),
    "Trigger": ("outagesync.domain.models", "Trigger"),
    "ErrorInfo": ("outagesync.domain.models", "ErrorInfo"),
    "StoredReport": ("outagesync.domain.reports", "StoredReport"),
    "RunInfo": ("outagesync.domain.reports", "RunInfo"),
    "ReportPage": ("outagesync.domain.reports", "ReportPage"),
    "ReportCursor": ("outagesync.domain.reports", "ReportCursor"),
    "OutageSyncError": ("outagesync.errors", "OutageSyncError"),
}

__all__ = [
    "Client",
    "ErrorInfo",
    "OutageSyncError",
    "ReportCursor",
    "ReportPage",
    "RunInfo",
    "RunReport",
    "RunStatus",
    "Settings",
    "SiteOutage",
    "SiteResult",
    "SiteStatus",
    "StoredReport",
    "Trigger",
    "__version__",
    "errors",
    "get_report",
    "list_reports",
    "preview",
    "preview_async",
    "sync",
    "sync_async",
]


def __getattr__(name: str) -> Any:
    if name == "errors":
        return importlib.import_module("outagesync.errors")
    if name not in _EXPORTS:
        raise AttributeError(f"module 'outagesync' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
