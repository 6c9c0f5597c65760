"""What dragging a chart's trade line asks for (pure: no Qt, tested on its own).

A line is dragged to a price; dropping it there asks to modify what the line belongs to: a
position's SL or TP, a pending order's price, SL or TP. Dragging a position's own line creates its
SL or TP (MT5's habit): an SL on the losing side of the market, a TP on the winning side. The tag
shown while dragging says what the drop would do and the P/L at that level.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from app.core.levels import profit_at
from app.models import Order, Position, Side, SymbolSpec
from app.ui import formatting

NAMES = {"sl": "stop loss", "tp": "take profit", "price": "price"}
# Line keys (see lines.trade_lines) that can be dragged, and what they move.
DRAGGABLE = {"pos": "new", "sl": "sl", "tp": "tp", "order": "price", "osl": "sl", "otp": "tp"}


@dataclass(frozen=True, slots=True)
class LevelChange:
    """The modify a dropped line asks for: ``field`` of ``ticket`` to ``price``, with the other
    values it keeps (``sl``, ``tp``, ``order_price``, ``stoplimit``) as one whole request."""

    ticket: int
    is_order: bool
    field: str  # sl | tp | price
    price: float
    sl: float
    tp: float
    order_price: float = 0.0
    stoplimit: float = 0.0
    profit: float | None = None  # at that level, in the account's currency

    def describe(self, digits: int) -> str:
        what = "order" if self.is_order else "position"
        return f"{NAMES[self.field]} of {what} #{self.ticket} to {formatting.price(self.price, digits)}"

    def tag(self, digits: int) -> str:
        """The dragged line's tag: the new price and the P/L there."""
        text = f"{NAMES[self.field].capitalize()} {formatting.price(self.price, digits)}"
        if self.profit is not None:
            text += f"   P/L {self.profit:+,.2f}".replace(",", " ")
        return text


def level_change(
    key: Hashable,
    price: float,
    positions: tuple[Position, ...],
    orders: tuple[Order, ...],
    spec: SymbolSpec | None,
    bid: float,
    ask: float,
) -> LevelChange | None:
    """What dropping the line ``key`` at ``price`` asks for (None: not a draggable line)."""
    if not isinstance(key, tuple) or len(key) != 2 or key[0] not in DRAGGABLE:
        return None
    kind, ticket = key
    if spec is not None:
        price = spec.round_price(price)
    if kind in ("pos", "sl", "tp"):
        position = next((p for p in positions if p.ticket == ticket), None)
        if position is None:
            return None
        field = DRAGGABLE[kind]
        if field == "new":  # from the position's own line: an SL on the losing side, else a TP
            market = bid if position.side is Side.BUY else ask
            losing = price < market if position.side is Side.BUY else price > market
            field = "sl" if losing else "tp"
        sl = price if field == "sl" else position.sl
        tp = price if field == "tp" else position.tp
        profit = None
        if spec is not None:
            profit = profit_at(position.side, position.volume, position.price_open, price, spec)
        return LevelChange(ticket, False, field, price, sl, tp, profit=profit)
    order = next((o for o in orders if o.ticket == ticket), None)
    if order is None:
        return None
    field = DRAGGABLE[kind]
    sl = price if field == "sl" else order.sl
    tp = price if field == "tp" else order.tp
    order_price = price if field == "price" else order.price_open
    profit = None
    if spec is not None and field != "price":
        profit = profit_at(order.type.side, order.volume_current, order.price_open, price, spec)
    return LevelChange(ticket, True, field, price, sl, tp, order_price, order.price_stoplimit, profit)
