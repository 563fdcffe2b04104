"""Any upstream text round-trips: JSON columns become ASCII JSON text, messages escape NUL and backslash.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

PostgreSQL's jsonb and text refuse NUL (`\\u0000`), which an upstream name or message may hold: the
report could not be stored. `items`, `invalid_records` and `calls` are now JSON written with ASCII
escapes into TEXT columns; `upstream_message` and `error_message` store NUL as `\\0` and `\\` as `\\\\`
(tables.EscapedText), so existing backslashes are doubled here.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

JSON_COLUMNS = ("invalid_records", "calls", "items")
TEXT_COLUMNS = ("upstream_message", "error_message")


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _replace_in_messages(old: str, new: str) -> None:
    table = sa.table("site_reports", *(sa.column(name, sa.Text) for name in TEXT_COLUMNS))
    for name in TEXT_COLUMNS:
        column = table.c[name]
        replaced = sa.func.replace(column, old, new)
        op.execute(table.update().where(column.is_not(None)).values({name: replaced}))


def upgrade() -> None:
    with op.batch_alter_table("site_reports") as batch:
        for name in JSON_COLUMNS:
            batch.alter_column(
                name,
                type_=sa.Text(),
                existing_type=_json(),
                existing_nullable=False,
                postgresql_using=f"{name}::text",
            )
    _replace_in_messages("\\", "\\\\")


def downgrade() -> None:
    _replace_in_messages("\\\\", "\\")
    with op.batch_alter_table("site_reports") as batch:
        for name in JSON_COLUMNS:
            batch.alter_column(
                name,
                type_=_json(),
                existing_type=sa.Text(),
                existing_nullable=False,
                postgresql_using=f"{name}::jsonb",
            )
