"""Client-side trailing stops: the distance in points each open position's SL trails the price by.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.core.storage.types import CaseInsensitiveText, Int64

revision = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trailing_stops",
        sa.Column("account", CaseInsensitiveText, nullable=False),
        sa.Column("ticket", Int64, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_ms", Int64, nullable=False),
        sa.CheckConstraint("points > 0", name="points"),
        sa.PrimaryKeyConstraint("account", "ticket"),
        sqlite_strict=True,
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("trailing_stops")
