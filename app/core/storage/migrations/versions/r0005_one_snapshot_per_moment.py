"""One snapshot per account and moment: storing a snapshot again (a visit retried) replaces it.

Revision ID: 0005
Revises: 0004

Rows that already share an account and a time (the same moment stored twice) keep the last written.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM snapshots WHERE id NOT IN (SELECT max(id) FROM snapshots GROUP BY account_id, taken_ms)"
    )
    op.drop_index("snapshots_by_account_time", table_name="snapshots")
    op.create_index("snapshots_by_account_time", "snapshots", ["account_id", "taken_ms"], unique=True)


def downgrade() -> None:
    op.drop_index("snapshots_by_account_time", table_name="snapshots")
    op.create_index("snapshots_by_account_time", "snapshots", ["account_id", "taken_ms"])
