"""Exposure per symbol over all accounts: the carousel's latest snapshots and the live account.

Every account counts once: the live account (as the terminal shows it now, :func:`live_snapshot`)
is counted even when the carousel does not visit it, and when it is also a carousel account its
freshest picture counts, not both (:func:`one_per_account`).

For each symbol: the net volume (long positive, short negative) and its two sides, the average price
of the net position — the price at which the positions of the symbol together break even, before
costs: sum(signed volume × open price) / net volume — and the floating P/L, kept per account
currency (adding dollars to euros would be wrong), with how many accounts and positions stand
behind it and how old the oldest and newest snapshot counted are.

Volumes are in lots as each broker counts them. Pure functions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from app.core.account_snapshot import snapshot_of
from app.core.times import EPOCH
from app.models import AccountInfo, AccountSnapshot, Position

# Below this the net volume counts as flat (lots are stepped in 0.01 at the finest).
FLAT = 1e-9


@dataclass(frozen=True, slots=True)
class SymbolExposure:
    symbol: str
    net_volume: float
    long_volume: float
    short_volume: float
    average_price: float | None  # None when flat
    floating: tuple[tuple[str, float], ...]  # (currency, P/L), by currency
    accounts: int
    positions: int
    oldest: datetime
    newest: datetime
    price_digits: int = 5

    @property
    def side(self) -> Literal["long", "short", "flat"]:
        if abs(self.net_volume) < FLAT:
            return "flat"
        return "long" if self.net_volume > 0 else "short"


@dataclass
class _Totals:
    long: list[float] = field(default_factory=list)
    short: list[float] = field(default_factory=list)
    weighted: list[float] = field(default_factory=list)  # signed volume × open price
    floating: dict[str, list[float]] = field(default_factory=dict)
    accounts: set[str] = field(default_factory=set)
    positions: int = 0
    oldest: datetime = EPOCH
    newest: datetime = EPOCH


def price_digits(price: float) -> int:
    """How many decimals to show an average price with (a snapshot does not keep the symbol's
    digits): FX-like prices five, JPY- and index-like three, larger ones two."""
    size = abs(price)
    return 5 if size < 10 else 3 if size < 1_000 else 2


def live_snapshot(account: AccountInfo, positions: Iterable[Position], taken_at: datetime) -> AccountSnapshot:
    """The live account as the terminal shows it now, in the carousel's snapshot terms."""
    return snapshot_of(account.key, account, positions, 0, taken_at)


def one_per_account(snapshots: Iterable[AccountSnapshot]) -> list[AccountSnapshot]:
    """The newest snapshot of each account (``login@server``, in any letter case)."""
    newest: dict[str, AccountSnapshot] = {}
    for snapshot in snapshots:
        key = snapshot.account_key.casefold()
        if key not in newest or snapshot.taken_at >= newest[key].taken_at:
            newest[key] = snapshot
    return list(newest.values())


def exposure(snapshots: Iterable[AccountSnapshot]) -> list[SymbolExposure]:
    """Exposure per symbol (sorted by symbol) from the accounts' latest snapshots, one per account."""
    totals: dict[str, _Totals] = {}
    for snapshot in one_per_account(snapshots):
        key, taken, currency = snapshot.account_key, snapshot.taken_at, snapshot.currency
        for position in snapshot.positions:
            t = totals.setdefault(position.symbol, _Totals(oldest=taken, newest=taken))
            (t.long if position.signed_volume > 0 else t.short).append(position.volume)
            t.weighted.append(position.signed_volume * position.price_open)
            t.floating.setdefault(currency, []).append(position.floating)
            t.accounts.add(key)
            t.positions += 1
            t.oldest, t.newest = min(t.oldest, taken), max(t.newest, taken)
    found = []
    for symbol, t in sorted(totals.items()):
        long_volume, short_volume = math.fsum(t.long), math.fsum(t.short)
        net = long_volume - short_volume
        average = math.fsum(t.weighted) / net if abs(net) >= FLAT else None
        found.append(
            SymbolExposure(
                symbol=symbol,
                net_volume=0.0 if abs(net) < FLAT else net,
                long_volume=long_volume,
                short_volume=short_volume,
                average_price=average,
                floating=tuple((c, math.fsum(v)) for c, v in sorted(t.floating.items())),
                accounts=len(t.accounts),
                positions=t.positions,
                oldest=t.oldest,
                newest=t.newest,
                price_digits=5 if average is None else price_digits(average),
            )
        )
    return found


def floating_by_currency(rows: Iterable[SymbolExposure]) -> tuple[tuple[str, float], ...]:
    """The floating P/L of all symbols together, per currency."""
    sums: dict[str, list[float]] = {}
    for row in rows:
        for currency, value in row.floating:
            sums.setdefault(currency, []).append(value)
    return tuple((c, math.fsum(v)) for c, v in sorted(sums.items()))
