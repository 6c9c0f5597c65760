"""The account registry.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.core.storage.types import PG_NOCASE_COLLATION_DDL, CaseInsensitiveText, Int64

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_NOCASE_COLLATION_DDL)
    op.create_table(
        "accounts",
        sa.Column("id", Int64, sa.Identity(), primary_key=True),
        sa.Column("login", Int64, nullable=False),
        sa.Column("server", CaseInsensitiveText, nullable=False),
        sa.Column("broker", sa.Text, nullable=False, server_default=""),
        sa.Column("alias", sa.Text, nullable=False, server_default=""),
        sa.Column("terminal_id", sa.Text),
        sa.Column("enabled", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("status_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("last_snapshot_ms", Int64),
        sa.Column("last_deal_sync_ms", Int64),
        sa.Column("created_ms", Int64, nullable=False),
        sa.Column("updated_ms", Int64, nullable=False),
        sa.CheckConstraint("login > 0", name="login"),
        sa.CheckConstraint("length(server) > 0", name="server"),
        sa.CheckConstraint("enabled IN (0, 1)", name="enabled"),
        sa.CheckConstraint("status IN ('pending', 'ok', 'error')", name="status"),
        sa.UniqueConstraint("login", "server"),
        sqlite_autoincrement=True,
        sqlite_strict=True,
    )


def downgrade() -> None:
    op.drop_table("accounts")
