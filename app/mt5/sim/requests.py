"""Checking a trade request the way an MT5 trade server does, before anything changes.

:func:`validate` returns a :class:`Plan` (what would happen, with the margin figures) or a
:class:`Reject` (the retcode). order_check reports the verdict; order_send executes the plan. Both
go through this one function, so order_check answers exactly what order_send would do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from app.mt5.sim import constants as c
from app.mt5.sim.broker import Broker, Figures, Legs
from app.mt5.sim.ledger import Account, Order, Position
from app.mt5.sim.money import is_buy, margin
from app.mt5.sim.symbols import FILLING_FOK, FILLING_IOC, SymbolSpec

EPS = 1e-9

RETCODE_TEXT: dict[int, str] = {
    c.TRADE_RETCODE_REQUOTE: "Requote",
    c.TRADE_RETCODE_REJECT: "Request rejected",
    c.TRADE_RETCODE_CANCEL: "Request canceled by trader",
    c.TRADE_RETCODE_PLACED: "Order placed",
    c.TRADE_RETCODE_DONE: "Request executed",
    c.TRADE_RETCODE_DONE_PARTIAL: "Request executed partially",
    c.TRADE_RETCODE_ERROR: "Request processing error",
    c.TRADE_RETCODE_TIMEOUT: "Request canceled by timeout",
    c.TRADE_RETCODE_INVALID: "Invalid request",
    c.TRADE_RETCODE_INVALID_VOLUME: "Invalid volume",
    c.TRADE_RETCODE_INVALID_PRICE: "Invalid price",
    c.TRADE_RETCODE_INVALID_STOPS: "Invalid stops",
    c.TRADE_RETCODE_TRADE_DISABLED: "Trade disabled",
    c.TRADE_RETCODE_MARKET_CLOSED: "Market closed",
    c.TRADE_RETCODE_NO_MONEY: "No money",
    c.TRADE_RETCODE_PRICE_CHANGED: "Prices changed",
    c.TRADE_RETCODE_PRICE_OFF: "No prices",
    c.TRADE_RETCODE_INVALID_EXPIRATION: "Invalid expiration",
    c.TRADE_RETCODE_ORDER_CHANGED: "Order state changed",
    c.TRADE_RETCODE_TOO_MANY_REQUESTS: "Too many requests",
    c.TRADE_RETCODE_NO_CHANGES: "No changes",
    c.TRADE_RETCODE_SERVER_DISABLES_AT: "AutoTrading disabled by server",
    c.TRADE_RETCODE_CLIENT_DISABLES_AT: "AutoTrading disabled by client",
    c.TRADE_RETCODE_LOCKED: "Request locked",
    c.TRADE_RETCODE_FROZEN: "Order or position frozen",
    c.TRADE_RETCODE_INVALID_FILL: "Unsupported filling mode",
    c.TRADE_RETCODE_CONNECTION: "No connection",
    c.TRADE_RETCODE_ONLY_REAL: "Only real accounts allowed",
    c.TRADE_RETCODE_LIMIT_ORDERS: "Orders limit reached",
    c.TRADE_RETCODE_LIMIT_VOLUME: "Volume limit reached",
    c.TRADE_RETCODE_INVALID_ORDER: "Invalid order",
    c.TRADE_RETCODE_POSITION_CLOSED: "Position doesn't exist",
    c.TRADE_RETCODE_INVALID_CLOSE_VOLUME: "Invalid close volume",
    c.TRADE_RETCODE_CLOSE_ORDER_EXIST: "Close order already exists",
    c.TRADE_RETCODE_LIMIT_POSITIONS: "Positions limit reached",
    c.TRADE_RETCODE_REJECT_CANCEL: "Pending order activation rejected",
    c.TRADE_RETCODE_LONG_ONLY: "Only long positions allowed",
    c.TRADE_RETCODE_SHORT_ONLY: "Only short positions allowed",
    c.TRADE_RETCODE_CLOSE_ONLY: "Only position closing allowed",
    c.TRADE_RETCODE_FIFO_CLOSE: "Position closing allowed only by FIFO rule",
}
PENDING_TYPES = frozenset(range(c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_SELL_STOP_LIMIT + 1))
COMMENT_MAX = 31


@dataclass(frozen=True, slots=True)
class Req:
    """A trade request with every TradeRequest field (missing ones 0 / "")."""

    action: int = 0
    magic: int = 0
    order: int = 0
    symbol: str = ""
    volume: float = 0.0
    price: float = 0.0
    stoplimit: float = 0.0
    sl: float = 0.0
    tp: float = 0.0
    deviation: int = 0
    type: int = 0
    type_filling: int = 0
    type_time: int = 0
    expiration: int = 0
    comment: str = ""
    position: int = 0
    position_by: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Req:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def row(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True, slots=True)
class Reject:
    retcode: int
    bid: float = 0.0
    ask: float = 0.0

    @property
    def comment(self) -> str:
        return RETCODE_TEXT.get(self.retcode, "Request rejected")


@dataclass(slots=True)
class Plan:
    """What a valid request will do; ``margin_after`` is the account margin once it is done."""

    req: Req
    spec: SymbolSpec | None
    bid: float
    ask: float
    price: float
    figures: Figures
    margin_after: float
    target: Position | None = None
    target_by: Position | None = None
    order: Order | None = None
    changes: dict[str, Any] = field(default_factory=dict)


def _on_grid(price: float, digits: int) -> bool:
    scaled = price * 10**digits
    return abs(scaled - round(scaled)) < 1e-6


def volume_ok(spec: SymbolSpec, volume: float) -> bool:
    if not math.isfinite(volume) or volume < spec.volume_min - EPS or volume > spec.volume_max + EPS:
        return False
    steps = volume / spec.volume_step
    return abs(steps - round(steps)) < 1e-6


def filling_ok(spec: SymbolSpec, filling: int, pending: bool) -> bool:
    if filling == c.ORDER_FILLING_FOK:
        return bool(spec.filling_mode & FILLING_FOK)
    if filling == c.ORDER_FILLING_IOC:
        return bool(spec.filling_mode & FILLING_IOC)
    if filling == c.ORDER_FILLING_RETURN:
        return pending or spec.exemode != c.SYMBOL_TRADE_EXECUTION_MARKET
    return False


def stops_ok(spec: SymbolSpec, buy: bool, reference: float, sl: float, tp: float) -> bool:
    """SL/TP on the right side of ``reference`` and at least the stops level away, on the price grid."""
    level = spec.stops_level * spec.point
    for value in (sl, tp):
        if value < 0 or (value and not _on_grid(value, spec.digits)):
            return False
    sign = 1 if buy else -1
    if sl and sign * (reference - sl) < max(level, spec.point) - EPS:
        return False
    return not (tp and sign * (tp - reference) < max(level, spec.point) - EPS)


def _frozen(spec: SymbolSpec, market: float, *levels: float) -> bool:
    freeze = spec.freeze_level * spec.point
    return freeze > 0 and any(level and abs(market - level) < freeze - EPS for level in levels)


def required[T](value: T | None) -> T:
    """``value``, which a valid plan always has (a None here is a bug, not a bad request)."""
    if value is None:
        raise RuntimeError("incomplete trade plan")
    return value


def _gate(
    b: Broker, account: Account, spec: SymbolSpec | None, now_ms: int
) -> Reject | tuple[SymbolSpec, float, float]:
    """Checks common to every action: the symbol, trading allowed, market open, a quote."""
    if spec is None:
        return Reject(c.TRADE_RETCODE_INVALID)
    if not account.trade_allowed or spec.trade_mode == c.SYMBOL_TRADE_MODE_DISABLED:
        return Reject(c.TRADE_RETCODE_TRADE_DISABLED)
    if not b.market_open(spec.name, now_ms):
        return Reject(c.TRADE_RETCODE_MARKET_CLOSED)
    quote = b.quote(spec.name)
    if quote is None:
        return Reject(c.TRADE_RETCODE_PRICE_OFF)
    return spec, quote[0], quote[1]


def validate(b: Broker, account: Account, req: Req, now_ms: int) -> Plan | Reject:
    handler = {
        c.TRADE_ACTION_DEAL: _deal,
        c.TRADE_ACTION_PENDING: _pending,
        c.TRADE_ACTION_SLTP: _sltp,
        c.TRADE_ACTION_MODIFY: _modify,
        c.TRADE_ACTION_REMOVE: _remove,
        c.TRADE_ACTION_CLOSE_BY: _close_by,
    }.get(req.action)
    if handler is None:
        return Reject(c.TRADE_RETCODE_INVALID)
    return handler(b, account, req, now_ms)


# ---------------------------------------------------------------------- market deals
def netting_result(
    spec: SymbolSpec, held: Position | None, side: int, volume: float, price: float, new_margin: float
) -> tuple[int, float, float] | None:
    """(type, volume, margin) of the netting position after a deal, or None when it is closed."""
    if held is None:
        return (side, volume, new_margin)
    if held.type == side:
        return (side, round(held.volume + volume, 8), round(held.margin + new_margin, 2))
    rest = round(held.volume - volume, 8)
    if rest > EPS:
        return (held.type, rest, round(held.margin * rest / held.volume, 2))
    if rest < -EPS:
        return (side, -rest, round(new_margin * -rest / volume, 2))
    return None


def _legs_after_deal(
    b: Broker,
    account: Account,
    spec: SymbolSpec,
    side: int,
    volume: float,
    price: float,
    target: Position | None,
) -> Legs:
    legs = b.legs(account.login)
    new_margin = margin(spec, side, volume, price, account.leverage, account.currency, b.rates)
    if account.hedging:
        if target is None:
            legs.setdefault(spec.name, []).append((side, volume, new_margin))
        else:
            others = [
                (p.type, p.volume, p.margin)
                for p in b.ledger.account_positions(account.login)
                if p.symbol == spec.name and p.ticket != target.ticket
            ]
            rest = round(target.volume - volume, 8)
            if rest > EPS:
                others.append((target.type, rest, target.margin * rest / target.volume))
            legs[spec.name] = others
        return legs
    result = netting_result(spec, target, side, volume, price, new_margin)
    legs[spec.name] = [result] if result is not None else []
    return legs


def _closing_target(b: Broker, account: Account, req: Req, side: int) -> Position | Reject | None:
    """The position a deal closes or adds to: the one named by ``position``, or the netting position."""
    if not req.position:
        return None if account.hedging else b.ledger.netting_position(account.login, req.symbol)
    target = b.ledger.positions.get(req.position)
    if target is None or target.login != account.login:
        return Reject(c.TRADE_RETCODE_POSITION_CLOSED)
    if target.symbol != req.symbol:
        return Reject(c.TRADE_RETCODE_INVALID)
    if account.hedging:
        if target.type == side:
            return Reject(c.TRADE_RETCODE_INVALID)
        if req.volume > target.volume + EPS:
            return Reject(c.TRADE_RETCODE_INVALID_CLOSE_VOLUME)
    return target


def _direction_allowed(spec: SymbolSpec, buy: bool) -> Reject | None:
    """The symbol's trade mode for a deal that opens or increases a position."""
    if spec.trade_mode == c.SYMBOL_TRADE_MODE_CLOSEONLY:
        return Reject(c.TRADE_RETCODE_CLOSE_ONLY)
    if spec.trade_mode == c.SYMBOL_TRADE_MODE_LONGONLY and not buy:
        return Reject(c.TRADE_RETCODE_LONG_ONLY)
    if spec.trade_mode == c.SYMBOL_TRADE_MODE_SHORTONLY and buy:
        return Reject(c.TRADE_RETCODE_SHORT_ONLY)
    return None


