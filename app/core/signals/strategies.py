"""Strategies on the live bars: at most one signal per closed bar, computed with TA-Lib.

A strategy is anything with the :class:`Strategy` shape — ``kind``, ``defaults`` and
``on_bar(bars) -> "buy" | "sell" | None`` called once per closed bar with the closed bars so far
(oldest first, the newest last). The built-ins: ``sma_cross``, ``rsi_threshold`` and
``bollinger_breakout``. A user's own plugs in without forking, from either

* an entry point in the group ``mt5_console.strategies`` (``name = "package.module:Class"``), or
* a ``*.py`` file in ``[signals] strategy_dir`` defining classes with ``kind`` and ``on_bar``.

Each strategy instance (:class:`~app.models.signals.StrategyConfig`) runs on one symbol and
timeframe with its own parameters; its signals have source ``strategy:<id>`` and the uuid
``<id>-<bar open time>``, so a bar never gives two signals — not even across a restart.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import talib

from app.models import Bar

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "mt5_console.strategies"
FloatArray = npt.NDArray[np.float64]
Call = Literal["buy", "sell"] | None


@dataclass(frozen=True, slots=True)
class Bars:
    """The closed bars a strategy sees, oldest first, as arrays (TA-Lib's input)."""

    time: npt.NDArray[np.int64]
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray

    def __len__(self) -> int:
        return len(self.close)

    @classmethod
    def of(cls, bars: list[Bar]) -> Bars:
        return cls(
            np.array([b.time for b in bars], dtype=np.int64),
            np.array([b.open for b in bars], dtype=np.float64),
            np.array([b.high for b in bars], dtype=np.float64),
            np.array([b.low for b in bars], dtype=np.float64),
            np.array([b.close for b in bars], dtype=np.float64),
        )


@runtime_checkable
class Strategy(Protocol):
    """The plugin interface. ``defaults`` names every parameter (a configuration may set only these);
    the instance is made with the configured parameters: ``Class(**params)``."""

    kind: str
    defaults: Mapping[str, float]

    def on_bar(self, bars: Bars) -> Call: ...


def _crossed(a: FloatArray, b: FloatArray) -> Call:
    """Whether ``a`` crossed ``b`` on the last bar: up (buy), down (sell) or not. The gaps are rounded
    to 1e-10 first, so that two averages equal on the price grid are equal (a tie is not a cross, however
    the sums were rounded)."""
    if len(a) < 2 or not np.isfinite(a[-2:]).all() or not np.isfinite(b[-2:]).all():
        return None
    before, now = np.round(a[-2:] - b[-2:], 10)
    if before <= 0 < now:
        return "buy"
    if before >= 0 > now:
        return "sell"
    return None


class SmaCross:
    """Buy when the fast SMA crosses above the slow one; sell when it crosses below."""

    kind = "sma_cross"
    defaults: Mapping[str, float] = {"fast": 10, "slow": 30}

    def __init__(self, fast: float = 10, slow: float = 30) -> None:
        if not 2 <= fast < slow:
            raise ValueError("sma_cross: 2 <= fast < slow")
        self.fast, self.slow = int(fast), int(slow)

    def on_bar(self, bars: Bars) -> Call:
        if len(bars) < self.slow + 1:
            return None
        close = bars.close[-(self.slow + 1) :]
        return _crossed(talib.SMA(close, self.fast), talib.SMA(close, self.slow))


class RsiThreshold:
    """Buy when RSI rises back above ``lower`` (out of oversold); sell when it falls below ``upper``."""

    kind = "rsi_threshold"
    defaults: Mapping[str, float] = {"period": 14, "lower": 30, "upper": 70}

    def __init__(self, period: float = 14, lower: float = 30, upper: float = 70) -> None:
        if not (period >= 2 and 0 < lower < upper < 100):
            raise ValueError("rsi_threshold: period >= 2 and 0 < lower < upper < 100")
        self.period, self.lower, self.upper = int(period), lower, upper

    def on_bar(self, bars: Bars) -> Call:
        if len(bars) < self.period + 2:
            return None
        rsi = talib.RSI(bars.close[-(self.period * 10 + 2) :], self.period)
        if _crossed(rsi, np.full_like(rsi, self.lower)) == "buy":
            return "buy"
        if _crossed(rsi, np.full_like(rsi, self.upper)) == "sell":
            return "sell"
        return None


class BollingerBreakout:
    """Buy when a bar closes above the upper band (having closed inside it); sell below the lower."""

    kind = "bollinger_breakout"
    defaults: Mapping[str, float] = {"period": 20, "deviations": 2.0}

    def __init__(self, period: float = 20, deviations: float = 2.0) -> None:
        if not (period >= 2 and deviations > 0):
            raise ValueError("bollinger_breakout: period >= 2 and deviations > 0")
        self.period, self.deviations = int(period), float(deviations)

    def on_bar(self, bars: Bars) -> Call:
        if len(bars) < self.period + 1:
            return None
        close = bars.close[-(self.period + 1) :]
        upper, _, lower = talib.BBANDS(close, self.period, self.deviations, self.deviations)
        if _crossed(close, upper) == "buy":
            return "buy"
        if _crossed(close, lower) == "sell":
            return "sell"
        return None


BUILT_IN: dict[str, type[Any]] = {cls.kind: cls for cls in (SmaCross, RsiThreshold, BollingerBreakout)}


def _is_strategy_class(obj: Any) -> bool:
    return (
        inspect.isclass(obj)
        and isinstance(getattr(obj, "kind", None), str)
        and callable(getattr(obj, "on_bar", None))
    )


def discover(folder: Path | None = None) -> dict[str, type[Any]]:
    """The built-ins, the entry points' and the folder's strategy classes by kind (a plugin that fails
    to load is logged and left out; it never takes the others down)."""
    kinds = dict(BUILT_IN)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = point.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the app
            log.error("strategy plugin %s could not be loaded: %s", point.value, exc)
            continue
        if _is_strategy_class(loaded):
            kinds.setdefault(loaded.kind, loaded)
    if folder is not None and folder.is_dir():
        for path in sorted(folder.glob("*.py")):
            try:
                spec = importlib.util.spec_from_file_location(f"mt5c_strategy_{path.stem}", path)
                if spec is None or spec.loader is None:
                    continue
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
            except Exception as exc:  # noqa: BLE001 - a broken file must not stop the app
                log.error("strategy file %s could not be loaded: %s", path, exc)
                continue
            for obj in vars(module).values():
                if _is_strategy_class(obj) and obj.__module__ == module.__name__:
                    kinds.setdefault(obj.kind, obj)
    return kinds


def make(kind_class: type[Any], params: Mapping[str, float]) -> Strategy:
    """An instance with ``params`` over its defaults; unknown parameters are refused by name."""
    defaults = dict(getattr(kind_class, "defaults", {}))
    unknown = set(params) - set(defaults)
    if unknown:
        raise ValueError(f"{kind_class.kind}: unknown parameter(s) {', '.join(sorted(unknown))}")
    instance: Strategy = kind_class(**{**defaults, **params})
    return instance


HISTORY_BARS = 500  # closed bars kept per strategy (enough for any period a form allows, and bounded)
