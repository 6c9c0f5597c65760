"""The ``accounts`` table: the registry of managed accounts (never a password: see credentials)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import ReturningUpdate

from app.core.storage.errors import ConflictError
from app.core.storage.schema import accounts
from app.core.storage.sql import is_unique_violation
from app.core.times import from_ms, to_ms
from app.models import AccountEdit, AccountStatus, ManagedAccount, NewAccount

_COLUMNS = (
    accounts.c.id,
    accounts.c.login,
    accounts.c.server,
    accounts.c.broker,
    accounts.c.alias,
    accounts.c.terminal_id,
    accounts.c.enabled,
    accounts.c.status,
    accounts.c.status_reason,
    accounts.c.last_snapshot_ms,
    accounts.c.last_deal_sync_ms,
    accounts.c.created_ms,
    accounts.c.updated_ms,
)
_SELECT = select(*_COLUMNS)
# Statements made once (making one costs more than running it): values go as parameters.
_GET = _SELECT.where(accounts.c.id == bindparam("b_id"))
_FIND = _SELECT.where(accounts.c.login == bindparam("b_login"), accounts.c.server == bindparam("b_server"))


@functools.cache
def _update(columns: tuple[str, ...]) -> ReturningUpdate[Any]:
    """``UPDATE accounts SET <columns>, updated_ms WHERE id = :b_id RETURNING ...``."""
    return (
        update(accounts)
        .where(accounts.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in (*columns, "updated_ms")})
        .returning(*_COLUMNS)
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

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(self, new: NewAccount, now: datetime) -> ManagedAccount:
        """Add a row (status pending); :class:`ConflictError` if ``login@server`` is registered."""
        stamp = to_ms(now)
        statement = (
            insert(accounts)
            .values(
                login=new.login,
                server=new.server,
                broker=new.broker,
                alias=new.alias,
                terminal_id=new.terminal_id,
                enabled=int(new.enabled),
                status=AccountStatus.PENDING.value,
                created_ms=stamp,
                updated_ms=stamp,
            )
            .returning(*_COLUMNS)
        )
        try:
            with self._conn.begin_nested():  # PostgreSQL: the failed insert must not end the transaction
                row = self._conn.execute(statement).one()
        except IntegrityError as exc:
            if is_unique_violation(exc):
                raise ConflictError(f"account {new.key} is already registered") from None
            raise
        return account_from_row(row)

    def get(self, account_id: int) -> ManagedAccount | None:
        row = self._conn.execute(_GET, {"b_id": account_id}).first()
        return None if row is None else account_from_row(row)

    def find(self, login: int, server: str) -> ManagedAccount | None:
        """The account ``login@server`` (the server name compares without regard to case)."""
        row = self._conn.execute(_FIND, {"b_login": login, "b_server": server}).first()
        return None if row is None else account_from_row(row)

    def list(self, *, enabled_only: bool = False) -> list[ManagedAccount]:
        query = _SELECT.order_by(accounts.c.id)
        if enabled_only:
            query = query.where(accounts.c.enabled == 1)
        return [account_from_row(row) for row in self._conn.execute(query)]

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
        return self._conn.execute(delete(accounts).where(accounts.c.id == account_id)).rowcount == 1

    def _set(self, account_id: int, changes: dict[str, object], now: datetime) -> ManagedAccount | None:
        params = {f"b_{name}": value for name, value in changes.items()}
        row = self._conn.execute(
            _update(tuple(changes)), {**params, "b_updated_ms": to_ms(now), "b_id": account_id}
        ).first()
        return None if row is None else account_from_row(row)
