"""Users (argon2 hashes, a role, an account scope) and API keys (hashed, with a visible prefix).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.core.storage.types import CaseInsensitiveText, Int64, JsonDocument

revision = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None

_ROLES = "role IN ('admin', 'trader', 'viewer')"
_SCOPE = "accounts IS NULL OR json_valid(accounts)"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", Int64, sa.Identity(), primary_key=True),
        sa.Column("username", CaseInsensitiveText, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("accounts", JsonDocument),
        sa.Column("version", Int64, nullable=False, server_default=sa.text("1")),
        sa.Column("created_ms", Int64, nullable=False),
        sa.Column("updated_ms", Int64, nullable=False),
        sa.CheckConstraint(_ROLES, name="role"),
        sa.CheckConstraint("length(username) > 0", name="username"),
        sa.CheckConstraint(_SCOPE, name="accounts").ddl_if(dialect="sqlite"),
        sa.UniqueConstraint("username"),
        sqlite_autoincrement=True,
        sqlite_strict=True,
    )
    op.create_table(
        "api_keys",
        sa.Column("id", Int64, sa.Identity(), primary_key=True),
        sa.Column("prefix", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("accounts", JsonDocument),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_ms", Int64, nullable=False),
        sa.Column("expires_ms", Int64),
        sa.Column("revoked_ms", Int64),
        sa.Column("last_used_ms", Int64),
        sa.CheckConstraint(_ROLES, name="role"),
        sa.CheckConstraint(_SCOPE, name="accounts").ddl_if(dialect="sqlite"),
        sa.UniqueConstraint("prefix"),
        sqlite_autoincrement=True,
        sqlite_strict=True,
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_table("users")
