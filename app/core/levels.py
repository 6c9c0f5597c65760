"""Money at a price level (pure functions): the profit a position or a pending order would have at a
level (a dragged SL or TP line's tag), and the volume that risks a given amount at a stop distance
(the ticket's volume by risk).

Valued as the terminal values a tick: ``tick_value`` money per ``tick_size`` of price per lot, in
the account's currency (the symbol's tick value is already converted).
"""

from __future__ import annotations

from app.models import Side, SymbolSpec


def profit_at(side: Side, volume: float, price_open: float, level: float, spec: SymbolSpec) -> float:
    """What a position of ``volume`` lots opened at ``price_open`` would make if closed at ``level``."""
    if spec.tick_size <= 0:
        return 0.0
    direction = 1.0 if side is Side.BUY else -1.0
    return direction * (level - price_open) / spec.tick_size * spec.tick_value * volume


def volume_for_risk(risk: float, price: float, stop: float, spec: SymbolSpec) -> float:
    """The largest volume on the symbol's step (within its min and max) that loses at most ``risk``
    if the stop is hit; 0 when even the minimum volume risks more, or the stop is on the price."""
    distance = abs(price - stop)
    if risk <= 0 or distance <= 0 or spec.tick_size <= 0 or spec.tick_value <= 0:
        return 0.0
    per_lot = distance / spec.tick_size * spec.tick_value
    volume = spec.floor_volume(min(risk / per_lot, spec.volume_max))
    return volume if volume >= spec.volume_min else 0.0
