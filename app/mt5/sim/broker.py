"""The broker's view of its books at current prices: quotes, floating profit, equity and margin.

Shared by request checking, execution and the background triggers, so every figure (a position's
profit, an account's margin level, order_check's margin) comes from one place.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from app.mt5.sim import constants as c
from app.mt5.sim.clock import Clock
from app.mt5.sim.feed import PriceFeed
from app.mt5.sim.ledger import Account, Ledger, Position
from app.mt5.sim.money import Converter, hedged_margin, profit
from app.mt5.sim.sessions import is_open
from app.mt5.sim.symbols import SymbolSpec

Legs = dict[str, list[tuple[int, float, float]]]  # symbol -> [(type, volume, margin)]


@dataclass(frozen=True, slots=True)
class Figures:
    balance: float
    credit: float
    profit: float
    equity: float
    margin: float
    margin_free: float
    margin_level: float


def margin_level(equity: float, margin: float) -> float:
    return round(equity / margin * 100, 2) if margin > 0 else 0.0


class Broker:
    def __init__(self, ledger: Ledger, feed: PriceFeed, clock: Clock) -> None:
        self.ledger = ledger
        self.feed = feed
        self.clock = clock
        self.specs: dict[str, SymbolSpec] = feed.specs
        self.rates = Converter(self.quote, self.specs)
        self._frozen = threading.local()  # each request's thread its own set of prices

    # ------------------------------------------------------------------ market
    def quote(self, symbol: str) -> tuple[float, float] | None:
        quotes: dict[str, tuple[float, float] | None] | None = getattr(self._frozen, "quotes", None)
        if quotes is not None and symbol in quotes:
            return quotes[symbol]
        tick = self.feed.last_tick(symbol, self.clock.now_ms())
        quote = (tick.bid, tick.ask) if tick is not None else None
        if quotes is not None:
            quotes[symbol] = quote
        return quote

    @contextmanager
    def frozen_quotes(self) -> Iterator[None]:
        """Within this block every quote is read once (one server step sees one set of prices, and an
        account's figures do not compute the same symbol's last tick once per position). Per thread;
        a block within a block is the outer one."""
        if getattr(self._frozen, "quotes", None) is not None:
            yield
            return
        self._frozen.quotes = {}
        try:
            yield
        finally:
            self._frozen.quotes = None

    def market_open(self, symbol: str, now_ms: int) -> bool:
        return is_open(self.specs[symbol].sessions, now_ms)

    # ------------------------------------------------------------------ positions and accounts
    def position_profit(
        self, position: Position, account: Account, quote: tuple[float, float] | None = None
    ) -> tuple[float, float]:
        """(price_current, profit in account currency) of an open position."""
        quote = quote or self.quote(position.symbol)
        if quote is None:
            return position.price_open, 0.0
        current = quote[0] if position.type == c.POSITION_TYPE_BUY else quote[1]
        spec = self.specs[position.symbol]
        amount = profit(
            spec, position.type, position.volume, position.price_open, current, account.currency, self.rates
        )
        return current, amount

    def legs(self, login: int) -> Legs:
        legs: Legs = {}
        for position in self.ledger.account_positions(login):
            legs.setdefault(position.symbol, []).append((position.type, position.volume, position.margin))
        return legs

    def margin_of(self, account: Account, legs: Legs) -> float:
        if account.hedging:
            return hedged_margin(legs, self.specs)
        return round(sum(m for side in legs.values() for _, _, m in side), 2)

    def figures(self, account: Account, legs: Legs | None = None) -> Figures:
        floating = 0.0
        for position in self.ledger.account_positions(account.login):
            floating += self.position_profit(position, account)[1] + position.swap
        floating = round(floating, 2)
        equity = round(account.balance + account.credit + floating, 2)
        margin = self.margin_of(account, self.legs(account.login) if legs is None else legs)
        return Figures(
            account.balance,
            account.credit,
            floating,
            equity,
            margin,
            round(equity - margin, 2),
            margin_level(equity, margin),
        )

    def account_row(self, account: Account) -> tuple[Any, ...]:
        """AccountInfo field values."""
        f = self.figures(account)
        return (
            account.login,
            account.trade_mode,
            account.leverage,
            account.limit_orders,
            c.ACCOUNT_STOPOUT_MODE_PERCENT,
            account.trade_allowed,
            True,  # trade_expert: algo trading allowed for the account
            account.margin_mode,
            2,  # currency_digits
            False,  # fifo_close
            f.balance,
            f.credit,
            f.profit,
            f.equity,
            f.margin,
            f.margin_free,
            f.margin_level,
            account.margin_so_call,
            account.margin_so_so,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            account.name,
            account.server,
            account.currency,
            account.company,
        )
