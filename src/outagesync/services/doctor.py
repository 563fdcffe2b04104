"""`outagesync doctor`'s checks over the ports: does the upstream answer like the KrakenFlex API and
accept the key, is the report database reachable and migrated. Reads only: nothing is posted or stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from outagesync.defaults import DEFAULT_SITE
from outagesync.errors import ApiKeyRejected, InvalidUpstreamData, UnknownSite, UpstreamError
from outagesync.services.ports import StoreAdmin, Upstream

URL_FIX = "check KRAKENFLEX_API_URL (scheme, host, port and path), the network, and OUTAGESYNC_CA_BUNDLE"
KEY_FIX = "set KRAKENFLEX_API_KEY to the key you were given (alone: no quotes, spaces or newline)"
DB_FIX = "check OUTAGESYNC_DATABASE_URL, that the database is up and writable, then `outagesync db upgrade`"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the checklist: what was checked, whether it passed, what was seen, how to fix it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


async def check_upstream(*, upstream: Upstream, url: str) -> list[Check]:
    """`GET /site-info/<the default site>` (read only): the URL answers like the KrakenFlex API (over
    verified TLS for https), and the key is accepted. A 404 for the site still proves both."""
    reached = Check("KrakenFlex API", True, f"{url} answers like the KrakenFlex API")
    try:
        await upstream.fetch_site_info(DEFAULT_SITE)
    except UnknownSite:
        pass
    except ApiKeyRejected as exc:
        return [reached, Check("API key", False, str(exc), KEY_FIX)]
    except (UpstreamError, InvalidUpstreamData) as exc:
        failed = Check("KrakenFlex API", False, str(exc), URL_FIX)
        return [failed, Check("API key", False, "not checked: the API did not answer", KEY_FIX)]
    return [reached, Check("API key", True, "accepted")]


def check_database(*, store: StoreAdmin) -> Check:
    """A real round trip to the report database, and its schema at the newest revision."""
    health = store.check()
    if not health.ok:
        return Check("report database", False, f"{store.database}: {health.error}", DB_FIX)
    if not health.migrated:
        at = f"at revision {health.revision}" if health.revision else "empty (never migrated)"
        detail = f"{store.database}: schema {at}, not at {store.head_revision()}"
        return Check("report database", False, detail, "run `outagesync db upgrade`")
    refused = store.check_writable()
    if refused is not None:
        detail = f"{store.database}: reachable, schema at {health.revision}, but not writable: {refused}"
        return Check("report database", False, detail, DB_FIX)
    return Check(
        "report database", True, f"{store.database}: reachable, writable, schema at {health.revision}"
    )
