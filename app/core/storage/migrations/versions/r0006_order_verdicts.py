"""Reconciliation's verdicts: when an order was handed to ``order_send``, and what became of it.

Revision ID: 0006
Revises: 0005

``sent_ms`` is NULL for an order that never reached ``order_send`` (so nothing can have reached the
trade server); ``verdict`` is what reconciliation found after a crash (``not_sent`` frees the id).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.core.storage.types import Int64

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns without constraints: SQLite adds them in place (the table stays STRICT).
    op.add_column("client_orders", sa.Column("sent_ms", Int64, nullable=True))
    op.add_column("client_orders", sa.Column("verdict", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("client_orders", "verdict")
    op.drop_column("client_orders", "sent_ms")
