"""The ``snapshots`` table: what each carousel visit saw, for equity curves and exposure.

The history is bounded (:class:`RetentionPolicy`): recent snapshots are all kept, older ones are
thinned to one per account per interval, the oldest are deleted — but an account's latest snapshot is
never deleted, however old, since it is what the Accounts and Exposure views show.
"""

# SQL text here is assembled from this module's own constants only; values always travel as
# parameters, so the S608 (SQL injection) heuristic does not apply.
# ruff: noqa: S608

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.config import StorageSettings
from app.core.times import from_ms, to_ms
from app.models import AccountSnapshot, PeriodPnL, Side, SnapshotPosition, account_key

_COLUMNS = (
    "s.taken_ms, s.balance, s.equity, s.margin, s.margin_free, s.margin_level, s.currency, "
    "s.open_positions, s.open_pl, s.pending_orders, s.day_pl, s.week_pl, s.month_pl, s.total_pl, "
    "s.positions, a.login, a.server"
)
_FROM = "FROM snapshots s JOIN accounts a ON a.id = s.account_id"
_LATEST_ID = "(SELECT id FROM snapshots WHERE account_id = {account} ORDER BY taken_ms DESC, id DESC LIMIT 1)"


def positions_to_json(positions: Sequence[SnapshotPosition]) -> str:
    return json.dumps(
        [
            {
                "symbol": p.symbol,
                "side": p.side.value,
                "volume": p.volume,
                "price_open": p.price_open,
                "profit": p.profit,
                "swap": p.swap,
                "ticket": p.ticket,
            }
            for p in positions
        ],
        separators=(",", ":"),
    )


def positions_from_json(text: str) -> tuple[SnapshotPosition, ...]:
    return tuple(
        SnapshotPosition(
            symbol=str(item["symbol"]),
            side=Side(item["side"]),
            volume=float(item["volume"]),
            price_open=float(item["price_open"]),
            profit=float(item["profit"]),
            swap=float(item.get("swap", 0.0)),
            ticket=int(item.get("ticket", 0)),
        )
        for item in json.loads(text)
    )


