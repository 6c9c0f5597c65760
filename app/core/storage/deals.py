"""The ``deals`` table: one row per account and deal ticket, upserted (a deal fetched twice is stored
once), so fetching deals with an overlap is always safe."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, select, update

from app.core.storage.schema import deals as _deals
from app.core.storage.sql import BulkStatement, insert_ignoring_duplicates
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
_COLUMNS = (_deals.c.ticket, *(_deals.c[name] for name in _FIELDS))
_SELECT = select(*_COLUMNS)
_INSERT = BulkStatement(
    lambda dialect: insert_ignoring_duplicates(dialect, _deals, ("account_id", "ticket")),
    ("account_id", "ticket", *_FIELDS),
)
_UPDATE = BulkStatement(
    lambda dialect: (
        update(_deals)
        .where(_deals.c.account_id == bindparam("b_account"), _deals.c.ticket == bindparam("b_ticket"))
        .values({name: bindparam(f"b_{name}") for name in _FIELDS})
    ),
    (*(f"b_{name}" for name in _FIELDS), "b_account", "b_ticket"),
)
_CHUNK = 500  # deals looked up and written together
_STORED = _SELECT.where(
    _deals.c.account_id == bindparam("b_account"), _deals.c.ticket.in_(bindparam("b_tickets", expanding=True))
)
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

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.inserted + other.inserted, self.updated + other.updated, self.unchanged + other.unchanged
        )


@functools.cache
def _list_query(since: bool, until: bool, trades_only: bool) -> Select[Any]:
    query = _SELECT.where(_deals.c.account_id == bindparam("b_account"))
    if since:
        query = query.where(_deals.c.time_ms >= bindparam("b_since"))
    if until:
        query = query.where(_deals.c.time_ms < bindparam("b_until"))
    if trades_only:
        query = query.where(_deals.c.type.in_(_TRADE_TYPES))
    return query.order_by(_deals.c.time_ms, _deals.c.ticket)


class DealRows:
    """Queries on ``deals``. Used inside a :class:`~app.core.storage.Tx` on the database thread."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def upsert(self, account_id: int, deals: Iterable[Deal]) -> UpsertResult:
        """Store ``deals``: new tickets are inserted, known ones updated if anything differs (a ticket
        given twice ends as its last). Works through the deals a chunk at a time: one query finds which
        of a chunk are stored, then the new and the changed ones are written in bulk."""
        total = UpsertResult()
        chunk: list[Deal] = []
        for deal in deals:
            chunk.append(deal)
            if len(chunk) == _CHUNK:
                total = total + self._upsert_chunk(account_id, chunk)
                chunk = []
        if chunk:
            total = total + self._upsert_chunk(account_id, chunk)
        return total

    def _upsert_chunk(self, account_id: int, chunk: list[Deal]) -> UpsertResult:
        known = self._stored(account_id, [deal.ticket for deal in chunk])
        inserts: dict[int, tuple[object, ...]] = {}
        updates: dict[int, tuple[object, ...]] = {}
        inserted = updated = unchanged = 0
        for deal in chunk:
            ticket, values = deal.ticket, _values(deal)
            before = known.get(ticket)
            if before is None:
                inserts[ticket] = values
                inserted += 1
            elif before != values:
                (inserts if ticket in inserts else updates)[ticket] = values
                updated += 1
            else:
                unchanged += 1
            known[ticket] = values
        _INSERT.run(self._conn, [(account_id, ticket, *values) for ticket, values in inserts.items()])
        _UPDATE.run(self._conn, [(*values, account_id, ticket) for ticket, values in updates.items()])
        return UpsertResult(inserted, updated, unchanged)

    def _stored(self, account_id: int, tickets: list[int]) -> dict[int, tuple[object, ...]]:
        """The stored values of those of ``tickets`` the account has."""
        rows = self._conn.execute(_STORED, {"b_account": account_id, "b_tickets": tickets})
        return {row[0]: tuple(row[1:]) for row in rows}

    def list(
        self,
        account_id: int,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        trades_only: bool = False,
    ) -> list[Deal]:
        """The account's deals in time order (then by ticket), optionally in ``[since, until)``."""
        params = {
            "b_account": account_id,
            "b_since": None if since is None else to_ms(since),
            "b_until": None if until is None else to_ms(until),
        }
        rows = self._conn.execute(_list_query(since is not None, until is not None, trades_only), params)
        return [deal_from_row(row) for row in rows]

    def get(self, account_id: int, ticket: int) -> Deal | None:
        row = self._conn.execute(
            _SELECT.where(_deals.c.account_id == account_id, _deals.c.ticket == ticket)
        ).first()
        return None if row is None else deal_from_row(row)

    def latest_time(self, account_id: int) -> datetime | None:
        """The time of the account's newest stored deal: fetch from a little before it next time."""
        ms = self._conn.execute(
            select(func.max(_deals.c.time_ms)).where(_deals.c.account_id == account_id)
        ).scalar()
        return None if ms is None else from_ms(ms)

    def count(self, account_id: int | None = None) -> int:
        query = select(func.count()).select_from(_deals)
        if account_id is not None:
            query = query.where(_deals.c.account_id == account_id)
        return int(self._conn.execute(query).scalar_one())
