"""The ``trailing_stops`` table: each open position's client-side trailing distance, per account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, delete, select

from app.core.storage.schema import trailing_stops
from app.core.storage.sql import upsert
from app.core.times import to_ms

_KEYS = ("account", "ticket")
_SET = ("points", "created_by", "updated_ms")


class TrailingRows:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def all(self) -> dict[tuple[str, int], int]:
        """``{(account, ticket): points}`` for every trailing stop kept."""
        t = trailing_stops.c
        rows = self._conn.execute(select(t.account, t.ticket, t.points).order_by(t.account, t.ticket))
        return {(str(account), int(ticket)): int(points) for account, ticket, points in rows}

    def put(self, account: str, ticket: int, points: int, now: datetime, *, created_by: str = "") -> None:
        """Trail ``ticket`` by ``points`` (a new distance replaces the old one)."""
        statement = upsert(self._conn.dialect.name, trailing_stops, _KEYS, _SET)
        self._conn.execute(
            statement,
            {"account": account, "ticket": ticket, "points": points, "created_by": created_by,
             "updated_ms": to_ms(now)},
        )  # fmt: skip

    def remove(self, account: str, tickets: list[int]) -> int:
        """Stop trailing these tickets of ``account`` (closed positions, or switched off)."""
        if not tickets:
            return 0
        t = trailing_stops.c
        result = self._conn.execute(
            delete(trailing_stops).where(and_(t.account == account, t.ticket.in_(tickets)))
        )
        return int(result.rowcount)
