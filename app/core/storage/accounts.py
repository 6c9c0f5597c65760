"""The ``accounts`` table: the registry of managed accounts (never a password: see credentials)."""

# SQL text here is assembled from this module's own constants only; values always travel as
# parameters, so the S608 (SQL injection) heuristic does not apply.
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.core.storage.errors import ConflictError
from app.core.times import from_ms, to_ms
from app.models import AccountEdit, AccountStatus, ManagedAccount, NewAccount

_COLUMNS = (
    "id, login, server, broker, alias, terminal_id, enabled, status, status_reason, "
    "last_snapshot_ms, last_deal_sync_ms, created_ms, updated_ms"
)


def _optional_time(ms: int | None) -> datetime | None:
    return None if ms is None else from_ms(ms)


def account_from_row(row: Sequence[Any]) -> ManagedAccount:
    (id_, login, server, broker, alias, terminal, enabled, status, reason, snap, sync, created, updated) = row
    return ManagedAccount(
        id=int(id_),
        login=int(login),
        server=str(server),
        broker=str(broker),
        alias=str(alias),
        terminal_id=None if terminal is None else str(terminal),
        enabled=bool(enabled),
        status=AccountStatus(status),
        status_reason=str(reason),
        last_snapshot_at=_optional_time(snap),
        last_deal_sync_at=_optional_time(sync),
        created_at=from_ms(created),
        updated_at=from_ms(updated),
    )


class AccountRows:
    """Queries on ``accounts``. Used inside a :class:`~app.core.storage.Tx` on the database thread."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def insert(self, new: NewAccount, now: datetime) -> ManagedAccount:
        """Add a row (status pending); :class:`ConflictError` if ``login@server`` is registered."""
        stamp = to_ms(now)
        try:
            row = self._conn.execute(
                "INSERT INTO accounts (login, server, broker, alias, terminal_id, enabled, status, "
                "created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?) "
                f"RETURNING {_COLUMNS}",
                (
                    new.login,
                    new.server,
                    new.broker,
                    new.alias,
                    new.terminal_id,
                    int(new.enabled),
                    stamp,
                    stamp,
                ),
            ).fetchone()
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc):
                raise ConflictError(f"account {new.key} is already registered") from None
            raise
        return account_from_row(row)

    def get(self, account_id: int) -> ManagedAccount | None:
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM accounts WHERE id = ?", (account_id,)).fetchone()
        return None if row is None else account_from_row(row)

    def find(self, login: int, server: str) -> ManagedAccount | None:
        """The account ``login@server`` (the server name compares without regard to case)."""
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM accounts WHERE login = ? AND server = ?", (login, server)
        ).fetchone()
        return None if row is None else account_from_row(row)

    def list(self, *, enabled_only: bool = False) -> list[ManagedAccount]:
        where = "WHERE enabled = 1 " if enabled_only else ""
        rows = self._conn.execute(f"SELECT {_COLUMNS} FROM accounts {where}ORDER BY id").fetchall()
        return [account_from_row(row) for row in rows]

    def update(self, account_id: int, edit: AccountEdit, now: datetime) -> ManagedAccount | None:
        """Apply ``edit`` (see :class:`AccountEdit` for keep/clear); None if there is no such row."""
        changes: dict[str, object] = {}
        if edit.broker is not None:
            changes["broker"] = edit.broker
        if edit.alias is not None:
            changes["alias"] = edit.alias
        if edit.terminal_id is not None:
            changes["terminal_id"] = edit.terminal_id or None
        if edit.enabled is not None:
            changes["enabled"] = int(edit.enabled)
        return self._set(account_id, changes, now)

    def set_status(
        self, account_id: int, status: AccountStatus, reason: str, now: datetime
    ) -> ManagedAccount | None:
        return self._set(account_id, {"status": status.value, "status_reason": reason}, now)

    def mark_visited(
        self, account_id: int, snapshot_at: datetime, deals_synced_at: datetime | None, now: datetime
    ) -> ManagedAccount | None:
        """A successful visit: status ok, the snapshot's time, and how far deals are known."""
        changes: dict[str, object] = {
            "status": AccountStatus.OK.value,
            "status_reason": "",
            "last_snapshot_ms": to_ms(snapshot_at),
        }
        if deals_synced_at is not None:
            changes["last_deal_sync_ms"] = to_ms(deals_synced_at)
        return self._set(account_id, changes, now)

    def delete(self, account_id: int) -> bool:
        """Delete the row and, through the foreign keys, its snapshots and deals."""
        return self._conn.execute("DELETE FROM accounts WHERE id = ?", (account_id,)).rowcount == 1

    def _set(self, account_id: int, changes: dict[str, object], now: datetime) -> ManagedAccount | None:
        # Column names come from this module only, never from the caller.
        assignments = ", ".join(f"{column} = ?" for column in [*changes, "updated_ms"])
        row = self._conn.execute(
            f"UPDATE accounts SET {assignments} WHERE id = ? RETURNING {_COLUMNS}",
            (*changes.values(), to_ms(now), account_id),
        ).fetchone()
        return None if row is None else account_from_row(row)
