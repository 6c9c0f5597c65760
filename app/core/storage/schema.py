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

# A signal (an alert, a strategy's call, an API caller's idea) and what became of it: its validators'
# verdicts, the decision, the order it led to. ``uuid`` is the signal's idempotency key (and its
# order's client id): a signal delivered again is the same row.
signals = Table(
    "signals",
    metadata,
    Column("uuid", Text, primary_key=True),
    Column("source", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("volume", Float64),
    Column("sl", Float64),
    Column("tp", Float64),
    Column("confidence", Float64),
    Column("mode", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("message", Text, nullable=False, server_default=""),
    Column("ticket", Int64),
    Column("validators", JsonDocument, nullable=False, server_default="[]"),
    Column("signal", JsonDocument, nullable=False),  # the signal as received (never a secret)
    Column("created_ms", Int64, nullable=False),
    Column("updated_ms", Int64, nullable=False),
    Column("expires_ms", Int64),  # a signal waiting for a person expires then
    CheckConstraint("json_valid(validators)", name="validators").ddl_if(dialect="sqlite"),
    CheckConstraint("json_valid(signal)", name="signal").ddl_if(dialect="sqlite"),
    Index("signals_by_time", "created_ms"),
    Index("signals_by_status", "status", "expires_ms"),
    sqlite_strict=True,
    sqlite_with_rowid=False,
)

# Named webhooks (TradingView and other senders that can only post a body): the secret is kept as a
# SHA-256 digest (it is 256 random bits, so a digest is as good as a slow hash, and verifying is cheap).
webhooks = Table(
    "webhooks",
    metadata,
    Column("name", CaseInsensitiveText, primary_key=True),
    Column("secret_sha256", Text, nullable=False),
    Column("mode", Text, nullable=False),
    Column("symbols", JsonDocument, nullable=False, server_default="[]"),  # allow-list; empty: any
    Column("volume", Float64),  # the volume when an alert names none
    Column("symbol_map", JsonDocument, nullable=False, server_default="{}"),
    Column("created_ms", Int64, nullable=False),
    Column("updated_ms", Int64, nullable=False),
    CheckConstraint("json_valid(symbols)", name="symbols").ddl_if(dialect="sqlite"),
    CheckConstraint("json_valid(symbol_map)", name="symbol_map").ddl_if(dialect="sqlite"),
    sqlite_strict=True,
    sqlite_with_rowid=False,
)

# Strategies on the live bars: a built-in (or plugin) kind on one symbol and timeframe, its parameters,
# whether it runs, and the mode its signals get.
strategies = Table(
    "strategies",
    metadata,
    Column("id", CaseInsensitiveText, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("timeframe", Text, nullable=False),
    Column("params", JsonDocument, nullable=False, server_default="{}"),
    Column("enabled", Integer, nullable=False, server_default="0"),
    Column("mode", Text, nullable=False),
    Column("volume", Float64, nullable=False),
    Column("updated_ms", Int64, nullable=False),
    CheckConstraint("json_valid(params)", name="params").ddl_if(dialect="sqlite"),
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

users = Table(
    "users",
    metadata,
    Column("id", Int64, Identity(), primary_key=True),
    Column("username", CaseInsensitiveText, nullable=False),
    Column("password_hash", Text, nullable=False),  # argon2id: never the password
    Column("role", Text, nullable=False),
    Column("accounts", JsonDocument),  # NULL: every account; else a list of managed account ids
    # Bumped by every change (role, scope, password): tokens carry it, so a change revokes them.
    Column("version", Int64, nullable=False, server_default=text("1")),
    Column("created_ms", Int64, nullable=False),
    Column("updated_ms", Int64, nullable=False),
    CheckConstraint("role IN ('admin', 'trader', 'viewer')", name="role"),
    CheckConstraint("length(username) > 0", name="username"),
    CheckConstraint("accounts IS NULL OR json_valid(accounts)", name="accounts").ddl_if(dialect="sqlite"),
    UniqueConstraint("username"),
    sqlite_autoincrement=True,
    sqlite_strict=True,
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Int64, Identity(), primary_key=True),
    Column("prefix", Text, nullable=False),  # the visible start of the key (mt5c_xxxxxxxx)
    Column("hash", Text, nullable=False),  # SHA-256 of the whole key: never the key
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("accounts", JsonDocument),
    Column("created_by", Text, nullable=False),
    Column("created_ms", Int64, nullable=False),
    Column("expires_ms", Int64),
    Column("revoked_ms", Int64),
    Column("last_used_ms", Int64),
    CheckConstraint("role IN ('admin', 'trader', 'viewer')", name="role"),
    CheckConstraint("accounts IS NULL OR json_valid(accounts)", name="accounts").ddl_if(dialect="sqlite"),
    UniqueConstraint("prefix"),
    sqlite_autoincrement=True,
    sqlite_strict=True,
)

# --------------------------------------------------------------------------- the distributed carousel
# (issue 22: app/distributed). On SQLite these tables stay empty: one machine needs none of them.

nodes = Table(
    "nodes",
    metadata,
    Column("name", Text, primary_key=True),
    Column("host", Text, nullable=False, server_default=""),
    Column("pid", Integer, nullable=False, server_default=text("0")),
    Column("version", Text, nullable=False, server_default=""),
    Column("terminals", JsonDocument, nullable=False, server_default="[]"),  # the node's terminal ids
    Column("started_ms", Int64, nullable=False),
    Column("seen_ms", Int64, nullable=False),  # the node's own heartbeat
    Column("stopped_ms", Int64),  # set by a clean stop
    CheckConstraint("length(name) > 0", name="name"),
    CheckConstraint("json_valid(terminals)", name="terminals").ddl_if(dialect="sqlite"),
    sqlite_strict=True,
    sqlite_with_rowid=False,
)

# Which accounts each node can log in to: those whose password its own OS keyring holds.
node_accounts = Table(
    "node_accounts",
    metadata,
    Column("node", Text, ForeignKey("nodes.name", ondelete="CASCADE"), nullable=False),
    Column("account_id", Int64, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("node", "account_id"),
    Index("node_accounts_by_account", "account_id"),
    sqlite_strict=True,
    sqlite_with_rowid=False,
)

# The one row saying whether the distributed carousel runs (consoles start, stop and pause it here).
carousel_control = Table(
    "carousel_control",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("running", Integer, nullable=False, server_default=text("0")),
    Column("paused", Integer, nullable=False, server_default=text("0")),
    Column("changed_ms", Int64, nullable=False),
    Column("changed_by", Text, nullable=False, server_default=""),
    CheckConstraint("id = 1", name="one_row"),
    CheckConstraint("running IN (0, 1)", name="running"),
    CheckConstraint("paused IN (0, 1)", name="paused"),
    sqlite_strict=True,
)

# Which node plans the cycles, until when: a lease it renews on every look. A node that dies or is cut
# off stops renewing, and another takes over once it runs out (a session lock would stay held as long
# as the cut-off node's connection looks open to the server).
planner_lease = Table(
    "planner_lease",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("holder", Text, nullable=False),
    Column("until_ms", Int64, nullable=False),
    CheckConstraint("id = 1", name="one_row"),
    sqlite_strict=True,
)

cycles = Table(
    "cycles",
    metadata,
    Column("cycle", Int64, primary_key=True, autoincrement=False),
    Column("started_ms", Int64, nullable=False),
    Column("finished_ms", Int64),
    Column("planner", Text, nullable=False, server_default=""),  # the node that planned it
    sqlite_strict=True,
)

# One row per account of a cycle: what became of its visit, and where it ran.
cycle_visits = Table(
    "cycle_visits",
    metadata,
    Column("cycle", Int64, ForeignKey("cycles.cycle", ondelete="CASCADE"), nullable=False),
    Column("account_id", Int64, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),  # its place in the cycle's order
    Column("state", Text, nullable=False),
    Column("node", Text, nullable=False, server_default=""),
    Column("terminal", Text, nullable=False, server_default=""),
    Column("started_ms", Int64),
    Column("finished_ms", Int64),
    Column("reason", Text, nullable=False, server_default=""),
    CheckConstraint("state IN ('queued', 'visiting', 'done', 'failed', 'cancelled')", name="state"),
    PrimaryKeyConstraint("cycle", "account_id"),
    Index("cycle_visits_by_state", "cycle", "state"),
    sqlite_strict=True,
    sqlite_with_rowid=False,
)

# Accounts whose visits failed: tried again after a backoff that doubles with each failure.
visit_retries = Table(
    "visit_retries",
    metadata,
    Column("account_id", Int64, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("retry_at_ms", Int64, nullable=False),
    sqlite_strict=True,
)

# Client-side trailing stops (app/core/trailing.py): the distance a position's SL trails the price by,
# kept while the position is open so a restart goes on trailing it.
trailing_stops = Table(
    "trailing_stops",
    metadata,
    Column("account", CaseInsensitiveText, nullable=False),  # login@server
    Column("ticket", Int64, nullable=False),
    Column("points", Integer, nullable=False),
    Column("created_by", Text, nullable=False, server_default=""),
    Column("updated_ms", Int64, nullable=False),
    CheckConstraint("points > 0", name="points"),
    PrimaryKeyConstraint("account", "ticket"),
    sqlite_strict=True,
    sqlite_with_rowid=False,
)
