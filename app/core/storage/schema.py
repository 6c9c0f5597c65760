"""The database schema as it is today: the tables the queries are written against.

The migrations (``app/core/storage/migrations/versions``) build this schema step by step on SQLite and
PostgreSQL alike; ``tests/core/storage/test_migrations.py`` checks that a migrated database matches
these definitions exactly. A change here therefore always comes with a new migration (see
docs/storage.md). Times are integer milliseconds since the epoch, UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from app.core.storage.types import NAMING_CONVENTION, CaseInsensitiveText, Float64, Int64, JsonDocument

metadata = MetaData(naming_convention=NAMING_CONVENTION)

accounts = Table(
    "accounts",
    metadata,
    # AUTOINCREMENT on SQLite, an identity on PostgreSQL: an id is never given again.
    Column("id", Int64, Identity(), primary_key=True),
    Column("login", Int64, nullable=False),
    Column("server", CaseInsensitiveText, nullable=False),
    Column("broker", Text, nullable=False, server_default=""),
    Column("alias", Text, nullable=False, server_default=""),
    Column("terminal_id", Text),
    Column("enabled", Integer, nullable=False, server_default=text("1")),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("status_reason", Text, nullable=False, server_default=""),
    Column("last_snapshot_ms", Int64),
    Column("last_deal_sync_ms", Int64),
    Column("created_ms", Int64, nullable=False),
    Column("updated_ms", Int64, nullable=False),
    CheckConstraint("login > 0", name="login"),
    CheckConstraint("length(server) > 0", name="server"),
    CheckConstraint("enabled IN (0, 1)", name="enabled"),
    CheckConstraint("status IN ('pending', 'ok', 'error')", name="status"),
    UniqueConstraint("login", "server"),
    sqlite_autoincrement=True,
    sqlite_strict=True,
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Int64, Identity(), primary_key=True),
    Column("account_id", Int64, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("taken_ms", Int64, nullable=False),
    Column("balance", Float64, nullable=False),
    Column("equity", Float64, nullable=False),
    Column("margin", Float64, nullable=False),
    Column("margin_free", Float64, nullable=False),
    Column("margin_level", Float64, nullable=False),
    Column("currency", Text, nullable=False),
    Column("open_positions", Integer, nullable=False),
    Column("open_pl", Float64, nullable=False),
    Column("pending_orders", Integer, nullable=False),
    Column("day_pl", Float64, nullable=False),
    Column("week_pl", Float64, nullable=False),
    Column("month_pl", Float64, nullable=False),
    Column("total_pl", Float64, nullable=False),
    Column("positions", JsonDocument, nullable=False, server_default="[]"),
    CheckConstraint("json_valid(positions)", name="positions").ddl_if(dialect="sqlite"),
    # One snapshot per account and moment: storing the same snapshot again replaces it.
    Index("snapshots_by_account_time", "account_id", "taken_ms", unique=True),
    sqlite_strict=True,
)

deals = Table(
    "deals",
    metadata,
    Column("account_id", Int64, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("ticket", Int64, nullable=False),
    Column("order_ticket", Int64, nullable=False),
    Column("position_id", Int64, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("entry", Text, nullable=False),
    Column("volume", Float64, nullable=False),
    Column("price", Float64, nullable=False),
    Column("profit", Float64, nullable=False),
    Column("swap", Float64, nullable=False),
    Column("commission", Float64, nullable=False),
    Column("fee", Float64, nullable=False),
    Column("time_ms", Int64, nullable=False),
    Column("magic", Int64, nullable=False),
    Column("comment", Text, nullable=False),
    PrimaryKeyConstraint("account_id", "ticket"),  # one row per account and deal ticket
    Index("deals_by_account_time", "account_id", "time_ms"),
    sqlite_strict=True,
    sqlite_with_rowid=False,
)

client_orders = Table(
    "client_orders",
    metadata,
    Column("client_id", Text, primary_key=True),
    Column("account", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("tag", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("request", JsonDocument, nullable=False),
    Column("result", JsonDocument),
    Column("message", Text, nullable=False, server_default=""),
    Column("code", Integer),
    Column("created_ms", Int64, nullable=False),
    Column("updated_ms", Int64, nullable=False),
    Column("sent_ms", Int64),  # handed to order_send at (NULL: never)
    Column("verdict", Text),  # reconciliation's finding after a crash; 'not_sent' frees the id
    CheckConstraint("state IN ('sending', 'done', 'rejected', 'unknown')", name="state"),
    CheckConstraint("json_valid(request)", name="request").ddl_if(dialect="sqlite"),
    CheckConstraint("result IS NULL OR json_valid(result)", name="result").ddl_if(dialect="sqlite"),
    Index("client_orders_by_time", "created_ms"),
    sqlite_strict=True,
    sqlite_with_rowid=False,
)

kill_switches = Table(
    "kill_switches",
    metadata,
    Column("account", CaseInsensitiveText, primary_key=True),
    Column("tripped_ms", Int64, nullable=False),
    Column("loss", Float64, nullable=False),
    Column("reason", Text, nullable=False),
    sqlite_strict=True,
    sqlite_with_rowid=False,
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Int64, Identity(), primary_key=True),
    Column("symbol", Text, nullable=False),
    Column("condition", Text, nullable=False),
    Column("price", Float64, nullable=False),
    Column("repeat", Integer, nullable=False, server_default=text("0")),
    Column("note", Text, nullable=False, server_default=""),
    Column("created_by", Text, nullable=False, server_default=""),
    Column("created_ms", Int64, nullable=False),
    Column("fired_ms", Int64),  # the last time it fired (NULL: never)
    Column("fired_price", Float64),  # the bid or ask that made it fire
    Column("fire_count", Integer, nullable=False, server_default=text("0")),
    CheckConstraint("condition IN ('bid_above', 'bid_below', 'ask_above', 'ask_below')", name="condition"),
    CheckConstraint("repeat IN (0, 1)", name="repeat"),
    CheckConstraint("price > 0", name="price"),
    sqlite_autoincrement=True,
    sqlite_strict=True,
)
