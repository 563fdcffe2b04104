"""The Python API (`import outagesync`): the CLI's use cases for other programs, as values, never printing.

Like the CLI and the REST API, an entry point: it checks its arguments, calls the use cases through the
ports bootstrap builds, and returns their values. No `sys.exit`, no global state; settings come from the
environment only when `settings=None`. The names re-exported by `outagesync` are the stable surface.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from outagesync import bootstrap
from outagesync.config import ExplicitSettings, Settings, explicit_settings, load_settings, with_ssm_secrets
from outagesync.defaults import REPORTS_PAGE_SIZE
from outagesync.domain.models import RunReport, SiteOutage, SiteStatus, Trigger
from outagesync.domain.reports import ReportCursor, ReportPage, StoredReport, check_aware
from outagesync.domain.timestamps import parse_cutoff
from outagesync.entrypoints.run import run_to_value
from outagesync.errors import ConfigError, InvalidInput, error_from_code
from outagesync.services import reports as report_cases
from outagesync.services.one_site import preview_site_outages
from outagesync.services.ports import Store
from outagesync.services.sync import (
    Locking,
    SyncOptions,
    sync_managed_sites,
    sync_sites,
    with_managed_permissions,
)

SettingsLike = Settings | Mapping[str, Any] | None


class Client:
    """outagesync configured once, for several calls: `with Client(settings) as client: client.sync([...])`.

    `settings`: an `outagesync.Settings`, a mapping of its fields (`{"api_key": ..., "api_url": ...}`),
    or None for the environment and `.env`, as the CLI reads them. `store=False`: no report store (runs
    are not recorded; `list_reports` and `get_report` are unavailable). Safe to share between threads;
    the blocking methods must not be called from a running event loop (use the `_async` ones there).
    """

    def __init__(self, settings: SettingsLike = None, *, store: bool = True) -> None:
        self.settings = resolve_settings(settings)
        self._store: Store | None = bootstrap.build_store(self.settings) if store else None

    def close(self) -> None:
        """Close the report store's connections."""
        if self._store is not None:
            self._store.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def sync_async(
        self,
        site_ids: Sequence[str] | None = None,
        *,
        since: datetime | str | None = None,
        dry_run: bool = False,
        skip_invalid: bool = False,
        allow_empty: bool = False,
    ) -> RunReport:
        """Sync the sites (None: every enabled managed site) and return the run's report.

        An empty list is not posted for a site whose last accepted list was not empty (the site fails
        `empty-list-refused`) unless `allow_empty`. A failing site is a result (`SiteResult.status`
        failed, `.error.code`), not an exception; the run
        is stored unless the client has no store (`report.storage_error` says if storing failed).
        Raises ConfigError (e.g. no API key) and InvalidInput (e.g. a bad site id or cutoff).
        """
        if isinstance(site_ids, str):
            raise InvalidInput("site_ids is a list of site ids, not one string")
        options = self._options(since, dry_run=dry_run, skip_invalid=skip_invalid, allow_empty=allow_empty)
        locking = Locking(self._store.open_locks() if self._store else bootstrap.local_locks())
        async with bootstrap.open_upstream(self.settings) as upstream:
            if site_ids is None:
                return await sync_managed_sites(
                    sites=self._require_store(),
                    options=options,
                    upstream=upstream,
                    reports=self._store,
                    clock=_now,
                    locking=locking,
                )
            if self._store is not None:
                options = await with_managed_permissions(options, list(site_ids), self._store)
            return await sync_sites(
                list(site_ids),
                options=options,
                upstream=upstream,
                reports=self._store,
                clock=_now,
                locking=locking,
            )

    def sync(
        self,
        site_ids: Sequence[str] | None = None,
        *,
        since: datetime | str | None = None,
        dry_run: bool = False,
        skip_invalid: bool = False,
        allow_empty: bool = False,
    ) -> RunReport:
        """`sync_async`, blocking: runs its own event loop in the calling thread."""
        _not_in_a_running_loop("sync")
        return run_to_value(
            self.sync_async(
                site_ids, since=since, dry_run=dry_run, skip_invalid=skip_invalid, allow_empty=allow_empty
            )
        )

    async def preview_async(
        self, site_id: str, *, since: datetime | str | None = None, skip_invalid: bool = False
    ) -> list[SiteOutage]:
        """What a sync of the site would post now (a managed site's own cutoff applies unless `since` is
        given). Posts and stores nothing. The site's failure is raised: its class from `outagesync.errors`
        (e.g. UnknownSite), with the message a report would give."""
        options = self._options(None, dry_run=True, skip_invalid=skip_invalid)
        cutoff = _cutoff(since)
        async with bootstrap.open_upstream(self.settings) as upstream:
            result = await preview_site_outages(
                site_id,
                options=options,
                upstream=upstream,
                sites=self._store,
                clock=_now,
                since=cutoff,
            )
        if result.error is not None:
            raise error_from_code(result.error.code, result.error.message)
        return list(result.items)

    def preview(
        self, site_id: str, *, since: datetime | str | None = None, skip_invalid: bool = False
    ) -> list[SiteOutage]:
        """`preview_async`, blocking."""
        _not_in_a_running_loop("preview")
        return run_to_value(self.preview_async(site_id, since=since, skip_invalid=skip_invalid))

    def list_reports(
        self,
        *,
        site_id: str | None = None,
        status: SiteStatus | str | None = None,
        run_id: str | None = None,
        started_from: datetime | None = None,
        started_before: datetime | None = None,
        limit: int = REPORTS_PAGE_SIZE,
        after: ReportCursor | None = None,
    ) -> ReportPage:
        """A page of stored site reports (without items), newest first; pass `page.more_after` as `after`
        for the next page."""
        return report_cases.list_reports(
            reports=self._require_store(),
            site_id=site_id,
            status=status,
            run_id=run_id,
            started_from=started_from,
            started_before=started_before,
            limit=limit,
            after=after,
        )

    def get_report(self, report_id: str) -> StoredReport:
        """One stored site report with its items (a unique id prefix of 8+ characters will do)."""
        return report_cases.get_report(report_id, reports=self._require_store())

    def _options(
        self, since: datetime | str | None, *, dry_run: bool, skip_invalid: bool, allow_empty: bool = False
    ) -> SyncOptions:
        options = bootstrap.sync_options(
            self.settings,
            trigger=Trigger.PYTHON,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            allow_empty=allow_empty,
        )
        cutoff = _cutoff(since)
        return options if cutoff is None else replace(options, since=cutoff)

    def _require_store(self) -> Store:
        if self._store is None:
            raise ConfigError("this client was made with store=False: it has no report store")
        return self._store


