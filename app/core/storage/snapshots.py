"""The ``snapshots`` table: what each carousel visit saw, for equity curves and exposure.

The history is bounded (:class:`RetentionPolicy`): recent snapshots are all kept, older ones are
thinned to one per account per interval, the oldest are deleted — but an account's latest snapshot is
never deleted, however old, since it is what the Accounts and Exposure views show.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, ScalarSelect, delete, func, select, tuple_
from sqlalchemy.sql.dml import ReturningInsert

from app.config import StorageSettings
from app.core.storage.schema import accounts, snapshots
from app.core.storage.sql import upsert
from app.core.times import from_ms, to_ms
from app.models import AccountSnapshot, PeriodPnL, Side, SnapshotPosition, account_key

_VALUES = (
    "taken_ms",
    "balance",
    "equity",
    "margin",
    "margin_free",
    "margin_level",
    "currency",
    "open_positions",
    "open_pl",
    "pending_orders",
    "day_pl",
    "week_pl",
    "month_pl",
    "total_pl",
    "positions",
)
_COLUMNS = (*(snapshots.c[name] for name in _VALUES), accounts.c.login, accounts.c.server)
_JOINED = snapshots.join(accounts, accounts.c.id == snapshots.c.account_id)


_NEWEST = snapshots.alias("newest")


@functools.cache
def _add_statement(dialect_name: str) -> ReturningInsert[Any]:
    return upsert(dialect_name, snapshots, ("account_id", "taken_ms"), _VALUES[1:]).returning(snapshots.c.id)


def _latest_id(account_id: Any) -> ScalarSelect[Any]:
    """The id of the account's newest snapshot (``account_id``: a value or a correlated column)."""
    return (
        select(_NEWEST.c.id)
        .where(_NEWEST.c.account_id == account_id)
        .order_by(_NEWEST.c.taken_ms.desc(), _NEWEST.c.id.desc())
        .limit(1)
        .correlate_except(_NEWEST)
        .scalar_subquery()
    )


def positions_to_json(positions: Sequence[SnapshotPosition]) -> list[dict[str, Any]]:
    return [
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
    ]


def positions_from_json(items: Sequence[dict[str, Any]]) -> tuple[SnapshotPosition, ...]:
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
        for item in items
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

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, account_id: int, snapshot: AccountSnapshot) -> int:
        """Store ``snapshot`` for the account and return its row id. A snapshot of the same account and
        moment (a visit stored again) replaces the one stored before."""
        pnl = snapshot.pnl
        values = {
            "account_id": account_id,
            "taken_ms": to_ms(snapshot.taken_at),
            "balance": snapshot.balance,
            "equity": snapshot.equity,
            "margin": snapshot.margin,
            "margin_free": snapshot.margin_free,
            "margin_level": snapshot.margin_level,
            "currency": snapshot.currency,
            "open_positions": snapshot.open_positions,
            "open_pl": snapshot.open_pl,
            "pending_orders": snapshot.pending_orders,
            "day_pl": pnl.day,
            "week_pl": pnl.week,
            "month_pl": pnl.month,
            "total_pl": pnl.total,
            "positions": positions_to_json(snapshot.positions),
        }
        return int(self._conn.execute(_add_statement(self._conn.dialect.name), values).scalar_one())

    def latest(self, account_id: int) -> AccountSnapshot | None:
        row = self._conn.execute(
            select(*_COLUMNS).select_from(_JOINED).where(snapshots.c.id == _latest_id(account_id))
        ).first()
        return None if row is None else snapshot_from_row(row)

    def latest_all(self, *, enabled_only: bool = False) -> dict[int, AccountSnapshot]:
        """The latest snapshot of every account that has one, by account id (for the Exposure view)."""
        query = (
            select(accounts.c.id, *_COLUMNS)
            .select_from(_JOINED)
            .where(snapshots.c.id == _latest_id(accounts.c.id))
        )
        if enabled_only:
            query = query.where(accounts.c.enabled == 1)
        return {int(row[0]): snapshot_from_row(row[1:]) for row in self._conn.execute(query)}

    def history(
        self,
        account_id: int,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[AccountSnapshot]:
        """The account's snapshots in time order (the newest ``limit`` of them, if given)."""
        query = select(*_COLUMNS).select_from(_JOINED).where(snapshots.c.account_id == account_id)
        if since is not None:
            query = query.where(snapshots.c.taken_ms >= to_ms(since))
        if until is not None:
            query = query.where(snapshots.c.taken_ms <= to_ms(until))
        query = query.order_by(snapshots.c.taken_ms.desc(), snapshots.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        rows = self._conn.execute(query).all()
        return [snapshot_from_row(row) for row in reversed(rows)]

    def count(self, account_id: int | None = None) -> int:
        query = select(func.count()).select_from(snapshots)
        if account_id is not None:
            query = query.where(snapshots.c.account_id == account_id)
        return int(self._conn.execute(query).scalar_one())

    def prune(self, now: datetime, policy: RetentionPolicy) -> PruneResult:
        """Apply ``policy`` as of ``now``. Idempotent: pruning twice at once removes nothing more."""
        latest = select(_latest_id(accounts.c.id)).select_from(accounts)
        expired = 0
        if policy.keep_for is not None:
            expired = self._conn.execute(
                delete(snapshots).where(
                    snapshots.c.taken_ms < to_ms(now - policy.keep_for), snapshots.c.id.not_in(latest)
                )
            ).rowcount
        cutoff = to_ms(now - policy.keep_all)
        bucket_ms = max(1, policy.thin_every // timedelta(milliseconds=1))
        # In each (account, bucket) of the thinned range keep the last snapshot (one per moment:
        # account and time are unique).
        kept = (
            select(snapshots.c.account_id, func.max(snapshots.c.taken_ms))
            .where(snapshots.c.taken_ms < cutoff)
            .group_by(snapshots.c.account_id, snapshots.c.taken_ms // bucket_ms)
        )
        thinned = self._conn.execute(
            delete(snapshots).where(
                snapshots.c.taken_ms < cutoff,
                tuple_(snapshots.c.account_id, snapshots.c.taken_ms).not_in(kept),
                snapshots.c.id.not_in(latest),
            )
        ).rowcount
        return PruneResult(thinned=thinned, expired=expired)
