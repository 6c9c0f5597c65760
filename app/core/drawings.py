"""A chart's drawings (horizontal, vertical and trend lines) and its chart type, as data (Qt-free).

Drawings are anchored to a time (UTC seconds) and a price, never to a bar index: bar indices move
when older history is prepended and mean another moment in another timeframe, a time does not. They
are what a chart's layout keeps (``to_json``/``from_json``); the chart draws them in any timeframe.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class ChartType(StrEnum):
    """How the bars are drawn (MT5's Bar Chart, Candlesticks, Line Chart)."""

    BARS = "bars"
    CANDLES = "candles"
    LINE = "line"

    @property
    def label(self) -> str:
        return {"bars": "Bar Chart", "candles": "Candlesticks", "line": "Line Chart"}[self.value]


class DrawingKind(StrEnum):
    HORIZONTAL = "horizontal"  # a price, across every time
    VERTICAL = "vertical"  # a time, across every price
    TREND = "trend"  # a segment between two (time, price) anchors

    @property
    def label(self) -> str:
        return {"horizontal": "Horizontal Line", "vertical": "Vertical Line", "trend": "Trend Line"}[
            self.value
        ]


@dataclass(frozen=True, slots=True)
class Anchor:
    time: int  # UTC seconds
    price: float


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True, slots=True)
class Drawing:
    """One line on a chart. A horizontal line uses ``a.price`` (its time is where it was made), a
    vertical one ``a.time``; a trend line runs from ``a`` to ``b``."""

    kind: DrawingKind
    a: Anchor
    b: Anchor | None = None
    id: str = field(default_factory=_new_id)

    def __post_init__(self) -> None:
        if (self.kind is DrawingKind.TREND) != (self.b is not None):
            raise ValueError(f"a {self.kind.value} line takes {'two' if self.b is None else 'one'} points")

    @property
    def anchors(self) -> tuple[Anchor, ...]:
        return (self.a,) if self.b is None else (self.a, self.b)

    def with_anchors(self, *anchors: Anchor) -> Drawing:
        """The same drawing (same id) moved to ``anchors``."""
        return replace(self, a=anchors[0], b=anchors[1] if self.b is not None else None)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "points": [[p.time, p.price] for p in self.anchors]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Drawing:
        """A saved drawing; ValueError/KeyError/TypeError says what is wrong with one that is not."""
        kind = DrawingKind(str(data["kind"]))
        points = data["points"]
        if not isinstance(points, list) or not 1 <= len(points) <= 2:
            raise ValueError(f"points must be a list of one or two [time, price]: {points!r}")
        anchors = []
        for point in points:
            time, price = point
            if isinstance(time, bool) or not isinstance(time, int) or not isinstance(price, int | float):
                raise TypeError(f"a point is [time seconds, price]: {point!r}")
            anchors.append(Anchor(time, float(price)))
        return cls(kind, anchors[0], anchors[1] if len(anchors) == 2 else None)


def horizontal(time: int, price: float) -> Drawing:
    return Drawing(DrawingKind.HORIZONTAL, Anchor(time, price))


def vertical(time: int, price: float = 0.0) -> Drawing:
    return Drawing(DrawingKind.VERTICAL, Anchor(time, price))


def trend(a: Anchor, b: Anchor) -> Drawing:
    return Drawing(DrawingKind.TREND, a, b)
