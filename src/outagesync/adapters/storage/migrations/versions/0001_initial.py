"""The initial schema: runs, site_reports, managed_sites.

Revision ID: 0001
Revises:
Create Date: 2024-06-01

Self-contained on purpose (it does not import tables.py): a migration describes the schema as it was.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        _time("started_at"),
        _time("finished_at"),
        sa.Column("settings_digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_table(
        "site_reports",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _time("started_at"),
        _time("finished_at"),
        _time("since"),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("fetched", "site_devices", "kept", "dropped_before_cutoff", "dropped_unknown_device")
        ),
        sa.Column("invalid", sa.Integer(), nullable=False),
        sa.Column("invalid_records", _json(), nullable=False),
        sa.Column("calls", _json(), nullable=False),
        sa.Column("post_status", sa.Integer(), nullable=True),
        sa.Column("upstream_message", sa.Text(), nullable=True),
        sa.Column("error_type", sa.String(100), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("items", _json(), nullable=False),
        sa.Column("items_total", sa.Integer(), nullable=False),
        sa.Column("items_digest", sa.String(64), nullable=False),
        sa.Column("items_truncated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_site_reports_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_site_reports"),
    )
    op.create_index("ix_site_reports_started_at_id", "site_reports", ["started_at", "id"])
    op.create_index("ix_site_reports_site_id_started_at", "site_reports", ["site_id", "started_at"])
    op.create_index("ix_site_reports_status_started_at", "site_reports", ["status", "started_at"])
    op.create_index("ix_site_reports_run_id", "site_reports", ["run_id"])
    op.create_table(
        "managed_sites",
        sa.Column("site_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        _time("since", nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("site_id", name="pk_managed_sites"),
    )


def downgrade() -> None:
    op.drop_table("managed_sites")
    op.drop_index("ix_site_reports_run_id", table_name="site_reports")
    op.drop_index("ix_site_reports_status_started_at", table_name="site_reports")
    op.drop_index("ix_site_reports_site_id_started_at", table_name="site_reports")
    op.drop_index("ix_site_reports_started_at_id", table_name="site_reports")
    op.drop_table("site_reports")
    op.drop_table("runs")
