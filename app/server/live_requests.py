"""Seed 002's request payloads, taken strictly: ``{symbol, timeframe?, indicators?}`` or a list of them,
``{symbol}`` for the order book, ``[{name, params}]`` for indicators.

Everything is checked before anything is subscribed, so a request with one bad item changes nothing;
each problem is an :class:`~app.server.errors.ApiError` whose code and details name it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.indicators import IndicatorKind, IndicatorSpec
from app.models import Timeframe
from app.server.errors import ApiError
from app.server.schemas import MAX_SYMBOL_LENGTH

MAX_ITEMS = 500  # items in one subscribe request (the per-client limit applies on top)
MAX_INDICATORS = 16  # indicators per symbol and timeframe


def bad(message: str, code: str = "bad_request", **details: Any) -> ApiError:
    return ApiError(400, message, code, details or None)


@dataclass(frozen=True, slots=True)
class Wanted:
    """One item of a seed 002 subscription: ticks for ``symbol``, and its candles when ``timeframe``."""

    symbol: str
    timeframe: Timeframe | None
    indicators: tuple[IndicatorSpec, ...] | None = None  # None: leave as they are


def is_seed002(data: Any) -> bool:
    """Whether a ``subscribe``/``unsubscribe`` payload is seed 002's form (seed 001's has ``channels``)."""
    if isinstance(data, list):
        return True
    return isinstance(data, dict) and "channels" not in data and "symbol" in data


def symbol_of(value: Any, field: str = "symbol") -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_SYMBOL_LENGTH:
        raise bad(f"{field} must be a symbol name (1 to {MAX_SYMBOL_LENGTH} characters)", field=field)
    return value


def timeframe_of(value: Any, field: str = "timeframe") -> Timeframe:
    if not isinstance(value, str) or not 0 < len(value) <= 8:
        raise bad("timeframe must be like M1, H1, D1 (or 1m, 1h, 1d)", "invalid_timeframe", field=field)
    try:
        return Timeframe.parse(value)
    except ValueError:
        raise bad(
            f"unknown timeframe {value!r} (M1 … MN1, or 1m, 1h, 1d, ...)",
            "invalid_timeframe",
            field=field,
            timeframe=value,
        ) from None


def indicators_of(value: Any) -> tuple[IndicatorSpec, ...]:
    """``[{name, params?}]`` (``name``: sma, ema, bbands, rsi, macd; missing params take defaults)."""
    if not isinstance(value, list) or len(value) > MAX_INDICATORS:
        raise bad(
            f"indicators must be a list of at most {MAX_INDICATORS} {{name, params}}", field="indicators"
        )
    specs: list[IndicatorSpec] = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise bad("each indicator is {name, params?}", field="indicators")
        name, params = item["name"].lower(), item.get("params", {})
        if name not in IndicatorKind.__members__.values():
            known = ", ".join(k.value for k in IndicatorKind)
            raise bad(
                f"unknown indicator {name[:16]!r} (known: {known})", "invalid_indicator", name=name[:16]
            )
        if not isinstance(params, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in params.values()
        ):
            raise bad("indicator params must be {name: number}", "invalid_indicator", name=name)
        try:
            specs.append(IndicatorSpec(IndicatorKind(name), dict(params)))
        except ValueError as exc:
            raise bad(str(exc), "invalid_indicator", name=name) from None
    return tuple(specs)


def wanted_of(data: Any, *, timeframe_required: bool = False) -> list[Wanted]:
    """The items of a seed 002 ``subscribe``/``unsubscribe`` (one dict or a list of them)."""
    items = data if isinstance(data, list) else [data]
    if not items or len(items) > MAX_ITEMS:
        raise bad(f"expected {{symbol, timeframe}} or a list of 1 to {MAX_ITEMS} of them")
    out: list[Wanted] = []
    for item in items:
        if not isinstance(item, dict):
            raise bad("expected {symbol, timeframe} (or a list of them)")
        symbol = symbol_of(item.get("symbol"))
        raw = item.get("timeframe")
        if raw is None and timeframe_required:
            raise bad("timeframe is required", "invalid_timeframe", field="timeframe")
        timeframe = None if raw is None else timeframe_of(raw)
        indicators = None
        if item.get("indicators") is not None:
            if timeframe is None:
                raise bad("indicators need a timeframe", field="indicators")
            indicators = indicators_of(item["indicators"])
        out.append(Wanted(symbol, timeframe, indicators))
    return list({(w.symbol, w.timeframe): w for w in out}.values())  # the same item twice: the last


def channel_timeframes(data: dict[str, Any]) -> list[Timeframe]:
    """Seed 001's ``timeframes`` (for the ``candles`` channel): a name or a list of names."""
    raw = data.get("timeframes", data.get("timeframe"))
    if raw is None:
        raise bad("the candles channel needs timeframes: [...]", "invalid_timeframe", field="timeframes")
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names or len(names) > len(Timeframe):
        raise bad("timeframes must be a list of names like M1, H1", "invalid_timeframe", field="timeframes")
    return list(dict.fromkeys(timeframe_of(n, "timeframes") for n in names))
