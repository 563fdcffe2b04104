"""The database schema as SQLAlchemy Core tables. Migrations (not `create_all`) create it.

Times are stored as UTC and always come back as aware UTC datetimes, on SQLite too.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

# Alembic's bookkeeping table; named for us so a shared PostgreSQL database can hold other apps' too.
VERSION_TABLE = "outagesync_alembic_version"

# Constraint names are fixed so migrations can refer to them on every backend.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class JSONText(sa.TypeDecorator[Any]):
    """JSON kept as ASCII text: every string round-trips, NUL included (PostgreSQL's jsonb refuses it)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=True, separators=(",", ":"))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


_TO_ESCAPE = re.compile(r"[\\\x00]")
_ESCAPED = re.compile(r"\\([\\0])")


class EscapedText(sa.TypeDecorator[str]):
    """Text that may hold any upstream character: NUL is stored as `\\0` and `\\` as `\\\\` (PostgreSQL text
    refuses NUL); read back exactly."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _TO_ESCAPE.sub(lambda m: "\\\\" if m.group() == "\\" else "\\0", value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _ESCAPED.sub(lambda m: "\\" if m.group(1) == "\\" else "\x00", str(value))


class UTCDateTime(sa.TypeDecorator[datetime]):
    """An aware datetime, stored as UTC; naive values are refused (their zone would be a guess)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: outagesync stores aware UTC times only")
        value = value.astimezone(UTC)
        # SQLite keeps the wall time only: store UTC without its zone, read it back as UTC.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=False),
    sa.Column("settings_digest", sa.String(64), nullable=False),
    sa.Column("upstream_url", sa.String(2000), nullable=True),  # base URL, no credentials (0004)
    sa.Column("sandbox", sa.Boolean, nullable=False, server_default=sa.false()),
)

site_reports = sa.Table(
    "site_reports",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("site_id", sa.String(128), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=False),
    sa.Column("since", UTCDateTime, nullable=False),
    sa.Column("fetched", sa.Integer, nullable=False),
    sa.Column("site_devices", sa.Integer, nullable=False),
    sa.Column("kept", sa.Integer, nullable=False),
    sa.Column("dropped_before_cutoff", sa.Integer, nullable=False),
    sa.Column("dropped_unknown_device", sa.Integer, nullable=False),
    sa.Column("invalid", sa.Integer, nullable=False),
    sa.Column("invalid_records", JSONText, nullable=False),  # at most the items limit
    sa.Column("calls", JSONText, nullable=False),  # [{"endpoint": "GET /outages", "attempts": 1}, ...]
    sa.Column("post_status", sa.Integer, nullable=True),
    sa.Column("upstream_message", EscapedText, nullable=True),
    sa.Column("upstream_detail", JSONText, nullable=True),  # the 4xx answer beyond its message (0004)
    sa.Column("error_code", sa.String(100), nullable=True),  # outagesync.errors codes, e.g. unknown-site
    sa.Column("error_message", EscapedText, nullable=True),
    sa.Column("items", JSONText, nullable=False),  # at most the items limit, in posted order
    sa.Column("items_total", sa.Integer, nullable=False),
    sa.Column("items_digest", sa.String(64), nullable=False),
    sa.Column("items_truncated", sa.Boolean, nullable=False),
    sa.Index(None, "started_at", "id"),
    sa.Index(None, "site_id", "started_at"),
    sa.Index(None, "status", "started_at"),
    sa.Index(None, "run_id"),
)

managed_sites = sa.Table(
    "managed_sites",
    metadata,
    sa.Column("site_id", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("since", UTCDateTime, nullable=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("allow_empty", sa.Boolean, nullable=False, server_default=sa.false()),  # (0004)
    sa.Column("schedule", sa.String(200), nullable=True),  # cron, for the queue's periodic syncs (0004)
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)
