"""Market data: symbols, the latest quotes (from the hub: no terminal call), candles, depth, indicators."""

from __future__ import annotations

import importlib
import math
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.core.hub import Topic
from app.models import Timeframe
from app.server.deps import Ctx
from app.server.errors import ApiError
from app.server.params import QueryFloat, QueryInt
from app.server.schemas import (
    MAX_SYMBOL_LENGTH,
    BookOut,
    Candles,
    IndicatorOut,
    QuoteOut,
    SymbolOut,
    quote_json,
)

router = APIRouter(prefix="/api", tags=["market"])

MAX_BARS = 5000
Symbol = Annotated[str, Query(min_length=1, max_length=MAX_SYMBOL_LENGTH, pattern=r"^[A-Za-z0-9._#&+-]+$")]
Count = Annotated[QueryInt, Query(ge=1, le=MAX_BARS)]


def parse_timeframe(text: str) -> Timeframe:
    try:
        return Timeframe.parse(text)
    except ValueError:
        raise ApiError(
            422,
            f"unknown timeframe {text[:20]!r} (M1 … MN1, or 1m, 1h, 1d, ...)",
            "invalid_timeframe",
            {"field": "timeframe"},
        ) from None


TimeframeQuery = Annotated[
    str, Query(min_length=1, max_length=8, description="M1 … MN1, or 1m/5m/1h/4h/1d/1w/1M")
]


@router.get("/symbols", response_model=list[SymbolOut])
async def symbols(ctx: Ctx) -> list[SymbolOut]:
    market = ctx.services.market_data
    subscribed = set(market.subscribed)
    return [SymbolOut.of(spec, spec.name in subscribed) for spec in await market.all_symbols()]


@router.get("/quotes", response_model=list[QuoteOut])
async def quotes(
    ctx: Ctx,
    symbols: Annotated[
        str | None, Query(max_length=2000, description="comma-separated; default: all")
    ] = None,
) -> list[dict[str, Any]]:
    latest = ctx.services.hub.latest_all(Topic.QUOTES)
    wanted = {s.strip() for s in symbols.split(",")} if symbols else None
    return [quote_json(q) for key, q in latest.items() if wanted is None or key in wanted]


@router.get("/candles", response_model=Candles)
async def candles(ctx: Ctx, symbol: Symbol, timeframe: TimeframeQuery = "H1", count: Count = 100) -> Candles:
    series = await ctx.services.market_data.bars(symbol, parse_timeframe(timeframe), count)
    return Candles.of(series)


@router.get("/book", response_model=BookOut)
async def book(ctx: Ctx, symbol: Symbol) -> BookOut:
    return BookOut.of(await ctx.services.market_data.book(symbol))


@router.get("/indicators", response_model=IndicatorOut)
async def indicators(
    ctx: Ctx,
    symbol: Symbol,
    indicator: Annotated[str, Query(description="sma, ema, bbands, rsi or macd", max_length=16)] = "sma",
    timeframe: TimeframeQuery = "H1",
    count: Count = 200,
    period: Annotated[QueryFloat | None, Query(ge=2, le=1000)] = None,
    deviation: Annotated[QueryFloat | None, Query(ge=0.1, le=10)] = None,
    fast: Annotated[QueryFloat | None, Query(ge=2, le=500)] = None,
    slow: Annotated[QueryFloat | None, Query(ge=2, le=500)] = None,
    signal: Annotated[QueryFloat | None, Query(ge=2, le=500)] = None,
) -> IndicatorOut:
    """An indicator over the symbol's last ``count`` bars (the same maths as the charts)."""
    try:
        maths: Any = importlib.import_module("app.core.indicators")
    except ImportError:  # the charts' indicator module is not in this build
        raise ApiError(404, "indicators are not available in this build", "not_available") from None
    given = {"period": period, "deviation": deviation, "fast": fast, "slow": slow, "signal": signal}
    try:
        spec = maths.IndicatorSpec(
            maths.IndicatorKind(indicator.lower()), {k: v for k, v in given.items() if v is not None}
        )
    except ValueError as exc:
        raise ApiError(422, str(exc), "invalid_indicator", {"field": "indicator"}) from None
    tf = parse_timeframe(timeframe)
    series = await ctx.services.market_data.bars(symbol, tf, count)
    values = maths.compute(spec, series.close)
    return IndicatorOut(
        symbol=series.symbol,
        timeframe=tf.name,
        indicator=spec.kind.value,
        params=dict(spec.params),
        times=[datetime.fromtimestamp(int(t), UTC) for t in series.time],
        values={
            name: [float(v) if math.isfinite(v) else None for v in column] for name, column in values.items()
        },
    )
