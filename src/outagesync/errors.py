"""The exception tree and its user-facing messages. Imports nothing of ours.

    OutageSyncError              base; str(exc) is shown to the user as is     internal-error
    ├── ConfigError              a missing or invalid setting                  config-error
    ├── InvalidInput             a bad argument, flag or request parameter     invalid-request
    │   └── InvalidSiteId        a site id that must not go into a URL         invalid-site-id
    ├── UpstreamError            the KrakenFlex API failed us                  upstream-error
    │   ├── ApiKeyRejected       403: "the API key was rejected"               upstream-key-rejected
    │   ├── UnknownSite          404: "unknown site: <id>"                     unknown-site
    │   ├── PayloadRejected      400: "the upstream rejected the payload: ..." upstream-rejected-payload
    │   ├── UpstreamRejected     any other 4xx                                 upstream-rejected
    │   └── UpstreamUnavailable  5xx, 429, timeout, connection error           upstream-unavailable
    ├── InvalidUpstreamData      "<endpoint> record <index>: <field>: ..."     invalid-upstream-data
    ├── StorageError             the report database failed us                 storage-unavailable
    ├── ReportNotFound                                                         report-not-found
    ├── SiteNotManaged           no managed site with that id                  site-not-managed
    ├── SiteAlreadyManaged       a managed site with that id exists            site-already-managed
    ├── SiteBusy                 another sync holds the site's lock            site-busy
    ├── EmptyListRefused         [] would clear a site's non-empty list        empty-list-refused
    ├── RunInterrupted           the run stopped before the site finished      interrupted
    └── JobNotFound              no queue job with that id                     job-not-found

Every class has a stable `code` (the right column): reports store it, the REST API's problem types and
the CLI's exit codes are looked up by it (one table each, in the entry points). A code never changes
once released; a new condition gets a new class and a new code. Messages say what happened and what to
do; they never hold the API key.
"""

from __future__ import annotations

from typing import Any


class OutageSyncError(Exception):
    """Base of every error we expect; its message is shown to the user as is."""

    code = "internal-error"


class ConfigError(OutageSyncError):
    """A missing or invalid setting (environment, `.env`, or a flag that sets one)."""

    code = "config-error"


class InvalidInput(OutageSyncError):
    """A bad argument of a use case: a flag's value, a request parameter, a cursor, a time range."""

    code = "invalid-request"


class InvalidSiteId(InvalidInput):
    """A site id that cannot be a KrakenFlex site id (and must not go into a URL)."""

    code = "invalid-site-id"


class UpstreamError(OutageSyncError):
    """The KrakenFlex API failed us; `attempts` is how many requests were made. `detail`: what the
    upstream's JSON answer said beyond its `message` (its `detail`, or its other fields), if anything."""

    code = "upstream-error"
    detail: Any = None

    def __init__(self, message: str, *, endpoint: str = "", attempts: int = 1, status: int | None = None):
        super().__init__(message)
        self.endpoint = endpoint
        self.attempts = attempts
        self.status = status


class ApiKeyRejected(UpstreamError):
    """403: the API key is missing or wrong."""

    code = "upstream-key-rejected"


class UnknownSite(UpstreamError):
    """404: the upstream does not know the site."""

    code = "unknown-site"


class PayloadRejected(UpstreamError):
    """400: the upstream refused what we posted; `upstream_message` is its reason."""

    code = "upstream-rejected-payload"

    def __init__(
        self, upstream_message: str, *, endpoint: str = "", attempts: int = 1, status: int | None = None
    ) -> None:
        super().__init__(
            f"the upstream rejected the payload: {upstream_message}",
            endpoint=endpoint,
            attempts=attempts,
            status=status,
        )
        self.upstream_message = upstream_message


class UpstreamRejected(UpstreamError):
    """Any other 4xx: deterministic, so never retried."""

    code = "upstream-rejected"


class UpstreamUnavailable(UpstreamError):
    """5xx, 429, timeout or connection error, still failing after every retry; `retry_after_s` is the
    upstream's last Retry-After hint, if it gave one."""

    code = "upstream-unavailable"

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        attempts: int = 1,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, endpoint=endpoint, attempts=attempts, status=status)
        self.retry_after_s = retry_after_s


class InvalidUpstreamData(OutageSyncError):
    """An upstream response does not match the contract (names endpoint, record and field).

    `attempts` is how many requests it took to receive the response that failed validation.
    """

    code = "invalid-upstream-data"

    def __init__(
        self,
        endpoint: str,
        problem: str,
        *,
        index: int | None = None,
        field: str | None = None,
        attempts: int = 1,
    ):
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
        self.attempts = attempts
        # GET /outages: every bad record found (domain InvalidRecords, up to a cap), how many in all, and
        # how many records the body held; the message names the first
        self.invalid_records: tuple[Any, ...] = ()
        self.invalid_total = 0
        self.records_seen: int | None = None


class StorageError(OutageSyncError):
    """The report database could not be reached or refused the operation."""

    code = "storage-unavailable"


class ReportNotFound(OutageSyncError):
    """No run or site report with that id."""

    code = "report-not-found"


class SiteNotManaged(OutageSyncError):
    """No managed site with that id."""

    code = "site-not-managed"


class SiteAlreadyManaged(OutageSyncError):
    """A managed site with that id already exists."""

    code = "site-already-managed"


class SiteBusy(OutageSyncError):
    """Another sync of the site (another run, process or machine) held its lock for the whole wait."""

    code = "site-busy"


class EmptyListRefused(OutageSyncError):
    """Posting an empty list would clear the site's last accepted list, which was not empty: refused
    unless the caller allows it (`--allow-empty`, `allow_empty=true`)."""

    code = "empty-list-refused"


class RunInterrupted(OutageSyncError):
    """The run was stopped (Ctrl-C, shutdown) before the site finished; its report says `interrupted`."""

    code = "interrupted"


class JobNotFound(OutageSyncError):
    """No job with that id in the queue."""

    code = "job-not-found"


def error_classes() -> list[type[OutageSyncError]]:
    """Every class of the tree, the base first: what the code tables must cover (their tests check it)."""
    found: list[type[OutageSyncError]] = [OutageSyncError]
    for cls in found:
        found.extend(cls.__subclasses__())
    return found


def error_from_code(code: str, message: str) -> OutageSyncError:
    """An error of the class whose code is `code`, saying `message`: how a failure stored in a result
    (ErrorInfo) is raised again where a caller wants an exception. Unknown codes give the base class."""
    cls = next((c for c in error_classes() if c.code == code), OutageSyncError)
    error = Exception.__new__(cls)
    Exception.__init__(error, message)  # not cls.__init__: the details behind the message are not kept
    return error
