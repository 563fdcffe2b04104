"""Settings: environment, `.env` file and flags, validated once. Built by entrypoints only, passed down."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import os
import re
import unicodedata
from collections.abc import Container, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from outagesync import defaults
from outagesync.defaults import DEFAULT_API_URL, DEFAULT_SINCE
from outagesync.errors import ConfigError

API_TOKEN_MIN_LENGTH = 16  # a shorter OUTAGESYNC_API_TOKEN is guessable: refused

__all__ = ["DEFAULT_API_URL", "DEFAULT_SINCE", "ExplicitSettings", "Settings", "load_settings"]


class Settings(BaseSettings):
    """Every knob of outagesync. Flags > environment > `.env` > defaults."""

    model_config = SettingsConfigDict(
        env_prefix="OUTAGESYNC_", env_file=".env", extra="ignore", populate_by_name=True
    )

    api_url: str = Field(
        DEFAULT_API_URL, validation_alias=AliasChoices("KRAKENFLEX_API_URL", "OUTAGESYNC_API_URL")
    )
    api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("KRAKENFLEX_API_KEY", "KRAKEN_API_KEY")
    )
    since: str = DEFAULT_SINCE
    max_attempts: int = Field(defaults.MAX_ATTEMPTS, ge=1, le=100)
    backoff_initial: float = Field(defaults.BACKOFF_INITIAL_S, ge=0, le=600)
    backoff_max: float = Field(defaults.BACKOFF_MAX_S, ge=0, le=3600)
    retry_after_max: float = Field(defaults.RETRY_AFTER_MAX_S, ge=0, le=3600)
    rate_limit_max_attempts: int = Field(defaults.RATE_LIMIT_MAX_ATTEMPTS, ge=1, le=100)
    timeout: float = Field(defaults.TIMEOUT_S, gt=0, le=3600)
    deadline: float = Field(defaults.DEADLINE_S, gt=0, le=86400)
    concurrency: int = Field(defaults.CONCURRENCY, ge=1, le=256)
    lock_wait: float = Field(defaults.LOCK_WAIT_S, ge=0, le=86400)
    sync_wait: float = Field(defaults.SYNC_WAIT_S, ge=0, le=3600)
    # the job queue (docs/scale-out.md): PostgreSQL only
    execution: Literal["inline", "queue"] = "inline"  # how REST syncs run: in the API process, or as jobs
    batch_size: int = Field(defaults.BATCH_SIZE, ge=1, le=10_000)
    job_retries: int = Field(defaults.JOB_RETRIES, ge=0, le=100)
    job_backoff: float = Field(defaults.JOB_BACKOFF_S, ge=0, le=86400)
    worker_concurrency: int = Field(defaults.WORKER_CONCURRENCY, ge=1, le=64)
    stall_timeout: float = Field(defaults.STALL_TIMEOUT_S, ge=1, le=86400)
    schedule: str | None = None  # cron (UTC) for every enabled managed site without its own
    ca_bundle: str | None = None  # a PEM file of CAs to verify the upstream's HTTPS certificate with
    database_url: str | None = None
    api_token: SecretStr | None = None
    trusted_proxies: str | None = None  # comma-separated IPs/CIDRs whose X-Forwarded-For is believed
    report_items_max: int = Field(defaults.REPORT_ITEMS_MAX, ge=0)
    # names of AWS SSM Parameter Store parameters holding a secret (docs/deploy.md): see with_ssm_secrets
    api_key_ssm_parameter: str | None = Field(None, validation_alias="KRAKENFLEX_API_KEY_SSM_PARAMETER")
    api_token_ssm_parameter: str | None = None
    database_url_ssm_parameter: str | None = None
    # botocore reads only AWS_DEFAULT_REGION (and profiles); AWS_REGION, the other SDKs' name, comes first
    aws_region: str | None = Field(None, validation_alias="AWS_REGION")
    _from_ssm: dict[str, str] = PrivateAttr(default_factory=dict)  # variable -> parameter it was read from
    # telemetry (docs/observability.md); the OTEL_, SENTRY_ and ROLLBAR_ names are those of their tools
    log_format: Literal["text", "json"] = "text"
    pushgateway_url: str | None = None
    otel_exporter_otlp_endpoint: str | None = Field(None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    otel_exporter_otlp_traces_endpoint: str | None = Field(
        None, validation_alias="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    otel_service_name: str = Field("outagesync", validation_alias="OTEL_SERVICE_NAME")
    otel_resource_attributes: str | None = Field(None, validation_alias="OTEL_RESOURCE_ATTRIBUTES")
    otel_sdk_disabled: bool = Field(False, validation_alias="OTEL_SDK_DISABLED")
    sentry_dsn: SecretStr | None = Field(None, validation_alias="SENTRY_DSN")
    sentry_environment: str | None = Field(None, validation_alias="SENTRY_ENVIRONMENT")
    sentry_traces_sample_rate: float = Field(0.0, ge=0, le=1, validation_alias="SENTRY_TRACES_SAMPLE_RATE")
    rollbar_access_token: SecretStr | None = Field(None, validation_alias="ROLLBAR_ACCESS_TOKEN")
    rollbar_environment: str = Field("production", validation_alias="ROLLBAR_ENVIRONMENT")
    rollbar_endpoint: str | None = Field(None, validation_alias="ROLLBAR_ENDPOINT")

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"must be an http(s) URL such as {DEFAULT_API_URL}, got {_shown(value)!r}")
        if parts.query or parts.fragment:
            raise ValueError(
                f"must be the API's base URL, without a query or fragment (# or ?), got {_shown(value)!r}"
            )
        return value.strip()

    @field_validator(
        "pushgateway_url",
        "otel_exporter_otlp_endpoint",
        "otel_exporter_otlp_traces_endpoint",
        "rollbar_endpoint",
    )
    @classmethod
    def _optional_http_url(cls, value: str | None) -> str | None:
        """Unset or empty: None. Else an http(s) URL."""
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.strip()

    @field_validator("api_key")
    @classmethod
    def _usable_key(cls, value: SecretStr | None) -> SecretStr | None:
        """No whitespace or control characters (an x-api-key header cannot carry them, and they are
        usually a stray space or newline from a copy). Never echoes the key."""
        key = value.get_secret_value() if value is not None else ""
        if any(char.isspace() or unicodedata.category(char).startswith("C") for char in key):
            raise ValueError(
                "contains whitespace or control characters (a stray space or newline from a copy and "
                "paste?): set the key alone (it is not shown here)"
            )
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        from outagesync.domain.schedules import check_schedule
        from outagesync.errors import InvalidInput

        try:
            return check_schedule(value, setting="cron expression")
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None

    @field_validator("ca_bundle")
    @classmethod
    def _optional_path(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @field_validator("api_token")
    @classmethod
    def _usable_token(cls, value: SecretStr | None) -> SecretStr | None:
        """Unset or empty: no token. Else 16+ characters, no whitespace at the ends. Never echoes it."""
        token = value.get_secret_value() if value is not None else ""
        if token and not token.strip():
            raise ValueError("is only whitespace: unset it, or set a token of 16 or more characters")
        if token != token.strip():
            raise ValueError("starts or ends with whitespace, which an Authorization header cannot carry")
        if 0 < len(token) < API_TOKEN_MIN_LENGTH:
            raise ValueError(
                f"is shorter than {API_TOKEN_MIN_LENGTH} characters: make one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _ip_networks(cls, value: str | None) -> str | None:
        """Comma-separated IP addresses or networks (CIDR), normalised; None when there is none."""
        entries = [entry.strip() for entry in (value or "").split(",") if entry.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network, e.g. 10.0.0.5 or 10.0.0.0/8"
                ) from None
        return ",".join(entries) or None

    @field_validator(
        "api_key_ssm_parameter", "api_token_ssm_parameter", "database_url_ssm_parameter", "aws_region"
    )
    @classmethod
    def _parameter_name(cls, value: str | None) -> str | None:
        """Unset or empty: none."""
        return (value or "").strip() or None

    def ssm_sources(self) -> dict[str, str]:
        """{variable: SSM parameter name} of the settings whose value was read from SSM Parameter Store."""
        return dict(self._from_ssm)

    def digest(self) -> str:
        """sha256 of the non-secret settings, to tell runs with different settings apart."""
        public = self.model_dump(
            exclude={"api_key", "api_token", "database_url", "trusted_proxies", *TELEMETRY_FIELDS}
        )
        public["api_key_set"] = self.api_key is not None
        return hashlib.sha256(json.dumps(public, sort_keys=True, default=str).encode()).hexdigest()


# how a process reports on itself, not what a sync does: out of the settings digest
TELEMETRY_FIELDS = {
    "log_format",
    "pushgateway_url",
    "otel_exporter_otlp_endpoint",
    "otel_exporter_otlp_traces_endpoint",
    "otel_service_name",
    "otel_resource_attributes",
    "otel_sdk_disabled",
    "sentry_dsn",
    "sentry_environment",
    "sentry_traces_sample_rate",
    "rollbar_access_token",
    "rollbar_environment",
    "rollbar_endpoint",
}


class ExplicitSettings(Settings):
    """Settings from the values given and the defaults only: no environment, no `.env` file.

    The public `outagesync.Settings`, for programs that configure outagesync in code.
    """

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def explicit_settings(values: Any) -> ExplicitSettings:
    """ExplicitSettings from a mapping of values; errors become ConfigError (as in load_settings)."""
    try:
        return with_ssm_secrets(ExplicitSettings(**dict(values)))
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


ENV_FILE_VARIABLE = "OUTAGESYNC_ENV_FILE"  # (or the global --env-file) another file than ./.env
# read by the deployment files (compose.yaml, the image's HEALTHCHECK), not by the settings: not unknown
DEPLOYMENT_VARIABLES = frozenset({"OUTAGESYNC_IMAGE", "OUTAGESYNC_PORT", "OUTAGESYNC_HEALTHCHECK_URL"})
_logger = logging.getLogger("outagesync.config")
_warned: set[str] = set()  # unknown variables already warned about in this process


def env_file() -> str:
    """The `.env` file settings are read from: OUTAGESYNC_ENV_FILE (set by --env-file too), which must
    exist, else `.env` in the working directory, if there is one. ConfigError for a missing chosen file."""
    chosen = os.environ.get(ENV_FILE_VARIABLE, "").strip()
    if not chosen:
        return ".env"
    if not os.path.isfile(chosen):
        raise ConfigError(f"{ENV_FILE_VARIABLE} (or --env-file): no such file: {chosen}")
    return chosen


def load_settings(**overrides: Any) -> Settings:
    """Settings from flags (only those given), environment and the `.env` file; errors become
    ConfigError. Unknown OUTAGESYNC_* and KRAKENFLEX_* variables are logged as warnings (once each),
    with the closest known name."""
    given = {name: value for name, value in overrides.items() if value is not None}
    path = env_file()
    _warn_unknown_variables(path)
    try:
        return with_ssm_secrets(Settings(_env_file=path, **given))
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def known_variables() -> frozenset[str]:
    """Every variable outagesync reads: each setting's names, OUTAGESYNC_ENV_FILE, and the deployment
    files' own."""
    names = {ENV_FILE_VARIABLE, *DEPLOYMENT_VARIABLES}
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice) for choice in alias.choices)
        else:
            names.add(str(alias) if alias else f"OUTAGESYNC_{field.upper()}")
    return frozenset(names)


