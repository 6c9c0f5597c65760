"""Small builders for domain objects in tests (every field has a sensible default)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

from app.models import AccountSnapshot, Deal, DealEntry, DealType, PeriodPnL, Side, SnapshotPosition

_tickets = count(1_000)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def deal(
    time: datetime,
    *,
    type: DealType = DealType.BUY,  # noqa: A002 - the field's name
    entry: DealEntry = DealEntry.OUT,
    profit: float = 0.0,
    commission: float = 0.0,
    swap: float = 0.0,
    fee: float = 0.0,
    ticket: int | None = None,
    symbol: str = "EURUSD",
    volume: float = 0.1,
    price: float = 1.1,
    comment: str = "",
) -> Deal:
    number = next(_tickets) if ticket is None else ticket
    is_trade = type.is_trade
    return Deal(
        ticket=number,
        order=number + 500_000 if is_trade else 0,
        position_id=number + 900_000 if is_trade else 0,
        symbol=symbol if is_trade else "",
        type=type,
        entry=entry if is_trade else DealEntry.IN,
        volume=volume if is_trade else 0.0,
        price=price if is_trade else 0.0,
        profit=profit,
        swap=swap,
        commission=commission,
        fee=fee,
        time=time,
        comment=comment,
    )


def snapshot(
    taken_at: datetime,
    *,
    key: str = "",
    balance: float = 10_000.0,
    equity: float | None = None,
    positions: tuple[SnapshotPosition, ...] = (),
    pnl: PeriodPnL | None = None,
) -> AccountSnapshot:
    open_pl = sum(p.floating for p in positions)
    return AccountSnapshot(
        account_key=key,
        taken_at=taken_at,
        balance=balance,
        equity=balance + open_pl if equity is None else equity,
        margin=100.0 * len(positions),
        margin_free=balance - 100.0 * len(positions),
        margin_level=0.0 if not positions else balance / (100.0 * len(positions)) * 100,
        currency="USD",
        open_positions=len(positions),
        open_pl=open_pl,
        pending_orders=0,
        pnl=pnl or PeriodPnL(),
        positions=positions,
    )


def position(
    symbol: str, side: Side, volume: float, price_open: float, profit: float, swap: float = 0.0
) -> SnapshotPosition:
    return SnapshotPosition(symbol, side, volume, price_open, profit, swap, ticket=next(_tickets))
