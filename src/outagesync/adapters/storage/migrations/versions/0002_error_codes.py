"""Reports name a failure by its stable error code, not by the Python class that raised it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

`site_reports.error_type` ("UnknownSite") becomes `error_code` ("unknown-site"). Self-contained: the
table of names is the tree as it was when 0001 stored them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

CODES = {
    "OutageSyncError": "internal-error",
    "ConfigError": "config-error",
    "InvalidSiteId": "invalid-site-id",
    "UpstreamError": "upstream-error",
    "ApiKeyRejected": "upstream-key-rejected",
    "UnknownSite": "unknown-site",
    "PayloadRejected": "upstream-rejected-payload",
    "UpstreamRejected": "upstream-rejected",
    "UpstreamUnavailable": "upstream-unavailable",
    "InvalidUpstreamData": "invalid-upstream-data",
    "StorageError": "storage-unavailable",
    "ReportNotFound": "report-not-found",
    "SiteNotManaged": "site-not-managed",
    "SiteAlreadyManaged": "site-already-managed",
    "Interrupted": "interrupted",
}


def _rename(old: str, new: str, mapping: dict[str, str]) -> None:
    with op.batch_alter_table("site_reports") as batch:
        batch.alter_column(old, new_column_name=new, existing_type=sa.String(100), existing_nullable=True)
    column = sa.table("site_reports", sa.column(new, sa.String(100)))
    for before, after in mapping.items():
        op.execute(column.update().where(column.c[new] == before).values({new: after}))


def upgrade() -> None:
    _rename("error_type", "error_code", CODES)


def downgrade() -> None:
    _rename("error_code", "error_type", {code: name for name, code in CODES.items()})
