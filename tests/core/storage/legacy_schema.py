"""SQLite files as the app wrote them before Alembic: ``PRAGMA user_version`` 1 to 4, made by the
hand-written migrations of that time (kept here, frozen, only to build such files for the tests)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    summary: str
    statements: tuple[str, ...] = ()


LEGACY_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "the account registry",
        (
            """
            CREATE TABLE accounts (
                id                INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids are never reused
                login             INTEGER NOT NULL CHECK (login > 0),
                server            TEXT    NOT NULL COLLATE NOCASE CHECK (length(server) > 0),
                broker            TEXT    NOT NULL DEFAULT '',
                alias             TEXT    NOT NULL DEFAULT '',
                terminal_id       TEXT,
                enabled           INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
                status            TEXT    NOT NULL DEFAULT 'pending'
                                          CHECK (status IN ('pending', 'ok', 'error')),
                status_reason     TEXT    NOT NULL DEFAULT '',
                last_snapshot_ms  INTEGER,
                last_deal_sync_ms INTEGER,
                created_ms        INTEGER NOT NULL,
                updated_ms        INTEGER NOT NULL,
                UNIQUE (login, server)
            ) STRICT
            """,
        ),
    ),
    Migration(
        2,
        "snapshot history (equity curves; open positions for exposure)",
        (
            """
            CREATE TABLE snapshots (
                id             INTEGER PRIMARY KEY,
                account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                taken_ms       INTEGER NOT NULL,
                balance        REAL    NOT NULL,
                equity         REAL    NOT NULL,
                margin         REAL    NOT NULL,
                margin_free    REAL    NOT NULL,
                margin_level   REAL    NOT NULL,
                currency       TEXT    NOT NULL,
                open_positions INTEGER NOT NULL,
                open_pl        REAL    NOT NULL,
                pending_orders INTEGER NOT NULL,
                day_pl         REAL    NOT NULL,
                week_pl        REAL    NOT NULL,
                month_pl       REAL    NOT NULL,
                total_pl       REAL    NOT NULL,
                positions      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(positions))
            ) STRICT
            """,
            "CREATE INDEX snapshots_by_account_time ON snapshots (account_id, taken_ms)",
        ),
    ),
    Migration(
        3,
        "deals, one row per account and ticket",
        (
            """
            CREATE TABLE deals (
                account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                ticket       INTEGER NOT NULL,
                order_ticket INTEGER NOT NULL,
                position_id  INTEGER NOT NULL,
                symbol       TEXT    NOT NULL,
                type         TEXT    NOT NULL,
                entry        TEXT    NOT NULL,
                volume       REAL    NOT NULL,
                price        REAL    NOT NULL,
                profit       REAL    NOT NULL,
                swap         REAL    NOT NULL,
                commission   REAL    NOT NULL,
                fee          REAL    NOT NULL,
                time_ms      INTEGER NOT NULL,
                magic        INTEGER NOT NULL,
                comment      TEXT    NOT NULL,
                PRIMARY KEY (account_id, ticket)
            ) STRICT, WITHOUT ROWID
            """,
            "CREATE INDEX deals_by_account_time ON deals (account_id, time_ms)",
        ),
    ),
    Migration(
        4,
        "client order ids (one order per id, also across restarts) and risk kill switches",
        (
            """
            CREATE TABLE client_orders (
                client_id   TEXT    PRIMARY KEY,
                account     TEXT    NOT NULL,
                action      TEXT    NOT NULL,
                tag         TEXT    NOT NULL,
                state       TEXT    NOT NULL CHECK (state IN ('sending', 'done', 'rejected', 'unknown')),
                request     TEXT    NOT NULL CHECK (json_valid(request)),
                result      TEXT    CHECK (result IS NULL OR json_valid(result)),
                message     TEXT    NOT NULL DEFAULT '',
                code        INTEGER,
                created_ms  INTEGER NOT NULL,
                updated_ms  INTEGER NOT NULL
            ) STRICT, WITHOUT ROWID
            """,
            "CREATE INDEX client_orders_by_time ON client_orders (created_ms)",
            """
            CREATE TABLE kill_switches (
                account     TEXT    PRIMARY KEY COLLATE NOCASE,
                tripped_ms  INTEGER NOT NULL,
                loss        REAL    NOT NULL,
                reason      TEXT    NOT NULL
            ) STRICT, WITHOUT ROWID
            """,
        ),
    ),
)

LEGACY_LATEST = LEGACY_MIGRATIONS[-1].version


def legacy_database(path: Path, version: int) -> None:
    """Create ``path`` at pre-Alembic schema ``version`` (0: an empty file), as the old app did."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    for migration in LEGACY_MIGRATIONS[:version]:
        for statement in migration.statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {migration.version}")
    conn.execute("COMMIT")
    conn.close()
