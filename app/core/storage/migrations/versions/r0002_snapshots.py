"""Snapshot history (equity curves; open positions for exposure).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.core.storage.types import Float64, Int64, JsonDocument

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    money = [
        sa.Column(name, Float64, nullable=False)
        for name in ("balance", "equity", "margin", "margin_free", "margin_level")
    ]
    pnl = [sa.Column(name, Float64, nullable=False) for name in ("day_pl", "week_pl", "month_pl", "total_pl")]
    op.create_table(
        "snapshots",
        sa.Column("id", Int64, sa.Identity(), primary_key=True),
        sa.Column("account_id", Int64, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("taken_ms", Int64, nullable=False),
        *money,
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("open_positions", sa.Integer, nullable=False),
        sa.Column("open_pl", Float64, nullable=False),
        sa.Column("pending_orders", sa.Integer, nullable=False),
        *pnl,
        sa.Column("positions", JsonDocument, nullable=False, server_default="[]"),
        sa.CheckConstraint("json_valid(positions)", name="positions").ddl_if(dialect="sqlite"),
        sqlite_strict=True,
    )
    op.create_index("snapshots_by_account_time", "snapshots", ["account_id", "taken_ms"])


def downgrade() -> None:
    op.drop_table("snapshots")
