"""Margin and profit maths, with conversion into the account currency, as MT5 computes them.

Margin by calculation mode (Forex: lots x contract / leverage, in the base currency; CFD-leverage:
lots x contract x price / leverage; CFD: lots x contract x price), profit = price difference x lots
x contract in the profit currency; both converted to the deposit currency at current quotes (the
symbol's own price where the symbol itself is the conversion pair). order_calc_margin,
order_calc_profit, order_check and order_send all use these functions, so they always agree.
"""

from __future__ import annotations

from collections.abc import Callable

from app.mt5.sim import constants as c
from app.mt5.sim.symbols import SymbolSpec

Quote = Callable[[str], tuple[float, float] | None]  # symbol -> (bid, ask) now, or None
PIVOT = "USD"

BUY_TYPES = frozenset(
    {c.ORDER_TYPE_BUY, c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_BUY_STOP_LIMIT}
)


def is_buy(order_type: int) -> bool:
    return order_type in BUY_TYPES


class Converter:
    """Currency conversion at current quotes, through USD when no direct pair exists."""

    def __init__(self, quote: Quote, symbols: dict[str, SymbolSpec]) -> None:
        self.quote = quote
        self.symbols = symbols

    def _direct(self, source: str, target: str, own: tuple[str, float] | None) -> float | None:
        for name, invert in ((source + target, False), (target + source, True)):
            if name not in self.symbols:
                continue
            if own is not None and own[0] == name:
                price = own[1]
                return 1 / price if invert else price
            quote = self.quote(name)
            if quote is None:
                return None
            bid, ask = quote
            return 1 / ask if invert else bid
        return None

    def rate(self, source: str, target: str, own: tuple[str, float] | None = None) -> float:
        """Units of ``target`` per unit of ``source``; ``own`` = (symbol, price) to use for that pair."""
        if source == target:
            return 1.0
        direct = self._direct(source, target, own)
        if direct is not None:
            return direct
        to_pivot = self._direct(source, PIVOT, own) if source != PIVOT else 1.0
        from_pivot = self._direct(PIVOT, target, own) if target != PIVOT else 1.0
        if to_pivot is None or from_pivot is None:
            raise LookupError(f"no conversion from {source} to {target}")
        return to_pivot * from_pivot


def margin(
    spec: SymbolSpec,
    order_type: int,
    volume: float,
    price: float,
    leverage: int,
    currency: str,
    rates: Converter,
) -> float:
    """Margin in the account currency for ``volume`` lots of ``spec`` at ``price``."""
    lots = volume * spec.contract_size * spec.margin_rate
    if spec.calc_mode == c.SYMBOL_CALC_MODE_FOREX:
        amount = lots / leverage
    elif spec.calc_mode == c.SYMBOL_CALC_MODE_CFDLEVERAGE:
        amount = lots * price / leverage
    elif spec.calc_mode == c.SYMBOL_CALC_MODE_FOREX_NO_LEVERAGE:
        amount = lots
    else:  # CFD and the rest: no leverage
        amount = lots * price
    return round(amount * rates.rate(spec.margin_currency, currency, own=(spec.name, price)), 2)


def profit(
    spec: SymbolSpec,
    order_type: int,
    volume: float,
    price_open: float,
    price_close: float,
    currency: str,
    rates: Converter,
) -> float:
    """Profit in the account currency of ``volume`` lots opened at ``price_open``, closed at
    ``price_close``."""
    difference = price_close - price_open if is_buy(order_type) else price_open - price_close
    amount = difference * volume * spec.contract_size
    return round(amount * rates.rate(spec.profit, currency, own=(spec.name, price_close)), 2)


def hedged_margin(sides: dict[str, list[tuple[int, float, float]]], specs: dict[str, SymbolSpec]) -> float:
    """Account margin of a hedging account: per symbol, a covered (hedged) volume costs the average of
    its two legs scaled by margin_hedged/contract (half each by default), the uncovered rest in full.

    ``sides`` maps symbol -> [(type, volume, margin)] of its open positions.
    """
    total = 0.0
    for symbol, legs in sides.items():
        buy_volume = sum(v for t, v, _ in legs if t == c.POSITION_TYPE_BUY)
        sell_volume = sum(v for t, v, _ in legs if t == c.POSITION_TYPE_SELL)
        buy_margin = sum(m for t, _, m in legs if t == c.POSITION_TYPE_BUY)
        sell_margin = sum(m for t, _, m in legs if t == c.POSITION_TYPE_SELL)
        covered = min(buy_volume, sell_volume)
        if covered <= 0:
            total += buy_margin + sell_margin
            continue
        per_buy, per_sell = buy_margin / buy_volume, sell_margin / sell_volume
        factor = 2 * specs[symbol].margin_hedged / specs[symbol].contract_size
        total += (buy_volume - covered) * per_buy + (sell_volume - covered) * per_sell
        total += covered * (per_buy + per_sell) / 2 * factor
    return round(total, 2)