def _deal(b: Broker, account: Account, req: Req, now_ms: int) -> Plan | Reject:
    gate = _gate(b, account, b.specs.get(req.symbol), now_ms)
    if isinstance(gate, Reject):
        return gate
    spec, bid, ask = gate
    if req.type not in (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL):
        return Reject(c.TRADE_RETCODE_INVALID_ORDER)
    if not volume_ok(spec, req.volume):
        return Reject(c.TRADE_RETCODE_INVALID_VOLUME)
    if not filling_ok(spec, req.type_filling, pending=False):
        return Reject(c.TRADE_RETCODE_INVALID_FILL)
    buy = req.type == c.ORDER_TYPE_BUY
    side = c.POSITION_TYPE_BUY if buy else c.POSITION_TYPE_SELL
    target = _closing_target(b, account, req, side)
    if isinstance(target, Reject):
        return target
    closing = target is not None and target.type != side and req.volume <= target.volume + EPS
    refused = None if closing else _direction_allowed(spec, buy)
    if refused is not None:
        return refused
    market = ask if buy else bid
    if spec.exemode in (c.SYMBOL_TRADE_EXECUTION_INSTANT, c.SYMBOL_TRADE_EXECUTION_REQUEST):
        if req.price <= 0:
            return Reject(c.TRADE_RETCODE_INVALID_PRICE)
        if abs(req.price - market) > max(req.deviation, 0) * spec.point + EPS:
            return Reject(c.TRADE_RETCODE_REQUOTE, bid, ask)
    if not closing and not stops_ok(spec, buy, bid if buy else ask, req.sl, req.tp):
        return Reject(c.TRADE_RETCODE_INVALID_STOPS)
    figures = b.figures(account)
    margin_after = b.margin_of(account, _legs_after_deal(b, account, spec, side, req.volume, market, target))
    if margin_after > figures.margin + EPS and figures.equity - margin_after < 0:
        return Reject(c.TRADE_RETCODE_NO_MONEY)
    return Plan(req, spec, bid, ask, market, figures, margin_after, target=target)


