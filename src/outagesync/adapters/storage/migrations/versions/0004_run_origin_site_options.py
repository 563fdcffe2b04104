"""Runs record where they synced to; reports keep the upstream's rejection detail; managed sites may
allow an empty list and carry a schedule.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

- `runs.upstream_url` (the base URL, never credentials) and `runs.sandbox` (the built-in sandbox) let
  a real history be told apart from demo runs.
- `site_reports.upstream_detail`: the JSON `detail` (or any field beyond `message`) of a 4xx answer.
- `managed_sites.allow_empty`: the site may be posted an empty list even when its last accepted list
  was not empty (the guard of `empty-list-refused`).
- `managed_sites.schedule`: a cron expression for the queue's periodic syncs (NULL: none of its own).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("upstream_url", sa.String(2000), nullable=True))
        batch.add_column(sa.Column("sandbox", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("site_reports") as batch:
        batch.add_column(sa.Column("upstream_detail", sa.Text, nullable=True))
    with op.batch_alter_table("managed_sites") as batch:
        batch.add_column(sa.Column("allow_empty", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("schedule", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("managed_sites") as batch:
        batch.drop_column("schedule")
        batch.drop_column("allow_empty")
    with op.batch_alter_table("site_reports") as batch:
        batch.drop_column("upstream_detail")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("sandbox")
        batch.drop_column("upstream_url")