def unknown_variables(names: Iterable[str]) -> list[tuple[str, str | None]]:
    """The OUTAGESYNC_*/KRAKENFLEX_* names outagesync does not read, each with the closest known name."""
    known = known_variables()
    unknown = sorted({name.upper() for name in names if name.upper().startswith(_PREFIXES)} - known)
    if not unknown:
        return []
    import difflib  # only when there is a name to match: it is not on the way of every command

    return [
        (name, next(iter(difflib.get_close_matches(name, known, n=1, cutoff=0.75)), None)) for name in unknown
    ]


_PREFIXES = ("OUTAGESYNC_", "KRAKENFLEX_")


def _warn_unknown_variables(path: str) -> None:
    names = [name for name in os.environ if name.upper().startswith(_PREFIXES)]
    if os.path.isfile(path):
        from dotenv import dotenv_values  # pydantic-settings' own .env reader

        names += [name for name in dotenv_values(path) if name.upper().startswith(_PREFIXES)]
    for name, closest in unknown_variables(names):
        if name not in _warned:
            _warned.add(name)
            hint = f" (did you mean {closest}?)" if closest else ""
            _logger.warning("%s is not an outagesync setting and is ignored%s", name, hint)


def _describe(exc: ValidationError) -> str:
    problems = "; ".join(
        f"{_setting_name(err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
        for err in exc.errors(include_url=False)
    )
    return f"invalid configuration: {problems}"


