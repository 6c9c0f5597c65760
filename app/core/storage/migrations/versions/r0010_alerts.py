"""Price alerts (MT5's Toolbox > Alerts): bid or ask above or below a price, once or every time.

Revision ID: 0010
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.core.storage.types import Float64, Int64

revision = "0010"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", Int64, sa.Identity(), primary_key=True),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("condition", sa.Text, nullable=False),
        sa.Column("price", Float64, nullable=False),
        sa.Column("repeat", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_by", sa.Text, nullable=False, server_default=""),
        sa.Column("created_ms", Int64, nullable=False),
        sa.Column("fired_ms", Int64),
        sa.Column("fired_price", Float64),
        sa.Column("fire_count", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.CheckConstraint(
            "condition IN ('bid_above', 'bid_below', 'ask_above', 'ask_below')", name="condition"
        ),
        sa.CheckConstraint("repeat IN (0, 1)", name="repeat"),
        sa.CheckConstraint("price > 0", name="price"),
        sqlite_autoincrement=True,
        sqlite_strict=True,
    )


def downgrade() -> None:
    op.drop_table("alerts")
