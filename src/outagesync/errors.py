"""The exception tree, its user-facing messages and exit codes. Imports nothing of ours.

    OutageSyncError              base; str(exc) is shown to the user as is        exit 1
    ├── ConfigError              missing or invalid setting or flag               exit 2
    │   └── InvalidSiteId        a site id that must not go into a URL
    ├── UpstreamError            the KrakenFlex API failed us                     exit 1
    │   ├── ApiKeyRejected       403: "the API key was rejected"
    │   ├── UnknownSite          404: "unknown site: <id>"
    │   ├── PayloadRejected      400: "the upstream rejected the payload: <its message>"
    │   ├── UpstreamRejected     any other 4xx
    │   └── UpstreamUnavailable  5xx, 429, timeout or connection error after every retry
    ├── InvalidUpstreamData      "<endpoint> record <index>: <field>: <problem>"
    ├── StorageError             the report database failed us
    ├── ReportNotFound
    ├── SiteNotManaged           no managed site with that id
    └── SiteAlreadyManaged       a managed site with that id exists

Messages say what happened and what to do; they never hold the API key.
"""

from __future__ import annotations


class OutageSyncError(Exception):
    """Base of every error we expect; its message is shown to the user as is."""

    exit_code = 1


class ConfigError(OutageSyncError):
    """A missing or invalid setting or flag."""

    exit_code = 2


class InvalidSiteId(ConfigError):
    """A site id that cannot be a KrakenFlex site id (and must not go into a URL)."""


class UpstreamError(OutageSyncError):
    """The KrakenFlex API failed us; `attempts` is how many requests were made."""

    def __init__(self, message: str, *, endpoint: str = "", attempts: int = 1, status: int | None = None):
        super().__init__(message)
        self.endpoint = endpoint
        self.attempts = attempts
        self.status = status


class ApiKeyRejected(UpstreamError):
    """403: the API key is missing or wrong."""


class UnknownSite(UpstreamError):
    """404: the upstream does not know the site."""


class PayloadRejected(UpstreamError):
    """400: the upstream refused what we posted; `upstream_message` is its reason."""

    def __init__(self, upstream_message: str, **kwargs: object) -> None:
        super().__init__(f"the upstream rejected the payload: {upstream_message}", **kwargs)  # type: ignore[arg-type]
        self.upstream_message = upstream_message


class UpstreamRejected(UpstreamError):
    """Any other 4xx: deterministic, so never retried."""


class UpstreamUnavailable(UpstreamError):
    """5xx, 429, timeout or connection error, still failing after every retry."""


class InvalidUpstreamData(OutageSyncError):
    """An upstream response does not match the contract (names endpoint, record and field)."""

    def __init__(self, endpoint: str, problem: str, *, index: int | None = None, field: str | None = None):
        where = endpoint
        if index is not None:
            where += f" record {index}"
        if field:
            where += f": {field}"
        super().__init__(f"{where}: {problem}")
        self.endpoint = endpoint
        self.index = index
        self.field = field
        self.problem = problem


class StorageError(OutageSyncError):
    """The report database could not be reached or refused the operation."""


class ReportNotFound(OutageSyncError):
    """No run or site report with that id."""


class SiteNotManaged(OutageSyncError):
    """No managed site with that id."""


class SiteAlreadyManaged(OutageSyncError):
    """A managed site with that id already exists."""
