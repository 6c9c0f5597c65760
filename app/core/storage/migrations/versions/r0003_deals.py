"""Deals, one row per account and ticket.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.core.storage.types import Float64, Int64

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    amounts = [
        sa.Column(name, Float64, nullable=False)
        for name in ("volume", "price", "profit", "swap", "commission", "fee")
    ]
    op.create_table(
        "deals",
        sa.Column("account_id", Int64, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ticket", Int64, nullable=False),
        sa.Column("order_ticket", Int64, nullable=False),
        sa.Column("position_id", Int64, nullable=False),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("entry", sa.Text, nullable=False),
        *amounts,
        sa.Column("time_ms", Int64, nullable=False),
        sa.Column("magic", Int64, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "ticket"),
        sqlite_strict=True,
        sqlite_with_rowid=False,
    )
    op.create_index("deals_by_account_time", "deals", ["account_id", "time_ms"])


def downgrade() -> None:
    op.drop_table("deals")