# ---------------------------------------------------------------------- pending orders
def _pending_prices_ok(
    spec: SymbolSpec, order_type: int, price: float, stoplimit: float, bid: float, ask: float
) -> bool:
    if price <= 0 or not _on_grid(price, spec.digits):
        return False
    level = max(spec.stops_level * spec.point, spec.point) - EPS
    if order_type == c.ORDER_TYPE_BUY_LIMIT:
        return ask - price >= level
    if order_type == c.ORDER_TYPE_SELL_LIMIT:
        return price - bid >= level
    if order_type in (c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_BUY_STOP_LIMIT):
        ok = price - ask >= level
        if order_type == c.ORDER_TYPE_BUY_STOP_LIMIT:
            ok = ok and 0 < stoplimit <= price and _on_grid(stoplimit, spec.digits)
        return ok
    ok = bid - price >= level  # sell stop / sell stop limit
    if order_type == c.ORDER_TYPE_SELL_STOP_LIMIT:
        ok = ok and stoplimit >= price and _on_grid(stoplimit, spec.digits)
    return ok


def _expiration_ok(req: Req, now_ms: int) -> bool:
    if req.type_time in (c.ORDER_TIME_GTC, c.ORDER_TIME_DAY):
        return True
    if req.type_time in (c.ORDER_TIME_SPECIFIED, c.ORDER_TIME_SPECIFIED_DAY):
        return req.expiration * 1000 > now_ms
    return False


