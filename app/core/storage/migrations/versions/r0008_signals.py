"""Signals and what became of them, named webhooks (secrets kept hashed), strategies on the live bars.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.core.storage.types import CaseInsensitiveText, Float64, Int64, JsonDocument

revision = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signals",
        sa.Column("uuid", sa.Text, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("side", sa.Text, nullable=False),
        sa.Column("volume", Float64),
        sa.Column("sl", Float64),
        sa.Column("tp", Float64),
        sa.Column("confidence", Float64),
        sa.Column("mode", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("ticket", Int64),
        sa.Column("validators", JsonDocument, nullable=False, server_default="[]"),
        sa.Column("signal", JsonDocument, nullable=False),
        sa.Column("created_ms", Int64, nullable=False),
        sa.Column("updated_ms", Int64, nullable=False),
        sa.Column("expires_ms", Int64),
        sa.CheckConstraint("json_valid(validators)", name="validators").ddl_if(dialect="sqlite"),
        sa.CheckConstraint("json_valid(signal)", name="signal").ddl_if(dialect="sqlite"),
        sqlite_strict=True,
        sqlite_with_rowid=False,
    )
    op.create_index("signals_by_time", "signals", ["created_ms"])
    op.create_index("signals_by_status", "signals", ["status", "expires_ms"])
    op.create_table(
        "webhooks",
        sa.Column("name", CaseInsensitiveText, primary_key=True),
        sa.Column("secret_sha256", sa.Text, nullable=False),
        sa.Column("mode", sa.Text, nullable=False),
        sa.Column("symbols", JsonDocument, nullable=False, server_default="[]"),
        sa.Column("volume", Float64),
        sa.Column("symbol_map", JsonDocument, nullable=False, server_default="{}"),
        sa.Column("created_ms", Int64, nullable=False),
        sa.Column("updated_ms", Int64, nullable=False),
        sa.CheckConstraint("json_valid(symbols)", name="symbols").ddl_if(dialect="sqlite"),
        sa.CheckConstraint("json_valid(symbol_map)", name="symbol_map").ddl_if(dialect="sqlite"),
        sqlite_strict=True,
        sqlite_with_rowid=False,
    )
    op.create_table(
        "strategies",
        sa.Column("id", CaseInsensitiveText, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("timeframe", sa.Text, nullable=False),
        sa.Column("params", JsonDocument, nullable=False, server_default="{}"),
        sa.Column("enabled", sa.Integer, nullable=False, server_default="0"),
        sa.Column("mode", sa.Text, nullable=False),
        sa.Column("volume", Float64, nullable=False),
        sa.Column("updated_ms", Int64, nullable=False),
        sa.CheckConstraint("json_valid(params)", name="params").ddl_if(dialect="sqlite"),
        sqlite_strict=True,
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("strategies")
    op.drop_table("webhooks")
    op.drop_table("signals")
