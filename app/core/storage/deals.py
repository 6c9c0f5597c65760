"""The ``deals`` table: one row per account and deal ticket, upserted (a deal fetched twice is stored
once), so fetching deals with an overlap is always safe."""

# SQL text here is assembled from this module's own constants only; values always travel as
# parameters, so the S608 (SQL injection) heuristic does not apply.
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core.times import from_ms, to_ms
from app.models import Deal, DealEntry, DealType

_FIELDS = (
    "order_ticket",
    "position_id",
    "symbol",
    "type",
    "entry",
    "volume",
    "price",
    "profit",
    "swap",
    "commission",
    "fee",
    "time_ms",
    "magic",
    "comment",
)
_COLUMNS = "ticket, " + ", ".join(_FIELDS)
_TRADE_TYPES = tuple(t.value for t in DealType if t.is_trade)


def _values(deal: Deal) -> tuple[object, ...]:
    return (
        deal.order,
        deal.position_id,
        deal.symbol,
        deal.type.value,
        deal.entry.value,
        deal.volume,
        deal.price,
        deal.profit,
        deal.swap,
        deal.commission,
        deal.fee,
        to_ms(deal.time),
        deal.magic,
        deal.comment,
    )


def deal_from_row(row: Sequence[Any]) -> Deal:
    ticket, order, position, symbol, type_, entry, volume, price, profit, swap, commission, fee = row[:12]
    time_ms, magic, comment = row[12:]
    return Deal(
        ticket=ticket,
        order=order,
        position_id=position,
        symbol=symbol,
        type=DealType(type_),
        entry=DealEntry(entry),
        volume=volume,
        price=price,
        profit=profit,
        swap=swap,
        commission=commission,
        fee=fee,
        time=from_ms(time_ms),
        magic=magic,
        comment=comment,
    )


@dataclass(frozen=True, slots=True)
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class DealRows:
    """Queries on ``deals``. Used inside a :class:`~app.core.storage.Tx` on the database thread."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def upsert(self, account_id: int, deals: Iterable[Deal]) -> UpsertResult:
        """Store ``deals``: new tickets are inserted, known ones updated if anything differs."""
        insert = (
            f"INSERT INTO deals (account_id, {_COLUMNS}) VALUES (?, ?, {', '.join('?' * len(_FIELDS))}) "
            "ON CONFLICT (account_id, ticket) DO NOTHING"
        )
        changed = " OR ".join(f"{field} IS NOT ?" for field in _FIELDS)
        assignments = ", ".join(f"{field} = ?" for field in _FIELDS)
        update = f"UPDATE deals SET {assignments} WHERE account_id = ? AND ticket = ? AND ({changed})"
        inserted = updated = unchanged = 0
        for deal in deals:
            values = _values(deal)
            if self._conn.execute(insert, (account_id, deal.ticket, *values)).rowcount == 1:
                inserted += 1
            elif self._conn.execute(update, (*values, account_id, deal.ticket, *values)).rowcount == 1:
                updated += 1
            else:
                unchanged += 1
        return UpsertResult(inserted, updated, unchanged)

    def list(
        self,
        account_id: int,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        trades_only: bool = False,
    ) -> list[Deal]:
        """The account's deals in time order (then by ticket), optionally in ``[since, until)``."""
        clauses = ["account_id = ?"]
        params: list[object] = [account_id]
        if since is not None:
            clauses.append("time_ms >= ?")
            params.append(to_ms(since))
        if until is not None:
            clauses.append("time_ms < ?")
            params.append(to_ms(until))
        if trades_only:
            clauses.append(f"type IN ({', '.join('?' * len(_TRADE_TYPES))})")
            params.extend(_TRADE_TYPES)
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM deals WHERE {' AND '.join(clauses)} ORDER BY time_ms, ticket",
            params,
        ).fetchall()
        return [deal_from_row(row) for row in rows]

    def get(self, account_id: int, ticket: int) -> Deal | None:
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM deals WHERE account_id = ? AND ticket = ?", (account_id, ticket)
        ).fetchone()
        return None if row is None else deal_from_row(row)

    def latest_time(self, account_id: int) -> datetime | None:
        """The time of the account's newest stored deal: fetch from a little before it next time."""
        ms = self._conn.execute(
            "SELECT max(time_ms) FROM deals WHERE account_id = ?", (account_id,)
        ).fetchone()[0]
        return None if ms is None else from_ms(ms)

    def count(self, account_id: int | None = None) -> int:
        if account_id is None:
            return int(self._conn.execute("SELECT count(*) FROM deals").fetchone()[0])
        return int(
            self._conn.execute("SELECT count(*) FROM deals WHERE account_id = ?", (account_id,)).fetchone()[0]
        )
