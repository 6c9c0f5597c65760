"""Client order ids (one order per id, also across restarts) and risk kill switches.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.core.storage.types import CaseInsensitiveText, Float64, Int64, JsonDocument

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_orders",
        sa.Column("client_id", sa.Text, primary_key=True),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("tag", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("request", JsonDocument, nullable=False),
        sa.Column("result", JsonDocument),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("code", sa.Integer),
        sa.Column("created_ms", Int64, nullable=False),
        sa.Column("updated_ms", Int64, nullable=False),
        sa.CheckConstraint("state IN ('sending', 'done', 'rejected', 'unknown')", name="state"),
        sa.CheckConstraint("json_valid(request)", name="request").ddl_if(dialect="sqlite"),
        sa.CheckConstraint("result IS NULL OR json_valid(result)", name="result").ddl_if(dialect="sqlite"),
        sqlite_strict=True,
        sqlite_with_rowid=False,
    )
    op.create_index("client_orders_by_time", "client_orders", ["created_ms"])
    op.create_table(
        "kill_switches",
        sa.Column("account", CaseInsensitiveText, primary_key=True),
        sa.Column("tripped_ms", Int64, nullable=False),
        sa.Column("loss", Float64, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sqlite_strict=True,
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("kill_switches")
    op.drop_table("client_orders")