def resolve_settings(settings: SettingsLike) -> Settings:
    """The settings to use: as given, from a mapping (nothing else read), or from the environment."""
    if settings is None:
        return load_settings()
    if isinstance(settings, Settings):
        return with_ssm_secrets(settings)  # as given, its *_ssm_parameter secrets read (once)
    if isinstance(settings, Mapping):
        return explicit_settings(settings)
    raise ConfigError(
        f"settings must be an outagesync.Settings, a mapping or None, not {type(settings).__name__}"
    )


def _cutoff(since: datetime | str | None) -> datetime | None:
    if isinstance(since, str):
        try:
            return parse_cutoff(since)
        except ValueError:
            raise InvalidInput(
                f"invalid cutoff {since!r}: use ISO 8601, e.g. 2022-01-01T00:00:00.000Z"
            ) from None
    return check_aware("cutoff", since)


def _not_in_a_running_loop(name: str) -> None:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise InvalidInput(f"outagesync.{name}() blocks: in a running event loop, await {name}_async() instead")


def _now() -> datetime:
    return datetime.now(UTC)


# -- module-level functions: one call, one client -----------------------------------------------------


def sync(
    site_ids: Sequence[str] | None = None,
    *,
    since: datetime | str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    allow_empty: bool = False,
    settings: SettingsLike = None,
    store: bool = True,
) -> RunReport:
    """Sync sites now, blocking; see `Client.sync_async`."""
    with Client(settings, store=store) as client:
        return client.sync(
            site_ids, since=since, dry_run=dry_run, skip_invalid=skip_invalid, allow_empty=allow_empty
        )


async def sync_async(
    site_ids: Sequence[str] | None = None,
    *,
    since: datetime | str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    allow_empty: bool = False,
    settings: SettingsLike = None,
    store: bool = True,
) -> RunReport:
    """Sync sites now, in the running event loop; see `Client.sync_async`."""
    with Client(settings, store=store) as client:
        return await client.sync_async(
            site_ids, since=since, dry_run=dry_run, skip_invalid=skip_invalid, allow_empty=allow_empty
        )


def preview(
    site_id: str,
    *,
    since: datetime | str | None = None,
    skip_invalid: bool = False,
    settings: SettingsLike = None,
    store: bool = True,
) -> list[SiteOutage]:
    """What a sync of the site would post now, blocking; see `Client.preview_async`."""
    with Client(settings, store=store) as client:
        return client.preview(site_id, since=since, skip_invalid=skip_invalid)


async def preview_async(
    site_id: str,
    *,
    since: datetime | str | None = None,
    skip_invalid: bool = False,
    settings: SettingsLike = None,
    store: bool = True,
) -> list[SiteOutage]:
    """What a sync of the site would post now, in the running event loop; see `Client.preview_async`."""
    with Client(settings, store=store) as client:
        return await client.preview_async(site_id, since=since, skip_invalid=skip_invalid)


def list_reports(
    *,
    site_id: str | None = None,
    status: SiteStatus | str | None = None,
    run_id: str | None = None,
    started_from: datetime | None = None,
    started_before: datetime | None = None,
    limit: int = REPORTS_PAGE_SIZE,
    after: ReportCursor | None = None,
    settings: SettingsLike = None,
) -> ReportPage:
    """A page of stored site reports; see `Client.list_reports`."""
    with Client(settings) as client:
        return client.list_reports(
            site_id=site_id,
            status=status,
            run_id=run_id,
            started_from=started_from,
            started_before=started_before,
            limit=limit,
            after=after,
        )


def get_report(report_id: str, *, settings: SettingsLike = None) -> StoredReport:
    """One stored site report with its items; see `Client.get_report`."""
    with Client(settings) as client:
        return client.get_report(report_id)


__all__ = [
    "Client",
    "ExplicitSettings",
    "get_report",
    "list_reports",
    "preview",
    "preview_async",
    "sync",
    "sync_async",
]