def _setting_name(loc: tuple[int | str, ...]) -> str:
    field = str(loc[0]) if loc else "?"
    if field.isupper():  # the variable the user set (an alias such as KRAKENFLEX_API_URL)
        return field
    aliases = {"api_url": "KRAKENFLEX_API_URL", "api_key": "KRAKENFLEX_API_KEY"}
    if field.startswith(("otel_", "sentry_", "rollbar_")):
        return field.upper()
    return aliases.get(field, f"OUTAGESYNC_{field.upper()}")


@dataclass(frozen=True, slots=True)
class EffectiveSetting:
    """One setting as `config show` tells it: the variable, its value (secrets masked), its source."""

    variable: str
    value: str
    source: str  # "flag", "environment", ".env file", "SSM parameter <name>", "default"


def effective_settings(settings: Settings, *, flags: Container[str] = ()) -> list[EffectiveSetting]:
    """Every setting's value and where it came from; secrets masked ("***"), passwords in URLs too.
    `flags`: the fields a command-line flag set."""
    from dotenv import dotenv_values  # pydantic-settings' own .env reader

    environment = {name.upper(): value for name, value in os.environ.items()}
    path = env_file()
    dotenv = {
        name.upper(): value for name, value in (dotenv_values(path) if os.path.isfile(path) else {}).items()
    }
    from_ssm = settings.ssm_sources()
    found = []
    for field, info in type(settings).model_fields.items():
        alias = info.validation_alias
        names = alias.choices if isinstance(alias, AliasChoices) else [alias or f"OUTAGESYNC_{field.upper()}"]
        variables = [str(name) for name in names]
        variable, source = variables[0], "default"
        if field in flags:
            source = "flag"
        elif variable in from_ssm:
            source = f"SSM parameter {from_ssm[variable]}"
        elif set_in := [name for name in variables if name in environment]:
            variable, source = set_in[0], "environment"
        elif set_in := [name for name in variables if name in dotenv]:
            variable, source = set_in[0], ".env file"
        found.append(EffectiveSetting(variable, _shown(getattr(settings, field)), source))
    return found


