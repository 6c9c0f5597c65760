"""Rows for symbol_info, symbol_info_tick and market_book_get, from the feed and the specification."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.mt5.sim import constants as c
from app.mt5.sim.feed import LastTick
from app.mt5.sim.money import Converter
from app.mt5.sim.rates import Rates
from app.mt5.sim.sessions import MS_PER_DAY
from app.mt5.sim.symbols import EXPIRATION_ALL, ORDER_MODE_ALL, SymbolSpec
from app.mt5.sim.walk import _rng

BOOK_DEPTH = 5


def tick_row(tick: LastTick) -> tuple[Any, ...]:
    """Tick field values (bid/ask ticks: last and volumes 0)."""
    return (tick.time_msc // 1000, tick.bid, tick.ask, 0.0, 0, tick.time_msc, tick.flags, 0.0)


def _day_stats(rates: Rates, spec: SymbolSpec, now_ms: int) -> tuple[float, float, float, float]:
    """(day high, day low, day open, previous day's close) of the bid, for Market Watch columns."""
    day = now_ms // MS_PER_DAY
    today = rates.m1_day(spec.name, day, now_ms)
    previous_close = 0.0
    for back in range(1, 8):
        earlier = rates.day_bars(spec.name, c.TIMEFRAME_D1, day - back, now_ms)
        if len(earlier):
            previous_close = float(earlier["close"][-1])
            break
    if len(today) == 0:
        return 0.0, 0.0, 0.0, previous_close
    return float(today["high"].max()), float(today["low"].min()), float(today["open"][0]), previous_close


def symbol_row(
    spec: SymbolSpec,
    tick: LastTick | None,
    rates: Rates,
    converter: Converter,
    currency: str,
    now_ms: int,
    selected: bool = True,
) -> tuple[Any, ...]:
    """SymbolInfo field values (96) for an account whose deposit currency is ``currency``."""
    point = spec.point
    bid, ask = (tick.bid, tick.ask) if tick and selected else (0.0, 0.0)
    high, low, day_open, previous_close = (
        _day_stats(rates, spec, now_ms) if selected else (0.0, 0.0, 0.0, 0.0)
    )
    spread = round((ask - bid) / point) if tick and selected else 0
    try:
        tick_value = point * spec.contract_size * converter.rate(spec.profit, currency)
    except LookupError:
        tick_value = 0.0
    change = round((bid - previous_close) / previous_close * 100, 2) if previous_close and bid else 0.0
    return (
        False,  # custom
        c.SYMBOL_CHART_MODE_BID,
        selected,  # select
        selected,  # visible
        0,
        0,
        0,  # session deals, buy orders, sell orders
        0,
        0,
        0,  # volume, volumehigh, volumelow
        tick.time_msc // 1000 if tick and selected else 0,
        spec.digits,
        spread,
        True,  # spread_float
        10,  # ticks_bookdepth
        spec.calc_mode,
        spec.trade_mode,
        0,
        0,  # start_time, expiration_time
        spec.stops_level,
        spec.freeze_level,
        spec.exemode,
        c.SYMBOL_SWAP_MODE_POINTS,
        c.DAY_OF_WEEK_WEDNESDAY,
        False,  # margin_hedged_use_leg
        EXPIRATION_ALL,
        spec.filling_mode,
        ORDER_MODE_ALL,
        c.SYMBOL_ORDERS_GTC,
        0,
        0,  # option mode, right
        bid,
        high,
        low,
        ask,
        round(high + spread * point, spec.digits) if high else 0.0,
        round(low + spread * point, spec.digits) if low else 0.0,
        0.0,
        0.0,
        0.0,  # last, lasthigh, lastlow
        0.0,
        0.0,
        0.0,  # volume_real, high, low
        0.0,  # option_strike
        point,
        tick_value,
        tick_value,
        tick_value,
        point,  # trade_tick_size
        spec.contract_size,
        0.0,
        0.0,
        0.0,  # accrued interest, face value, liquidity rate
        spec.volume_min,
        spec.volume_max,
        spec.volume_step,
        0.0,  # volume_limit
        spec.swap_long,
        spec.swap_short,
        0.0,
        0.0,  # margin_initial, margin_maintenance
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,  # session volume, turnover, interest, buy/sell orders volume
        day_open,
        previous_close,
        0.0,
        0.0,
        0.0,
        0.0,  # session aw, settlement, limit min/max
        spec.margin_hedged,
        change,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,  # volatility, theoretical, greeks, sensitivity
        "",  # basis
        spec.category,
        spec.base,
        spec.profit,
        spec.margin_currency,
        "",  # bank
        spec.description,
        "",  # exchange
        "",  # formula
        "",  # isin
        spec.name,
        "",  # page
        spec.path,
    )


def book_rows(spec: SymbolSpec, tick: LastTick, seed: int) -> list[tuple[Any, ...]]:
    """BookInfo values: sells from the highest price down, then buys from the highest down."""
    rng = _rng(seed, 7, tick.time_msc & 0x7FFFFFFF)
    step = max(1, spec.spread // 2) * spec.point
    volumes = np.round(rng.lognormal(1.5, 0.8, 2 * BOOK_DEPTH) * (10 if spec.contract_size > 1000 else 1), 2)
    rows: list[tuple[Any, ...]] = []
    for level in range(BOOK_DEPTH - 1, -1, -1):
        volume = float(volumes[level])
        rows.append((c.BOOK_TYPE_SELL, round(tick.ask + level * step, spec.digits), int(volume), volume))
    for level in range(BOOK_DEPTH):
        volume = float(volumes[BOOK_DEPTH + level])
        rows.append((c.BOOK_TYPE_BUY, round(tick.bid - level * step, spec.digits), int(volume), volume))
    return rows
