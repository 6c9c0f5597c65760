"""The distributed carousel (app/distributed): nodes and the accounts each can log in to, the
carousel's on/off switch, the planner's lease, its cycles and their visits, and the retry backoff of
failing accounts.
On PostgreSQL, triggers NOTIFY every console of a changed account (``mt5c_accounts``: the account
id, with ``:status`` when only its status or visit times changed) and of the carousel's progress
(``mt5c_carousel``: the table).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.core.storage.types import Int64, JsonDocument

revision = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None

PROGRESS_TABLES = ("nodes", "node_accounts", "carousel_control", "cycles", "cycle_visits")


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("host", sa.Text, nullable=False, server_default=""),
        sa.Column("pid", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("version", sa.Text, nullable=False, server_default=""),
        sa.Column("terminals", JsonDocument, nullable=False, server_default="[]"),
        sa.Column("started_ms", Int64, nullable=False),
        sa.Column("seen_ms", Int64, nullable=False),
        sa.Column("stopped_ms", Int64),
        sa.CheckConstraint("length(name) > 0", name="name"),
        sa.CheckConstraint("json_valid(terminals)", name="terminals").ddl_if(dialect="sqlite"),
        sqlite_strict=True,
        sqlite_with_rowid=False,
    )
    op.create_table(
        "node_accounts",
        sa.Column("node", sa.Text, sa.ForeignKey("nodes.name", ondelete="CASCADE"), nullable=False),
        sa.Column("account_id", Int64, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.PrimaryKeyConstraint("node", "account_id"),
        sqlite_strict=True,
        sqlite_with_rowid=False,
    )
    op.create_index("node_accounts_by_account", "node_accounts", ["account_id"])
    op.create_table(
        "carousel_control",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("running", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("paused", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("changed_ms", Int64, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint("id = 1", name="one_row"),
        sa.CheckConstraint("running IN (0, 1)", name="running"),
        sa.CheckConstraint("paused IN (0, 1)", name="paused"),
        sqlite_strict=True,
    )
    op.create_table(
        "planner_lease",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("until_ms", Int64, nullable=False),
        sa.CheckConstraint("id = 1", name="one_row"),
        sqlite_strict=True,
    )
    op.create_table(
        "cycles",
        sa.Column("cycle", Int64, primary_key=True, autoincrement=False),
        sa.Column("started_ms", Int64, nullable=False),
        sa.Column("finished_ms", Int64),
        sa.Column("planner", sa.Text, nullable=False, server_default=""),
        sqlite_strict=True,
    )
    op.create_table(
        "cycle_visits",
        sa.Column("cycle", Int64, sa.ForeignKey("cycles.cycle", ondelete="CASCADE"), nullable=False),
        sa.Column("account_id", Int64, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("node", sa.Text, nullable=False, server_default=""),
        sa.Column("terminal", sa.Text, nullable=False, server_default=""),
        sa.Column("started_ms", Int64),
        sa.Column("finished_ms", Int64),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint("state IN ('queued', 'visiting', 'done', 'failed', 'cancelled')", name="state"),
        sa.PrimaryKeyConstraint("cycle", "account_id"),
        sqlite_strict=True,
        sqlite_with_rowid=False,
    )
    op.create_index("cycle_visits_by_state", "cycle_visits", ["cycle", "state"])
    op.create_table(
        "visit_retries",
        sa.Column("account_id", Int64, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("retry_at_ms", Int64, nullable=False),
        sqlite_strict=True,
    )
    if op.get_bind().dialect.name == "postgresql":
        _create_notify_triggers()


def _create_notify_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION mt5c_notify_account() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM pg_notify('mt5c_accounts', OLD.id::text);
            ELSIF TG_OP = 'UPDATE' AND NEW.enabled = OLD.enabled
                    AND NEW.terminal_id IS NOT DISTINCT FROM OLD.terminal_id THEN
                -- a visit or a status: "id:status" (nodes, which care only about what they may serve,
                -- need not read it)
                PERFORM pg_notify('mt5c_accounts', NEW.id::text || ':' || 'status');
            ELSE
                PERFORM pg_notify('mt5c_accounts', NEW.id::text);
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER accounts_notify AFTER INSERT OR UPDATE OR DELETE ON accounts "
        "FOR EACH ROW EXECUTE FUNCTION mt5c_notify_account()"
    )
    op.execute(
        """
        CREATE FUNCTION mt5c_notify_carousel() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('mt5c_carousel', TG_TABLE_NAME);
            RETURN NULL;
        END $$
        """
    )
    for table in PROGRESS_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION mt5c_notify_carousel()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS accounts_notify ON accounts")
        op.execute("DROP FUNCTION IF EXISTS mt5c_notify_account()")
    for table in (
        "visit_retries",
        "cycle_visits",
        "cycles",
        "planner_lease",
        "carousel_control",
        "node_accounts",
        "nodes",
    ):
        op.drop_table(table)  # their triggers go with them
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS mt5c_notify_carousel()")