def snapshot_from_row(row: Sequence[Any]) -> AccountSnapshot:
    (taken, balance, equity, margin, free, level, currency, n_open, open_pl, n_pending) = row[:10]
    day, week, month, total, positions, login, server = row[10:]
    return AccountSnapshot(
        account_key=account_key(int(login), str(server)),
        taken_at=from_ms(taken),
        balance=balance,
        equity=equity,
        margin=margin,
        margin_free=free,
        margin_level=level,
        currency=currency,
        open_positions=n_open,
        open_pl=open_pl,
        pending_orders=n_pending,
        pnl=PeriodPnL(day=day, week=week, month=month, total=total),
        positions=positions_from_json(positions),
    )


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Keep every snapshot for ``keep_all``; then one per account per ``thin_every``; delete after
    ``keep_for`` (None: never)."""

    keep_all: timedelta = timedelta(days=7)
    thin_every: timedelta = timedelta(hours=1)
    keep_for: timedelta | None = timedelta(days=365)

    @classmethod
    def from_settings(cls, settings: StorageSettings) -> RetentionPolicy:
        return cls(
            keep_all=timedelta(days=settings.snapshot_keep_all_days),
            thin_every=timedelta(minutes=settings.snapshot_thin_minutes),
            keep_for=timedelta(days=settings.snapshot_retention_days)
            if settings.snapshot_retention_days
            else None,
        )


@dataclass(frozen=True, slots=True)
class PruneResult:
    thinned: int
    expired: int


class SnapshotRows:
    """Queries on ``snapshots``. Used inside a :class:`~app.core.storage.Tx` on the database thread."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(self, account_id: int, snapshot: AccountSnapshot) -> int:
        """Store ``snapshot`` for the account; return its row id."""
        pnl = snapshot.pnl
        cursor = self._conn.execute(
            "INSERT INTO snapshots (account_id, taken_ms, balance, equity, margin, margin_free, "
            "margin_level, currency, open_positions, open_pl, pending_orders, day_pl, week_pl, month_pl, "
            "total_pl, positions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                account_id,
                to_ms(snapshot.taken_at),
                snapshot.balance,
                snapshot.equity,
                snapshot.margin,
                snapshot.margin_free,
                snapshot.margin_level,
                snapshot.currency,
                snapshot.open_positions,
                snapshot.open_pl,
                snapshot.pending_orders,
                pnl.day,
                pnl.week,
                pnl.month,
                pnl.total,
                positions_to_json(snapshot.positions),
            ),
        )
        return int(cursor.lastrowid or 0)

    def latest(self, account_id: int) -> AccountSnapshot | None:
        row = self._conn.execute(
            f"SELECT {_COLUMNS} {_FROM} WHERE s.id = {_LATEST_ID.format(account='?')}", (account_id,)
        ).fetchone()
        return None if row is None else snapshot_from_row(row)

    def latest_all(self, *, enabled_only: bool = False) -> dict[int, AccountSnapshot]:
        """The latest snapshot of every account that has one, by account id (for the Exposure view)."""
        where = " AND a.enabled = 1" if enabled_only else ""
        rows = self._conn.execute(
            f"SELECT a.id, {_COLUMNS} {_FROM} WHERE s.id = {_LATEST_ID.format(account='a.id')}{where}"
        ).fetchall()
        return {int(row[0]): snapshot_from_row(row[1:]) for row in rows}

    def history(
        self,
        account_id: int,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[AccountSnapshot]:
        """The account's snapshots in time order (the newest ``limit`` of them, if given)."""
        clauses, params = ["s.account_id = ?"], [account_id]
        if since is not None:
            clauses.append("s.taken_ms >= ?")
            params.append(to_ms(since))
        if until is not None:
            clauses.append("s.taken_ms <= ?")
            params.append(to_ms(until))
        query = f"SELECT {_COLUMNS} {_FROM} WHERE {' AND '.join(clauses)} ORDER BY s.taken_ms DESC, s.id DESC"
        if limit is not None:
            query += " LIMIT ?"
            params.append(limit)
        rows = self._conn.execute(query, params).fetchall()
        return [snapshot_from_row(row) for row in reversed(rows)]

    def count(self, account_id: int | None = None) -> int:
        if account_id is None:
            return int(self._conn.execute("SELECT count(*) FROM snapshots").fetchone()[0])
        query = "SELECT count(*) FROM snapshots WHERE account_id = ?"
        return int(self._conn.execute(query, (account_id,)).fetchone()[0])

    def prune(self, now: datetime, policy: RetentionPolicy) -> PruneResult:
        """Apply ``policy`` as of ``now``. Idempotent: pruning twice at once removes nothing more."""
        latest = f"SELECT {_LATEST_ID.format(account='a.id')} FROM accounts a"
        expired = 0
        if policy.keep_for is not None:
            expired = self._conn.execute(
                f"DELETE FROM snapshots WHERE taken_ms < ? AND id NOT IN ({latest})",
                (to_ms(now - policy.keep_for),),
            ).rowcount
        bucket_ms = max(1, policy.thin_every // timedelta(milliseconds=1))
        # In each (account, bucket) of the thinned range keep the last snapshot: SQLite takes the bare
        # column ``id`` from the row holding MAX(taken_ms).
        thinned = self._conn.execute(
            "DELETE FROM snapshots WHERE taken_ms < :cutoff AND id NOT IN ("
            "  SELECT id FROM (SELECT id, MAX(taken_ms) FROM snapshots WHERE taken_ms < :cutoff"
            "                  GROUP BY account_id, taken_ms / :bucket))"
            f" AND id NOT IN ({latest})",
            {"cutoff": to_ms(now - policy.keep_all), "bucket": bucket_ms},
        ).rowcount
        return PruneResult(thinned=thinned, expired=expired)
