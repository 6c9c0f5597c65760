"""Horizontal price lines on a chart: bid and ask, open positions with their SL/TP, pending orders.

Lines are kept by key and moved or relabelled in place when the account refreshes, so a refresh
twice a second costs no item churn. Labels carry the ticket so a line can be matched to the Trade tab.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import Qt

from app.models import Order, Position, Side
from app.ui import formatting
from app.ui.theme import ACCENT_COLOUR, DOWN_COLOUR, UP_COLOUR

BID_COLOUR = "#8b96a5"
ASK_COLOUR = "#d4625f"
ORDER_COLOUR = "#f0a04b"


@dataclass(frozen=True, slots=True)
class LineSpec:
    price: float
    text: str
    colour: str
    dashed: bool = False
    position: float = 0.06  # along the line, 0 = left edge of the view
    anchor: tuple[float, float] = (0.0, 1.0)  # which corner of the label sits on the line


def trade_lines(
    positions: tuple[Position, ...], orders: tuple[Order, ...], digits: int
) -> dict[Hashable, LineSpec]:
    """The lines the account's trades on one symbol call for (Qt-free: tested on its own)."""
    lines: dict[Hashable, LineSpec] = {}
    for p in positions:
        colour = UP_COLOUR if p.side is Side.BUY else DOWN_COLOUR
        lines[("pos", p.ticket)] = LineSpec(
            p.price_open, f"#{p.ticket} {p.side.value} {formatting.volume(p.volume)}", colour
        )
        if p.sl:
            lines[("sl", p.ticket)] = LineSpec(
                p.sl, f"SL #{p.ticket}", DOWN_COLOUR, dashed=True, position=0.2
            )
        if p.tp:
            lines[("tp", p.ticket)] = LineSpec(p.tp, f"TP #{p.ticket}", UP_COLOUR, dashed=True, position=0.2)
    for o in orders:
        kind = o.type.value.replace("_", " ")
        lines[("order", o.ticket)] = LineSpec(
            o.price_open,
            f"#{o.ticket} {kind} {formatting.volume(o.volume_current)}"
            f" at {formatting.price(o.price_open, digits)}",
            ORDER_COLOUR,
            dashed=True,
        )
        if o.sl:
            lines[("osl", o.ticket)] = LineSpec(
                o.sl, f"SL #{o.ticket}", DOWN_COLOUR, dashed=True, position=0.2
            )
        if o.tp:
            lines[("otp", o.ticket)] = LineSpec(o.tp, f"TP #{o.ticket}", UP_COLOUR, dashed=True, position=0.2)
    return lines


class PriceLines:
    """Keeps the plot's horizontal lines equal to a set of :class:`LineSpec` by key."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self._plot = plot
        self._lines: dict[Hashable, tuple[pg.InfiniteLine, LineSpec]] = {}

    def keys(self) -> list[Hashable]:
        return list(self._lines)

    def text(self, key: Hashable) -> str:
        return self._lines[key][1].text

    def set(self, wanted: dict[Hashable, LineSpec]) -> None:
        for key in [k for k in self._lines if k not in wanted]:
            line, _ = self._lines.pop(key)
            self._plot.removeItem(line)
        for key, spec in wanted.items():
            current = self._lines.get(key)
            if current is None:
                line = self._make(spec)
                self._plot.addItem(line, ignoreBounds=True)
                self._lines[key] = (line, spec)
            elif current[1] != spec:
                line = current[0]
                if current[1].text != spec.text:
                    line.label.setFormat(spec.text)
                line.setPos(spec.price)
                self._lines[key] = (line, spec)

    @staticmethod
    def _make(spec: LineSpec) -> pg.InfiniteLine:
        style = Qt.PenStyle.DashLine if spec.dashed else Qt.PenStyle.SolidLine
        pen = pg.mkPen(spec.colour, width=1, style=style)
        line = pg.InfiniteLine(
            pos=spec.price,
            angle=0,
            pen=pen,
            movable=False,
            label=spec.text,
            labelOpts={
                "position": spec.position,
                "color": "#e6edf3",
                "fill": pg.mkBrush(spec.colour + "cc"),
                "anchors": [spec.anchor, spec.anchor],
            },
        )
        line.setZValue(20)
        return line


class QuoteLines:
    """The bid and ask lines, labelled with the price at the right edge."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self._lines = PriceLines(plot)
        self._state: tuple[float, float, int] | None = None

    def update(self, bid: float, ask: float, digits: int) -> None:
        if not bid or (bid, ask, digits) == self._state:
            return
        self._state = (bid, ask, digits)
        self._lines.set(
            {
                "bid": LineSpec(
                    bid, formatting.price(bid, digits), BID_COLOUR, position=0.995, anchor=(1.0, 0.0)
                ),
                "ask": LineSpec(
                    ask, formatting.price(ask, digits), ASK_COLOUR, position=0.995, anchor=(1.0, 1.0)
                ),
            }
        )


__all__ = ["ACCENT_COLOUR", "LineSpec", "PriceLines", "QuoteLines", "trade_lines"]