def _shown(value: object) -> str:
    if isinstance(value, SecretStr):
        return "***" if value.get_secret_value() else ""
    if value is None:
        return ""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", str(value))  # a password in a URL


# Secrets that may come from SSM Parameter Store: field -> (its variable, the variable naming its parameter).
SSM_SECRETS = {
    "api_key": ("KRAKENFLEX_API_KEY", "KRAKENFLEX_API_KEY_SSM_PARAMETER"),
    "api_token": ("OUTAGESYNC_API_TOKEN", "OUTAGESYNC_API_TOKEN_SSM_PARAMETER"),
    "database_url": ("OUTAGESYNC_DATABASE_URL", "OUTAGESYNC_DATABASE_URL_SSM_PARAMETER"),
}
AnySettings = TypeVar("AnySettings", bound=Settings)


def with_ssm_secrets(settings: AnySettings) -> AnySettings:
    """The settings with each secret whose `*_SSM_PARAMETER` is set read (decrypted) from SSM Parameter
    Store, validated like any other value; `ssm_sources()` then names them. Settings already read are
    returned as they are. ConfigError (exit 2) when a secret is set both ways, or cannot be read
    (`parameter_store` says why); a value never appears in a message.
    """
    wanted = {field: getattr(settings, f"{field}_ssm_parameter") for field in SSM_SECRETS}
    wanted = {field: name for field, name in wanted.items() if name}
    if not wanted or settings.ssm_sources():
        return settings
    for field in wanted:
        if _is_set(getattr(settings, field)):
            variable, parameter_variable = SSM_SECRETS[field]
            raise ConfigError(
                f"{variable} and {parameter_variable} are both set: keep one (the value, or the name of "
                "the SSM parameter that holds it)"
            )
    from outagesync.parameter_store import fetch_parameters

    values = fetch_parameters(
        {SSM_SECRETS[field][1]: name for field, name in wanted.items()}, region=settings.aws_region
    )
    data = settings.model_dump() | {field: values[SSM_SECRETS[field][1]] for field in wanted}
    try:
        resolved = type(settings).model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{_describe(exc)} (read from SSM Parameter Store)") from None
    resolved._from_ssm = {SSM_SECRETS[field][0]: name for field, name in wanted.items()}
    return resolved


def _is_set(value: SecretStr | str | None) -> bool:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    return bool(text and text.strip())