def _activation_price(order_type: int, price: float, stoplimit: float) -> float:
    return stoplimit if order_type in (c.ORDER_TYPE_BUY_STOP_LIMIT, c.ORDER_TYPE_SELL_STOP_LIMIT) else price


def _pending(b: Broker, account: Account, req: Req, now_ms: int) -> Plan | Reject:
    gate = _gate(b, account, b.specs.get(req.symbol), now_ms)
    if isinstance(gate, Reject):
        return gate
    spec, bid, ask = gate
    if req.type not in PENDING_TYPES:
        return Reject(c.TRADE_RETCODE_INVALID_ORDER)
    if not volume_ok(spec, req.volume):
        return Reject(c.TRADE_RETCODE_INVALID_VOLUME)
    if not filling_ok(spec, req.type_filling, pending=True):
        return Reject(c.TRADE_RETCODE_INVALID_FILL)
    if spec.trade_mode == c.SYMBOL_TRADE_MODE_CLOSEONLY:
        return Reject(c.TRADE_RETCODE_CLOSE_ONLY)
    if len(b.ledger.account_orders(account.login)) >= account.limit_orders:
        return Reject(c.TRADE_RETCODE_LIMIT_ORDERS)
    if not _pending_prices_ok(spec, req.type, req.price, req.stoplimit, bid, ask):
        return Reject(c.TRADE_RETCODE_INVALID_PRICE)
    activation = _activation_price(req.type, req.price, req.stoplimit)
    if not stops_ok(spec, is_buy(req.type), activation, req.sl, req.tp):
        return Reject(c.TRADE_RETCODE_INVALID_STOPS)
    if not _expiration_ok(req, now_ms):
        return Reject(c.TRADE_RETCODE_INVALID_EXPIRATION)
    figures = b.figures(account)
    return Plan(req, spec, bid, ask, req.price, figures, figures.margin)


