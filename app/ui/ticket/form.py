"""What the ticket's fields say, turned into an :class:`OrderRequest` (Qt-free).

No trading rules here — volume steps, stop levels and the like are the trading service's to check.
This only converts: SL/TP given in points become prices on the right side of the entry, prices are
rounded to the symbol's tick, and the market/pending action follows from the order type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.models import FillPolicy, OrderRequest, OrderType, Quote, Side, SymbolSpec, TimeInForce, TradeAction

# A terminal's verdict names a retcode; this is the field a form shows it next to.
RETCODE_FIELDS = {
    "INVALID_VOLUME": "volume",
    "NO_MONEY": "volume",
    "LIMIT_VOLUME": "volume",
    "INVALID_STOPS": "sl",
    "INVALID_PRICE": "price",
    "PRICE_OFF": "price",
}


def field_for_retcode(name: str) -> str | None:
    return RETCODE_FIELDS.get(name.removeprefix("TRADE_RETCODE_"))


def entry_price(order_type: OrderType, quote: Quote | None, price: float) -> float:
    """The price SL/TP points are counted from: the order price, or ask/bid for a market order."""
    if order_type.is_pending:
        return price
    if quote is None:
        return 0.0
    return quote.ask if order_type.side is Side.BUY else quote.bid


def price_from_points(side: Side, entry: float, points: float, spec: SymbolSpec, *, stop: bool) -> float:
    """SL (``stop``) or TP ``points`` away from ``entry`` on the side that loses or gains."""
    if not points or not entry:
        return 0.0
    direction = -side.sign if stop else side.sign
    return spec.round_price(entry + direction * points * spec.point)


def points_from_price(entry: float, price: float, spec: SymbolSpec) -> float:
    if not price or not entry or not spec.point:
        return 0.0
    return round(abs(price - entry) / spec.point)


@dataclass(frozen=True, slots=True)
class TicketForm:
    symbol: str
    type: OrderType
    volume: float
    price: float = 0.0
    stoplimit: float = 0.0
    sl: float = 0.0
    tp: float = 0.0
    in_points: bool = False  # sl and tp are distances in points, not prices
    deviation: int = 10
    comment: str = ""
    time_in_force: TimeInForce = TimeInForce.GTC  # a pending order's expiry
    expiration: datetime | None = None  # with TimeInForce.SPECIFIED
    filling: FillPolicy | None = None  # None: the trading service picks (app.core.order_rules)

    def request(self, spec: SymbolSpec, quote: Quote | None, client_id: str = "") -> OrderRequest:
        pending = self.type.is_pending
        price = spec.round_price(self.price) if pending and self.price else 0.0
        sl, tp = self.sl, self.tp
        if self.in_points:
            entry = entry_price(self.type, quote, price)
            sl = price_from_points(self.type.side, entry, self.sl, spec, stop=True)
            tp = price_from_points(self.type.side, entry, self.tp, spec, stop=False)
        is_stop_limit = self.type in (OrderType.BUY_STOP_LIMIT, OrderType.SELL_STOP_LIMIT)
        return OrderRequest(
            action=TradeAction.PENDING if pending else TradeAction.DEAL,
            symbol=self.symbol,
            volume=self.volume,
            type=self.type,
            price=price,
            stoplimit=spec.round_price(self.stoplimit) if is_stop_limit and self.stoplimit else 0.0,
            sl=spec.round_price(sl) if sl else 0.0,
            tp=spec.round_price(tp) if tp else 0.0,
            deviation=self.deviation,
            time_in_force=self.time_in_force if pending else TimeInForce.GTC,
            expiration=self.expiration if pending and self.time_in_force is TimeInForce.SPECIFIED else None,
            comment=self.comment,
            client_id=client_id,
            filling=self.filling,
        )
