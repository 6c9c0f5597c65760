"""What the trade server does on its own as prices move: pending orders, SL/TP, expiry, stop-out, swaps.

Run by the server for every batch of newly revealed ticks, whether or not any terminal is calling.
Events are taken in tick order: a pending order that fills on one tick can have its new position's
stop loss hit on a later tick of the same batch.
"""

from __future__ import annotations

import numpy as np

from app.mt5.sim import constants as c
from app.mt5.sim.broker import Broker
from app.mt5.sim.execution import fill, finish_order
from app.mt5.sim.ledger import Account, Order, Position
from app.mt5.sim.money import is_buy, margin
from app.mt5.sim.sessions import MS_PER_DAY, weekday
from app.mt5.sim.ticks import TickArrays

_NEVER = 1 << 62


def _first(mask: np.ndarray, start: int) -> int:
    hits = np.flatnonzero(mask[start:])
    return int(hits[0]) + start if len(hits) else _NEVER


def _order_hit(order: Order, ticks: TickArrays, start: int) -> int:
    kind, price = order.type, order.price_open
    if kind == c.ORDER_TYPE_BUY_LIMIT:
        return _first(ticks.ask <= price, start)
    if kind == c.ORDER_TYPE_SELL_LIMIT:
        return _first(ticks.bid >= price, start)
    if kind in (c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_BUY_STOP_LIMIT):
        return _first(ticks.ask >= price, start)
    return _first(ticks.bid <= price, start)


