"""Technical indicators over bar arrays, computed by TA-Lib: Qt-free, shared by charts and the server.

An indicator is described by an :class:`IndicatorSpec` (kind + parameters), which is what a chart
saves in its layout and what ``/api/indicators`` will take. :func:`compute` returns named output
series the same length as the input (TA-Lib pads the warm-up with NaN), so a chart can plot them
against the same bar index as its candles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class IndicatorKind(StrEnum):
    SMA = "sma"
    EMA = "ema"
    BBANDS = "bbands"
    RSI = "rsi"
    MACD = "macd"


class Placement(StrEnum):
    OVERLAY = "overlay"  # drawn over the candles, in price units
    PANE = "pane"  # its own sub-pane under the candles


@dataclass(frozen=True, slots=True)
class ParamInfo:
    """One parameter an indicator takes: its default and the range a form should allow."""

    name: str
    default: float
    minimum: float
    maximum: float
    integer: bool = True


@dataclass(frozen=True, slots=True)
class KindInfo:
    title: str
    placement: Placement
    params: tuple[ParamInfo, ...]
    outputs: tuple[str, ...]


def _period(default: int) -> ParamInfo:
    return ParamInfo("period", default, 2, 1000)


KINDS: Mapping[IndicatorKind, KindInfo] = {
    IndicatorKind.SMA: KindInfo("Moving Average (simple)", Placement.OVERLAY, (_period(20),), ("sma",)),
    IndicatorKind.EMA: KindInfo("Moving Average (exponential)", Placement.OVERLAY, (_period(50),), ("ema",)),
    IndicatorKind.BBANDS: KindInfo(
        "Bollinger Bands",
        Placement.OVERLAY,
        (_period(20), ParamInfo("deviation", 2.0, 0.1, 10.0, integer=False)),
        ("upper", "middle", "lower"),
    ),
    IndicatorKind.RSI: KindInfo("Relative Strength Index", Placement.PANE, (_period(14),), ("rsi",)),
    IndicatorKind.MACD: KindInfo(
        "MACD",
        Placement.PANE,
        (
            ParamInfo("fast", 12, 2, 500),
            ParamInfo("slow", 26, 2, 500),
            ParamInfo("signal", 9, 2, 500),
        ),
        ("macd", "signal", "histogram"),
    ),
}


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """An indicator with its parameters (missing parameters take their defaults)."""

    kind: IndicatorKind
    params: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", IndicatorKind(self.kind))  # a plain "sma" (a form, JSON) too
        info = KINDS[self.kind]
        known = {p.name for p in info.params}
        unknown = set(self.params) - known
        if unknown:
            raise ValueError(f"{self.kind.value}: unknown parameter(s) {sorted(unknown)}")
        merged: dict[str, float] = {}
        for param in info.params:
            value = float(self.params.get(param.name, param.default))
            if not param.minimum <= value <= param.maximum:
                raise ValueError(
                    f"{self.kind.value}: {param.name} must be within {param.minimum:g}..{param.maximum:g}"
                )
            merged[param.name] = float(int(value)) if param.integer else value
        object.__setattr__(self, "params", merged)

    @property
    def info(self) -> KindInfo:
        return KINDS[self.kind]

    @property
    def placement(self) -> Placement:
        return self.info.placement

    @property
    def label(self) -> str:
        """Short label for a legend, e.g. ``SMA(20)`` or ``BB(20, 2)``."""
        names = {IndicatorKind.BBANDS: "BB"}
        values = ", ".join(f"{v:g}" for v in self.params.values())
        return f"{names.get(self.kind, self.kind.value.upper())}({values})"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "params": dict(self.params)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IndicatorSpec:
        return cls(IndicatorKind(str(data["kind"])), dict(data.get("params", {})))

    def lookback(self) -> int:
        """Bars needed before the first valid value (how far back a recompute must reach)."""
        p = self.params
        if self.kind is IndicatorKind.MACD:
            return int(max(p["fast"], p["slow"]) + p["signal"])
        return int(p["period"])


def compute(spec: IndicatorSpec, close: FloatArray) -> dict[str, FloatArray]:
    """The indicator's output series over ``close`` (same length; NaN where not yet defined)."""
    import talib  # here, not at the top: TA-Lib takes a while to load, and ``--serve`` starts without it

    close = np.ascontiguousarray(close, dtype=np.float64)
    p = spec.params
    if spec.kind is IndicatorKind.SMA:
        return {"sma": talib.SMA(close, timeperiod=int(p["period"]))}
    if spec.kind is IndicatorKind.EMA:
        return {"ema": talib.EMA(close, timeperiod=int(p["period"]))}
    if spec.kind is IndicatorKind.BBANDS:
        upper, middle, lower = talib.BBANDS(
            close,
            timeperiod=int(p["period"]),
            nbdevup=p["deviation"],
            nbdevdn=p["deviation"],
            matype=talib.MA_Type.SMA,
        )
        return {"upper": upper, "middle": middle, "lower": lower}
    if spec.kind is IndicatorKind.RSI:
        return {"rsi": talib.RSI(close, timeperiod=int(p["period"]))}
    macd, signal, hist = talib.MACD(
        close, fastperiod=int(p["fast"]), slowperiod=int(p["slow"]), signalperiod=int(p["signal"])
    )
    return {"macd": macd, "signal": signal, "histogram": hist}