def _modify(b: Broker, account: Account, req: Req, now_ms: int) -> Plan | Reject:
    order = b.ledger.orders.get(req.order)
    if order is None or order.login != account.login:
        return Reject(c.TRADE_RETCODE_INVALID_ORDER)
    gate = _gate(b, account, b.specs.get(order.symbol), now_ms)
    if isinstance(gate, Reject):
        return gate
    spec, bid, ask = gate
    if not _pending_prices_ok(spec, order.type, req.price, req.stoplimit, bid, ask):
        return Reject(c.TRADE_RETCODE_INVALID_PRICE)
    if not stops_ok(
        spec, is_buy(order.type), _activation_price(order.type, req.price, req.stoplimit), req.sl, req.tp
    ):
        return Reject(c.TRADE_RETCODE_INVALID_STOPS)
    if not _expiration_ok(req, now_ms):
        return Reject(c.TRADE_RETCODE_INVALID_EXPIRATION)
    if _frozen(spec, ask if is_buy(order.type) else bid, order.price_open):
        return Reject(c.TRADE_RETCODE_FROZEN)
    unchanged = (
        order.price_open,
        order.sl,
        order.tp,
        order.price_stoplimit,
        order.type_time,
        order.time_expiration,
    )
    if unchanged == (req.price, req.sl, req.tp, req.stoplimit, req.type_time, req.expiration):
        return Reject(c.TRADE_RETCODE_NO_CHANGES)
    figures = b.figures(account)
    return Plan(req, spec, bid, ask, req.price, figures, figures.margin, order=order)


def _remove(b: Broker, account: Account, req: Req, now_ms: int) -> Plan | Reject:
    order = b.ledger.orders.get(req.order)
    if order is None or order.login != account.login:
        return Reject(c.TRADE_RETCODE_INVALID_ORDER)
    gate = _gate(b, account, b.specs.get(order.symbol), now_ms)
    if isinstance(gate, Reject):
        return gate
    spec, bid, ask = gate
    if _frozen(spec, ask if is_buy(order.type) else bid, order.price_open):
        return Reject(c.TRADE_RETCODE_FROZEN)
    figures = b.figures(account)
    return Plan(req, spec, bid, ask, order.price_open, figures, figures.margin, order=order)


# ---------------------------------------------------------------------- positions
def _sltp(b: Broker, account: Account, req: Req, now_ms: int) -> Plan | Reject:
    position = b.ledger.positions.get(req.position)
    if position is None or position.login != account.login:
        return Reject(c.TRADE_RETCODE_POSITION_CLOSED)
    gate = _gate(b, account, b.specs.get(position.symbol), now_ms)
    if isinstance(gate, Reject):
        return gate
    spec, bid, ask = gate
    buy = position.type == c.POSITION_TYPE_BUY
    market = bid if buy else ask
    if not stops_ok(spec, buy, market, req.sl, req.tp):
        return Reject(c.TRADE_RETCODE_INVALID_STOPS)
    if _frozen(spec, market, position.sl, position.tp):
        return Reject(c.TRADE_RETCODE_FROZEN)
    if (position.sl, position.tp) == (req.sl, req.tp):
        return Reject(c.TRADE_RETCODE_NO_CHANGES)
    figures = b.figures(account)
    return Plan(req, spec, bid, ask, 0.0, figures, figures.margin, target=position)


def _close_by(b: Broker, account: Account, req: Req, now_ms: int) -> Plan | Reject:
    if not account.hedging:
        return Reject(c.TRADE_RETCODE_INVALID)
    position = b.ledger.positions.get(req.position)
    by = b.ledger.positions.get(req.position_by)
    if position is None or by is None or position.login != account.login or by.login != account.login:
        return Reject(c.TRADE_RETCODE_POSITION_CLOSED)
    if position.symbol != by.symbol or position.type == by.type or position.ticket == by.ticket:
        return Reject(c.TRADE_RETCODE_INVALID)
    gate = _gate(b, account, b.specs.get(position.symbol), now_ms)
    if isinstance(gate, Reject):
        return gate
    spec, bid, ask = gate
    figures = b.figures(account)
    return Plan(req, spec, bid, ask, by.price_open, figures, figures.margin, target=position, target_by=by)
