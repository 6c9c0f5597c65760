"""Where a trailing stop puts a position's SL (Qt-free, no I/O): MT5's client-side trailing rule.

Once the price has moved in the position's favour by the trailing distance from the open price, the
SL follows it at that distance: for a buy, ``bid - distance``; for a sell, ``ask + distance``. It
only ever tightens — a price moving back leaves the SL where it was. The distance is never inside
the symbol's stops or freeze level (the trade server would refuse such an SL).
"""

from __future__ import annotations

from app.models import Position, Side, SymbolSpec

TRAILING_CHOICES = (10, 15, 20, 30, 50, 100)  # points: MT5's Trailing Stop menu
MAX_TRAILING_POINTS = 100_000


def effective_points(points: int, spec: SymbolSpec) -> int:
    """The distance used: the one asked for, or one point beyond the stops/freeze level if that is
    farther (an SL that close would be refused)."""
    floor = max(spec.stops_level, spec.freeze_level)
    return max(points, floor + 1 if floor else 0)


def trailed_stop(
    position: Position, bid: float, ask: float, points: int, spec: SymbolSpec, sl: float
) -> float | None:
    """The new SL for ``position`` at these prices, or None if it stays. ``sl`` is its SL as this app
    knows it (the terminal's, or the last one sent and not yet seen back)."""
    if bid <= 0 or ask <= 0 or points <= 0:
        return None
    distance = effective_points(points, spec) * spec.point
    half_point = spec.point / 2
    if position.side is Side.BUY:
        if bid - position.price_open < distance - half_point:
            return None  # not in profit by the distance yet
        new = spec.round_price(bid - distance)
        return new if not sl or new > sl + half_point else None
    if position.price_open - ask < distance - half_point:
        return None
    new = spec.round_price(ask + distance)
    return new if not sl or new < sl - half_point else None


def tighter(side: Side, a: float, b: float) -> float:
    """The tighter of two SLs of a position on ``side`` (0 = none)."""
    if not a or not b:
        return a or b
    return max(a, b) if side is Side.BUY else min(a, b)