def _expiry_ms(order: Order) -> int:
    if order.type_time == c.ORDER_TIME_DAY:
        return (order.time_setup_msc // MS_PER_DAY + 1) * MS_PER_DAY
    if order.type_time in (c.ORDER_TIME_SPECIFIED, c.ORDER_TIME_SPECIFIED_DAY) and order.time_expiration:
        return order.time_expiration * 1000
    return _NEVER


def _position_hit(position: Position, ticks: TickArrays, start: int) -> tuple[int, int]:
    """(tick index, DEAL_REASON_SL/TP) of the first stop hit, or (_NEVER, 0)."""
    buy = position.type == c.POSITION_TYPE_BUY
    price = ticks.bid if buy else ticks.ask
    best = (_NEVER, 0)
    if position.sl:
        hit = _first(price <= position.sl if buy else price >= position.sl, start)
        best = min(best, (hit, c.DEAL_REASON_SL))
    if position.tp:
        hit = _first(price >= position.tp if buy else price <= position.tp, start)
        best = min(best, (hit, c.DEAL_REASON_TP))
    return best


def _stop_out_hit(b: Broker, account: Account, symbol: str, ticks: TickArrays, start: int) -> int:
    """First tick at which ``account``'s margin level falls below its stop-out level."""
    figures = b.figures(account)
    if figures.margin <= 0:
        return _NEVER
    spec = b.specs[symbol]
    mine = [p for p in b.ledger.account_positions(account.login) if p.symbol == symbol]
    rate = b.rates.rate(spec.profit, account.currency)
    swing = float(max(ticks.ask[start:].max() - ticks.bid[start:].min(), 0.0))
    worst_loss = sum(p.volume for p in mine) * spec.contract_size * rate * swing
    if (figures.equity - worst_loss) / figures.margin * 100 >= account.margin_so_so:
        return _NEVER  # no price in these ticks can bring the account to its stop-out level
    rest = figures.equity - sum(b.position_profit(p, account)[1] + p.swap for p in mine)
    equity = np.full(len(ticks) - start, rest)
    for p in mine:
        buy = p.type == c.POSITION_TYPE_BUY
        price = (ticks.bid if buy else ticks.ask)[start:]
        equity += (
            ((price - p.price_open) if buy else (p.price_open - price)) * p.volume * spec.contract_size * rate
        )
        equity += p.swap
    below = np.flatnonzero(equity / figures.margin * 100 < account.margin_so_so)
    return int(below[0]) + start if len(below) else _NEVER


Event = tuple[int, int, object, int]  # (tick index, priority, order/position/account, reason)


def _next_event(b: Broker, symbol: str, ticks: TickArrays, start: int) -> Event | None:
    """The earliest event of ``symbol`` at or after tick ``start``: expiry, fill, SL/TP or stop-out."""
    best: Event = (_NEVER, 0, None, 0)

    def keep(event: Event) -> None:
        nonlocal best
        best = min(best, event, key=lambda e: (e[0], e[1]))

    for order in [o for o in b.ledger.orders.values() if o.symbol == symbol]:
        expiry = _expiry_ms(order)
        if expiry != _NEVER:
            index = int(np.searchsorted(ticks.time_msc, expiry, "left"))
            if index < len(ticks):
                keep((max(index, start), 0, order, -1))
        keep((_order_hit(order, ticks, start), 1, order, 0))
    holders = set()
    for position in [p for p in b.ledger.positions.values() if p.symbol == symbol]:
        holders.add(position.login)
        if position.sl or position.tp:
            index, reason = _position_hit(position, ticks, start)
            keep((index, 2, position, reason))
    for login in holders:
        account = b.ledger.accounts[login]
        keep((_stop_out_hit(b, account, symbol, ticks, start), 3, account, 0))
    return best if best[0] < len(ticks) else None


def run_symbol(b: Broker, symbol: str, ticks: TickArrays) -> int:
    """Apply every expiry, pending-order, SL/TP and stop-out event of ``symbol`` in these ticks."""
    events = 0
    start = 0
    while start < len(ticks):
        event = _next_event(b, symbol, ticks, start)
        if event is None:
            break
        index, _, item, reason = event
        now = int(ticks.time_msc[index])
        bid, ask = float(ticks.bid[index]), float(ticks.ask[index])
        if isinstance(item, Order):
            if reason == -1:
                finish_order(b, item, c.ORDER_STATE_EXPIRED, now)
            else:
                _trigger_order(b, item, bid, ask, now)
        elif isinstance(item, Position):
            close_position(b, item, bid, ask, now, reason)
        elif isinstance(item, Account):
            _stop_out_at(b, item, symbol, bid, ask, now)
        events += 1
        start = index if isinstance(item, Order) and item.ticket in b.ledger.orders else index + 1
    return events


def _trigger_order(b: Broker, order: Order, bid: float, ask: float, now_ms: int) -> None:
    spec = b.specs[order.symbol]
    if order.type in (c.ORDER_TYPE_BUY_STOP_LIMIT, c.ORDER_TYPE_SELL_STOP_LIMIT):
        # The stop price was reached: the order becomes a limit order at its stop-limit price.
        order.type = (
            c.ORDER_TYPE_BUY_LIMIT if order.type == c.ORDER_TYPE_BUY_STOP_LIMIT else c.ORDER_TYPE_SELL_LIMIT
        )
        order.price_open, order.price_stoplimit = order.price_stoplimit, 0.0
        b.ledger.put_order(order)
        return
    account = b.ledger.accounts[order.login]
    buy = is_buy(order.type)
    side = c.POSITION_TYPE_BUY if buy else c.POSITION_TYPE_SELL
    limit = order.type in (c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_SELL_LIMIT)
    price = order.price_open if limit else (ask if buy else bid)
    figures = b.figures(account)
    needed = margin(spec, side, order.volume_current, price, account.leverage, account.currency, b.rates)
    opposite = None if account.hedging else b.ledger.netting_position(account.login, spec.name)
    if (opposite is None or opposite.type == side) and figures.margin_free < needed:
        finish_order(b, order, c.ORDER_STATE_REJECTED, now_ms)  # no money when it triggered
        return
    fill(b, account, spec, order, side, order.volume_current, price, now_ms, None, c.DEAL_REASON_EXPERT)


def close_position(b: Broker, position: Position, bid: float, ask: float, now_ms: int, reason: int) -> None:
    """Close a whole position at market for the server's own reasons (SL, TP, stop-out)."""
    spec = b.specs[position.symbol]
    account = b.ledger.accounts[position.login]
    buy = position.type == c.POSITION_TYPE_BUY
    price = bid if buy else ask
    tag = {c.DEAL_REASON_SL: "sl", c.DEAL_REASON_TP: "tp", c.DEAL_REASON_SO: "so"}[reason]
    level = {c.DEAL_REASON_SL: position.sl, c.DEAL_REASON_TP: position.tp}.get(reason)
    comment = (
        f"[{tag} {level:.{spec.digits}f}]" if level else f"[{tag} {b.figures(account).margin_level:.2f}%]"
    )
    order = Order(
        ticket=b.ledger.order_ticket(),
        login=account.login,
        symbol=spec.name,
        type=c.ORDER_TYPE_SELL if buy else c.ORDER_TYPE_BUY,
        volume_initial=position.volume,
        volume_current=position.volume,
        price_open=price,
        time_setup_msc=now_ms,
        position_id=position.identifier,
        magic=position.magic,
        reason=reason,
        comment=comment[:31],
    )
    fill(b, account, spec, order, 1 - position.type, position.volume, price, now_ms, position, reason)


def _stop_out_at(b: Broker, account: Account, symbol: str, bid: float, ask: float, now_ms: int) -> None:
    """Stop-out on a tick of ``symbol``: close the account's most losing position at that moment."""

    def loss(p: Position) -> float:
        return b.position_profit(p, account, (bid, ask) if p.symbol == symbol else None)[1]

    worst = min(b.ledger.account_positions(account.login), key=loss)
    quote = (bid, ask) if worst.symbol == symbol else b.quote(worst.symbol)
    if quote is not None:
        close_position(b, worst, quote[0], quote[1], now_ms, c.DEAL_REASON_SO)


def stop_out(b: Broker, account: Account, now_ms: int) -> int:
    """Close the most losing positions while the margin level is below margin_so_so; returns how many."""
    closed = 0
    while True:
        figures = b.figures(account)
        if figures.margin <= 0 or figures.margin_level >= account.margin_so_so:
            return closed
        positions = b.ledger.account_positions(account.login)
        open_markets = [p for p in positions if b.market_open(p.symbol, now_ms)]
        if not open_markets:
            return closed
        worst = min(open_markets, key=lambda p: b.position_profit(p, account)[1])
        quote = b.quote(worst.symbol)
        if quote is None:
            return closed
        close_position(b, worst, quote[0], quote[1], now_ms, c.DEAL_REASON_SO)
        closed += 1


def charge_swaps(b: Broker, day: int) -> int:
    """Rollover at 00:00 starting epoch day ``day``: swap on every open position (x3 into Thursday)."""
    previous = weekday(day - 1)
    charged = 0
    for position in list(b.ledger.positions.values()):
        spec = b.specs[position.symbol]
        if previous >= 5 and spec.sessions != "crypto":
            continue
        account = b.ledger.accounts[position.login]
        points = spec.swap_long if position.type == c.POSITION_TYPE_BUY else spec.swap_short
        times = 3 if previous == 2 and spec.sessions != "crypto" else 1
        amount = points * spec.point * spec.contract_size * position.volume * times
        rate = b.rates.rate(spec.profit, account.currency)
        position.swap = round(position.swap + amount * rate, 2)
        b.ledger.put_position(position)
        charged += 1
    return charged
