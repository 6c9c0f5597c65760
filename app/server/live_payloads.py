"""The live feed's payloads, as seed 002's clients read them: built here from the app's types, rounded to
the symbol's digits (``p``), times ISO 8601 UTC. Pure functions: the feed encodes each once."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from app.core import indicators as maths
from app.models import Bar, Book, Quote
from app.models.market import msc_to_datetime
from app.server.live_state import CandleKey, SubKey
from app.server.schemas import BookOut, iso

Round = Callable[[float], float]


def sub_json(key: SubKey) -> dict[str, Any]:
    return {"symbol": key[0], "timeframe": key[1].name if key[1] is not None else None}


def sub_order(key: SubKey) -> tuple[str, int]:
    return key[0], int(key[1]) if key[1] is not None else 0


def candle_json(key: CandleKey, bar: Bar, closed: bool, p: Round) -> dict[str, Any]:
    """``candles {symbol, timeframe, bar: {time, open, high, low, close, tick_volume}, closed}``."""
    return {
        "symbol": key[0],
        "timeframe": key[1].name,
        "bar": {
            "time": iso(msc_to_datetime(bar.time * 1000)),
            "open": p(bar.open),
            "high": p(bar.high),
            "low": p(bar.low),
            "close": p(bar.close),
            "tick_volume": bar.tick_volume,
        },
        "closed": closed,
    }


def tick_json(symbol: str, tick: Any, point: float, p: Round) -> dict[str, Any]:
    """``tick {symbol, bid, ask, last, volume, time, spread}`` (spread in points) from a Tick or a Quote."""
    return {
        "symbol": symbol,
        "bid": p(tick.bid),
        "ask": p(tick.ask),
        "last": p(tick.last),
        "volume": float(getattr(tick, "volume", 0.0)),
        "time": iso(msc_to_datetime(tick.time_msc)),
        "spread": round((tick.ask - tick.bid) / point) if point else 0,
    }


def book_json(book: Book, p: Round) -> dict[str, Any]:
    """``order_book {symbol, timestamp, bids, asks}``: best first on each side, as ``/api/book``."""
    data = BookOut.of(book).model_dump(mode="json")
    for side in ("bids", "asks"):
        data[side] = [{"price": p(lv["price"]), "volume": lv["volume"]} for lv in data[side]]
    return data


def summary_row(symbol: str, quote: Quote, day: Bar | None, p: Round) -> dict[str, Any]:
    """One symbol of ``market_summary``: the day so far (the daily bar from the bid) and the quote."""
    day_open = day.open if day is not None else quote.day_open
    return {
        "symbol": symbol,
        "bid": p(quote.bid),
        "ask": p(quote.ask),
        "spread": quote.spread_points,
        "open": p(day_open) if day_open else None,
        "high": p(max(day.high, quote.bid)) if day is not None else None,
        "low": p(min(day.low, quote.bid)) if day is not None else None,
        "change": p(quote.bid - day_open) if day_open else None,
        "change_pct": round((quote.bid - day_open) / day_open * 100.0, 4) if day_open else None,
        "time": iso(msc_to_datetime(quote.time_msc)),
    }


def indicator_json(
    key: CandleKey, times: Sequence[int], closes: Sequence[float], specs: Sequence[maths.IndicatorSpec]
) -> dict[str, Any]:
    """``indicators {symbol, timeframe, indicators: [{name, params, closed, live}]}``: TA-Lib's values
    at the last closed bar and at the live one (each ``{time, values}``, None before the warm-up)."""
    close = np.fromiter(closes, dtype=np.float64, count=len(closes))
    out = []
    for spec in specs:
        values = maths.compute(spec, close) if len(close) else {}

        def at(i: int, values: dict[str, Any] = values) -> dict[str, Any] | None:
            if len(times) < -i:
                return None
            return {
                "time": iso(msc_to_datetime(times[i] * 1000)),
                "values": {name: _finite(column[i]) for name, column in values.items()},
            }

        out.append({"name": spec.kind.value, "params": dict(spec.params), "closed": at(-2), "live": at(-1)})
    return {"symbol": key[0], "timeframe": key[1].name, "indicators": out}


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None
