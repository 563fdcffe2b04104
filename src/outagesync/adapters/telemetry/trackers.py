"""Error reports to Sentry and Rollbar: each failed site once, each unexpected exception once.

No secret leaves: local variables and source lines are never collected, request data neither, and
every string of a payload has the process's secrets (API key, API token, database password) replaced
just before it is sent. Each SDK is imported only when its setting is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from outagesync.domain.models import SiteResult

REDACTED = "[redacted]"


def package_version() -> str:
    """outagesync's installed version (from its metadata: the root package is above this layer)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("outagesync")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree never installed
        return "unknown"


@dataclass(frozen=True, slots=True)
class SentryConfig:
    dsn: str
    environment: str | None = None
    traces_sample_rate: float = 0.0


@dataclass(frozen=True, slots=True)
class RollbarConfig:
    access_token: str
    environment: str = "production"
    endpoint: str | None = None  # self-hosted, or a test receiver: ".../api/1/"


@dataclass(frozen=True, slots=True)
class FailedSite:
    """What a tracker is told about a failed site (the error's message never holds a secret either)."""

    run_id: str
    trigger: str
    site: SiteResult

    @property
    def fields(self) -> dict[str, Any]:
        error = self.site.error
        return {
            "run_id": self.run_id,
            "trigger": self.trigger,
            "site_id": self.site.site_id,
            "report_id": self.site.report_id,
            "error_code": error.code if error else None,
            "upstream_status": self.site.post_status,
        }

    @property
    def message(self) -> str:
        error = self.site.error
        return f"site {self.site.site_id} failed: {error.code}: {error.message}" if error else ""


def scrub(value: Any, secrets: Sequence[str]) -> Any:
    """`value` with every occurrence of each secret in its strings (keys too) replaced by REDACTED."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {scrub(key, secrets): scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub(item, secrets) for item in value)
    return value


class SentryTracker:
    def __init__(self, config: SentryConfig, secrets: Sequence[str]) -> None:
        import sentry_sdk

        self._sdk = sentry_sdk
        self._secrets = tuple(secret for secret in secrets if secret)

        def before_send(event: Any, _hint: Any) -> Any:
            return scrub(event, self._secrets)

        sentry_sdk.init(
            dsn=config.dsn,
            environment=config.environment,
            release=f"outagesync@{package_version()}",
            traces_sample_rate=config.traces_sample_rate,
            # what we report, we report ourselves: no logging, excepthook or framework integrations
            default_integrations=False,
            auto_enabling_integrations=False,
            data_collection={
                "user_info": False,
                "http_bodies": [],
                "stack_frame_variables": False,  # locals may hold the API key
                "frame_context_lines": 0,  # source lines may hold anything
                "database_query_data": False,
            },
            before_send=before_send,
        )

    def site_failed(self, failed: FailedSite) -> None:
        with self._sdk.new_scope() as scope:
            for name, value in failed.fields.items():
                if value is not None:
                    scope.set_tag(name, str(value))
            scope.fingerprint = ["site-failed", str(failed.fields["error_code"])]
            scope.capture_message(failed.message, level="error")

    def exception(self, exc: BaseException) -> None:
        self._sdk.capture_exception(exc)

    def close(self) -> None:
        self._sdk.flush(timeout=10)


_ROLLBAR_SECRETS: list[str] = []  # rollbar's payload handlers are global: one, reading this list


class RollbarTracker:
    def __init__(self, config: RollbarConfig, secrets: Sequence[str]) -> None:
        import rollbar
        import rollbar.lib.events

        self._rollbar = rollbar
        _ROLLBAR_SECRETS[:] = [secret for secret in secrets if secret]
        options: dict[str, Any] = {
            "handler": "thread",
            "locals": {"enabled": False},  # local variables may hold the API key
            "capture_ip": False,
            "capture_username": False,
            "capture_email": False,
            "include_request_body": False,
            "code_version": package_version(),
        }
        if config.endpoint:
            options["endpoint"] = config.endpoint
        rollbar.init(config.access_token, config.environment, **options)
        rollbar.lib.events.add_payload_handler(_scrub_rollbar)  # after init, which resets the handlers

    def site_failed(self, failed: FailedSite) -> None:
        self._rollbar.report_message(failed.message, level="error", extra_data=failed.fields)

    def exception(self, exc: BaseException) -> None:
        self._rollbar.report_exc_info((type(exc), exc, exc.__traceback__))

    def close(self) -> None:
        self._rollbar.wait()  # type: ignore[no-untyped-call]


def _scrub_rollbar(payload: Any, **_kw: Any) -> Any:
    data = scrub(payload, _ROLLBAR_SECRETS)
    if isinstance(data, dict):
        _drop_code_context(data)
    return data


def _drop_code_context(node: Any) -> None:
    """Rollbar sends the source line of each frame (`code`, `context`): drop them."""
    if isinstance(node, dict):
        for key in ("code", "context", "args", "kwargs", "locals", "argspec", "varargspec", "keywordspec"):
            node.pop(key, None)
        for item in node.values():
            _drop_code_context(item)
    elif isinstance(node, list):
        for item in node:
            _drop_code_context(item)
