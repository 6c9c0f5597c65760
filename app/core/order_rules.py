"""MT5's trading rules, checked before anything reaches the terminal: pure functions, no I/O.

A request is either normalised into one the server will accept on these grounds (prices rounded to the
symbol's digits and tick size, a filling mode the symbol allows) or refused with an
:class:`OrderValidationError` naming the field and the limit. The rules follow MetaTrader 5's
"Requirements and Limitations in Making Trades": distances in points against the stops level for new
SL/TP and pending prices, and against the freeze level for changing what is already there.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isfinite

from app.models import (
    FillPolicy,
    Order,
    OrderRequest,
    OrderType,
    OrderValidationError,
    Position,
    Side,
    SymbolSpec,
    SymbolTradeMode,
    TradeAction,
)

FILLING_PREFERENCE = (FillPolicy.FOK, FillPolicy.IOC, FillPolicy.RETURN)
_EPSILON_POINTS = 1e-6


@dataclass(frozen=True, slots=True)
class Market:
    """The prices a request is judged against (the symbol's latest bid and ask)."""

    bid: float
    ask: float


def _points(distance: float, spec: SymbolSpec) -> float:
    return distance / spec.point


def _fmt(value: float, spec: SymbolSpec) -> str:
    return f"{value:.{spec.digits}f}"


def _finite(field: str, value: float) -> None:
    if not isfinite(value):
        raise OrderValidationError(field, f"{field} must be a number")


def normalize_volume(volume: float, spec: SymbolSpec, field: str = "volume") -> float:
    """The volume on the symbol's step grid, or a refusal naming min, max or step."""
    _finite(field, volume)
    if volume <= 0:
        raise OrderValidationError(field, f"{field} must be positive")
    if not spec.on_volume_step(volume):
        lower = spec.floor_volume(volume)
        upper = spec.floor_volume(lower + spec.volume_step * 1.5)
        raise OrderValidationError(
            field,
            f"{field} {volume:g} is not a multiple of {spec.name}'s volume step {spec.volume_step:g} "
            f"(nearest: {lower:g} or {upper:g})",
        )
    steps = round(volume / spec.volume_step)
    normalized = spec.floor_volume(steps * spec.volume_step + spec.volume_step * 1e-6)
    if normalized < spec.volume_min - 1e-12:
        raise OrderValidationError(
            field, f"{field} {volume:g} is below {spec.name}'s minimum {spec.volume_min:g}"
        )
    if normalized > spec.volume_max + 1e-12:
        raise OrderValidationError(
            field, f"{field} {volume:g} is above {spec.name}'s maximum {spec.volume_max:g}"
        )
    return normalized


def _price(field: str, value: float, spec: SymbolSpec, required: bool) -> float:
    _finite(field, value)
    if value < 0:
        raise OrderValidationError(field, f"{field} cannot be negative")
    if value == 0:
        if required:
            raise OrderValidationError(field, f"a {field} is needed for this order type")
        return 0.0
    return spec.round_price(value)


def fill_choices(spec: SymbolSpec) -> tuple[FillPolicy, ...]:
    """The fill policies this app can ask for on ``spec``, the one :func:`choose_filling` picks first
    (a ticket offers a choice only when there are several)."""
    return tuple(f for f in FILLING_PREFERENCE if f in spec.filling_modes)


def choose_filling(requested: FillPolicy | None, spec: SymbolSpec) -> FillPolicy:
    if requested is not None:
        if requested not in spec.filling_modes:
            allowed = ", ".join(sorted(f.value.upper() for f in spec.filling_modes)) or "none"
            raise OrderValidationError(
                "filling",
                f"{spec.name} does not allow {requested.value.upper()} filling (allowed: {allowed})",
            )
        return requested
    for candidate in FILLING_PREFERENCE:
        if candidate in spec.filling_modes:
            return candidate
    raise OrderValidationError("filling", f"{spec.name} allows no filling mode this app can use")


def _check_trade_mode(request: OrderRequest, spec: SymbolSpec) -> None:
    mode = spec.trade_mode
    side = request.type.side
    opening = request.position == 0
    if mode is SymbolTradeMode.DISABLED:
        raise OrderValidationError("symbol", f"trading {spec.name} is disabled")
    if mode is SymbolTradeMode.CLOSE_ONLY and opening:
        raise OrderValidationError("symbol", f"{spec.name} is close-only: new positions are not allowed")
    if mode is SymbolTradeMode.LONG_ONLY and side is Side.SELL and opening:
        raise OrderValidationError("type", f"{spec.name} is long-only: sell orders are not allowed")
    if mode is SymbolTradeMode.SHORT_ONLY and side is Side.BUY and opening:
        raise OrderValidationError("type", f"{spec.name} is short-only: buy orders are not allowed")


def check_stops(side: Side, reference: float, sl: float, tp: float, spec: SymbolSpec) -> None:
    """SL/TP on the right side of ``reference`` (the price the position would close at, or a pending
    order's open price) and at least the stops level away from it."""
    level = spec.stops_level
    if sl:
        distance = _points((reference - sl) * side.sign, spec)
        if distance <= _EPSILON_POINTS:
            where = "below" if side is Side.BUY else "above"
            raise OrderValidationError(
                "sl", f"stop loss {_fmt(sl, spec)} must be {where} {_fmt(reference, spec)} for a {side.value}"
            )
        if distance + _EPSILON_POINTS < level:
            raise OrderValidationError(
                "sl",
                f"stop loss {_fmt(sl, spec)} is {distance:.0f} points from {_fmt(reference, spec)}; "
                f"{spec.name} needs at least {level} (stops level)",
            )
    if tp:
        distance = _points((tp - reference) * side.sign, spec)
        if distance <= _EPSILON_POINTS:
            where = "above" if side is Side.BUY else "below"
            raise OrderValidationError(
                "tp",
                f"take profit {_fmt(tp, spec)} must be {where} {_fmt(reference, spec)} for a {side.value}",
            )
        if distance + _EPSILON_POINTS < level:
            raise OrderValidationError(
                "tp",
                f"take profit {_fmt(tp, spec)} is {distance:.0f} points from {_fmt(reference, spec)}; "
                f"{spec.name} needs at least {level} (stops level)",
            )


def _check_pending_price(order_type: OrderType, price: float, spec: SymbolSpec, market: Market) -> None:
    """Limit orders below (buy) / above (sell) the market, stop orders the other way, each at least the
    stops level away: buy orders against the ask, sell orders against the bid."""
    buy = order_type.side is Side.BUY
    current = market.ask if buy else market.bid
    below = order_type in (OrderType.BUY_LIMIT, OrderType.SELL_STOP, OrderType.SELL_STOP_LIMIT)
    distance = _points(current - price if below else price - current, spec)
    if distance <= _EPSILON_POINTS or distance + _EPSILON_POINTS < spec.stops_level:
        side_word = "below" if below else "above"
        against = "ask" if buy else "bid"
        raise OrderValidationError(
            "price",
            f"a {order_type.value.replace('_', ' ')} price must be {side_word} the {against} "
            f"{_fmt(current, spec)} by at least {max(spec.stops_level, 1)} points; "
            + (
                f"{_fmt(price, spec)} is only {distance:.0f} points away"
                if distance > _EPSILON_POINTS
                else f"{_fmt(price, spec)} is {'at or above' if below else 'at or below'} it"
            ),
        )


def resolve_points(request: OrderRequest, spec: SymbolSpec, market: Market) -> OrderRequest:
    """SL/TP given in points (``sl_points``/``tp_points``) as prices on the right side of the order's
    price: below a buy's for the SL, above for the TP, the reverse for a sell. A market order's price
    is the side of ``market`` it fills at, so the distances hold from the price it is sent at."""
    if not request.sl_points and not request.tp_points:
        return request
    price = request.price or (market.ask if request.type.side is Side.BUY else market.bid)
    sign = request.type.side.sign
    changes: dict[str, object] = {"sl_points": 0.0, "tp_points": 0.0}
    if request.sl_points:
        changes["sl"] = spec.round_price(price - sign * request.sl_points * spec.point)
    if request.tp_points:
        changes["tp"] = spec.round_price(price + sign * request.tp_points * spec.point)
    return request.with_changes(**changes)


def normalize_new_order(request: OrderRequest, spec: SymbolSpec, market: Market) -> OrderRequest:
    """A market or pending order checked and normalised (volume, prices, SL/TP, filling, trade mode)."""
    if request.action not in (TradeAction.DEAL, TradeAction.PENDING):
        raise ValueError(f"not a new order: {request.action}")
    if request.type is OrderType.CLOSE_BY:
        raise OrderValidationError("type", "close-by is its own action")
    pending = request.action is TradeAction.PENDING
    if pending != request.type.is_pending:
        raise OrderValidationError(
            "type", f"{request.type.value} does not fit a {request.action.value} request"
        )
    _check_trade_mode(request, spec)
    volume = normalize_volume(request.volume, spec)
    side = request.type.side
    sl = _price("sl", request.sl, spec, required=False)
    tp = _price("tp", request.tp, spec, required=False)
    filling = choose_filling(request.filling, spec)
    price = _price("price", request.price, spec, required=pending)
    stoplimit = 0.0
    if pending:
        _check_pending_price(request.type, price, spec, market)
        reference = price
        if request.type in (OrderType.BUY_STOP_LIMIT, OrderType.SELL_STOP_LIMIT):
            stoplimit = _price("stoplimit", request.stoplimit, spec, required=True)
            limit_below = request.type is OrderType.BUY_STOP_LIMIT
            gap = _points(price - stoplimit if limit_below else stoplimit - price, spec)
            if gap <= _EPSILON_POINTS or gap + _EPSILON_POINTS < spec.stops_level:
                where = "below" if limit_below else "above"
                raise OrderValidationError(
                    "stoplimit",
                    f"the limit price {_fmt(stoplimit, spec)} must be {where} the stop price "
                    f"{_fmt(price, spec)} by at least {max(spec.stops_level, 1)} points",
                )
            reference = stoplimit
        check_stops(side, reference, sl, tp, spec)
    else:
        if request.position:  # closing (part of) a position: its SL/TP stay as they are
            sl = tp = 0.0
        # a position closes at the other side of the book: a buy at the bid, a sell at the ask
        check_stops(side, market.bid if side is Side.BUY else market.ask, sl, tp, spec)
    if request.deviation < 0:
        raise OrderValidationError("deviation", "deviation cannot be negative")
    return request.with_changes(
        volume=volume, price=price, sl=sl, tp=tp, stoplimit=stoplimit, filling=filling
    )


def check_close_volume(position: Position, volume: float | None, spec: SymbolSpec) -> float:
    """The volume to close: all of it, or a part on the step grid and not more than is open."""
    if volume is None:
        return position.volume
    normalized = normalize_volume(volume, spec)
    if normalized > position.volume + 1e-9:
        raise OrderValidationError(
            "volume", f"cannot close {normalized:g}: position {position.ticket} holds {position.volume:g}"
        )
    return normalized


def _frozen(distance_points: float, spec: SymbolSpec) -> bool:
    return spec.freeze_level > 0 and distance_points < spec.freeze_level - _EPSILON_POINTS


def check_position_modify(
    position: Position, sl: float, tp: float, spec: SymbolSpec, market: Market
) -> tuple[float, float]:
    """New SL/TP of a position: not while an existing SL/TP is inside the freeze level, and the new ones
    outside the stops level from the price the position would close at."""
    close_price = market.bid if position.side is Side.BUY else market.ask
    sign = position.side.sign
    freeze = f"inside the freeze level ({spec.freeze_level} points): it cannot change now"
    if position.sl and _frozen(_points((close_price - position.sl) * sign, spec), spec):
        raise OrderValidationError("sl", f"the stop loss of position {position.ticket} is {freeze}")
    if position.tp and _frozen(_points((position.tp - close_price) * sign, spec), spec):
        raise OrderValidationError("tp", f"the take profit of position {position.ticket} is {freeze}")
    new_sl = _price("sl", sl, spec, required=False)
    new_tp = _price("tp", tp, spec, required=False)
    check_stops(position.side, close_price, new_sl, new_tp, spec)
    return new_sl, new_tp


def _order_frozen(order: Order, spec: SymbolSpec, market: Market) -> bool:
    buy = order.type.side is Side.BUY
    current = market.ask if buy else market.bid
    below = order.type in (OrderType.BUY_LIMIT, OrderType.SELL_STOP, OrderType.SELL_STOP_LIMIT)
    distance = _points(current - order.price_open if below else order.price_open - current, spec)
    return _frozen(distance, spec)


def check_order_modify(
    order: Order, price: float, sl: float, tp: float, stoplimit: float, spec: SymbolSpec, market: Market
) -> OrderRequest:
    """A pending order's new price, SL/TP: refused inside the freeze level, checked like a new order."""
    if _order_frozen(order, spec, market):
        raise OrderValidationError(
            "price",
            f"order {order.ticket} is inside the freeze level ({spec.freeze_level} points): it cannot change",
        )
    probe = OrderRequest(
        action=TradeAction.PENDING,
        symbol=order.symbol,
        volume=order.volume_current,
        type=order.type,
        price=price,
        stoplimit=stoplimit or order.price_stoplimit,
        sl=sl,
        tp=tp,
        filling=None,
    )
    checked = normalize_new_order(probe, spec, market)
    return OrderRequest(
        action=TradeAction.MODIFY,
        symbol=order.symbol,
        order=order.ticket,
        price=checked.price,
        stoplimit=checked.stoplimit,
        sl=checked.sl,
        tp=checked.tp,
    )


def check_order_remove(order: Order, spec: SymbolSpec, market: Market) -> None:
    if _order_frozen(order, spec, market):
        raise OrderValidationError(
            "order", f"order {order.ticket} is inside the freeze level ({spec.freeze_level} points): not now"
        )
