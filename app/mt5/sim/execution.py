"""Carrying out trades on the books: fills, deals, positions, order history, balance.

One :func:`fill` serves every execution (a market request, a triggered pending order, SL/TP, a
stop-out), so entries, commission, swap and tickets follow the same rules everywhere: the position
ticket is the ticket of the order that opened it, each fill adds one deal with entry IN, OUT or
INOUT, and the balance moves by exactly the deal's profit + commission + swap.
"""

from __future__ import annotations

from typing import Any

from app.mt5.sim import constants as c
from app.mt5.sim.broker import Broker
from app.mt5.sim.ledger import Account, Deal, Order, Position
from app.mt5.sim.money import margin, profit
from app.mt5.sim.requests import EPS, Plan, netting_result, required
from app.mt5.sim.symbols import SymbolSpec

DONE = c.TRADE_RETCODE_DONE


def commission(account: Account, spec: SymbolSpec, volume: float) -> float:
    return -round(account.commission_per_lot * volume, 2) if spec.commissioned else 0.0


def _deal_type(side: int) -> int:
    return c.DEAL_TYPE_BUY if side == c.POSITION_TYPE_BUY else c.DEAL_TYPE_SELL


def _close_part(
    b: Broker, account: Account, spec: SymbolSpec, position: Position, volume: float, price: float
) -> tuple[float, float]:
    """Take ``volume`` off ``position``; returns (profit, swap) of that part in account currency."""
    gained = profit(spec, position.type, volume, position.price_open, price, account.currency, b.rates)
    share = min(1.0, volume / position.volume)
    swap = round(position.swap * share, 2)
    rest = round(position.volume - volume, 8)
    if rest <= EPS:
        b.ledger.drop_position(position.ticket)
    else:
        position.margin = round(position.margin * rest / position.volume, 2)
        position.swap = round(position.swap - swap, 2)
        position.volume = rest
        b.ledger.put_position(position)
    return gained, swap


def fill(
    b: Broker,
    account: Account,
    spec: SymbolSpec,
    order: Order,
    side: int,
    volume: float,
    price: float,
    now_ms: int,
    target: Position | None,
    deal_reason: int,
) -> Deal:
    """Execute ``volume`` of ``order`` at ``price``; archive the order as filled; return the deal."""
    ledger = b.ledger
    new_margin = margin(spec, side, volume, price, account.leverage, account.currency, b.rates)
    deal = Deal(
        ticket=ledger.deal_ticket(),
        login=account.login,
        order=order.ticket,
        time_msc=now_ms,
        type=_deal_type(side),
        entry=c.DEAL_ENTRY_IN,
        volume=volume,
        price=price,
        symbol=spec.name,
        magic=order.magic,
        reason=deal_reason,
        comment=order.comment,
        commission=commission(account, spec, volume),
    )
    if target is None and not account.hedging:
        target = ledger.netting_position(account.login, spec.name)
    if target is None:
        opened = Position(
            ticket=order.ticket,
            login=account.login,
            symbol=spec.name,
            type=side,
            volume=volume,
            price_open=price,
            time_msc=now_ms,
            time_update_msc=now_ms,
            margin=new_margin,
            sl=order.sl,
            tp=order.tp,
            magic=order.magic,
            reason=order.reason,
            comment=order.comment,
        )
        ledger.put_position(opened)
        deal.position_id = opened.identifier
    elif target.type == side:  # netting: add to the position
        total = round(target.volume + volume, 8)
        target.price_open = round(
            (target.price_open * target.volume + price * volume) / total, spec.digits + 3
        )
        target.volume = total
        target.margin = round(target.margin + new_margin, 2)
        target.time_update_msc = now_ms
        if order.sl or order.tp:
            target.sl, target.tp = order.sl, order.tp
        ledger.put_position(target)
        deal.position_id = target.identifier
    else:
        deal.position_id = target.identifier
        closed_volume = min(volume, target.volume)
        held = target.volume
        result = (
            netting_result(spec, target, side, volume, price, new_margin) if not account.hedging else None
        )
        deal.profit, deal.swap = _close_part(b, account, spec, target, closed_volume, price)
        deal.entry = c.DEAL_ENTRY_OUT
        if volume > held + EPS and result is not None:  # netting reversal: the position flips
            deal.entry = c.DEAL_ENTRY_INOUT
            target.type, target.volume, target.margin = result
            target.price_open, target.time_update_msc = price, now_ms
            target.sl, target.tp, target.swap = order.sl, order.tp, 0.0
            ledger.put_position(target)
    ledger.add_deal(deal)
    order.state = c.ORDER_STATE_FILLED
    order.time_done_msc = now_ms
    order.volume_current = 0.0
    order.price_current = price
    order.position_id = deal.position_id
    ledger.drop_order(order.ticket)
    ledger.archive_order(order)
    return deal


def send_result(
    retcode: int,
    request_row: tuple[Any, ...],
    request_id: int,
    *,
    deal: int = 0,
    order: int = 0,
    volume: float = 0.0,
    price: float = 0.0,
    bid: float = 0.0,
    ask: float = 0.0,
    comment: str = "",
) -> tuple[Any, ...]:
    """OrderSendResult field values."""
    return (retcode, deal, order, volume, price, bid, ask, comment, request_id, 0, request_row)


def execute(b: Broker, account: Account, plan: Plan, now_ms: int, request_id: int) -> tuple[Any, ...]:
    """Carry out a validated plan; returns OrderSendResult field values."""
    req = plan.req
    text = "Request executed"
    ledger = b.ledger
    spec = required(plan.spec)
    if req.action == c.TRADE_ACTION_DEAL:
        side = c.POSITION_TYPE_BUY if req.type == c.ORDER_TYPE_BUY else c.POSITION_TYPE_SELL
        order = Order(
            ticket=ledger.order_ticket(),
            login=account.login,
            symbol=spec.name,
            type=req.type,
            volume_initial=req.volume,
            volume_current=req.volume,
            price_open=plan.price,
            time_setup_msc=now_ms,
            sl=0.0 if plan.target and plan.target.type != side else req.sl,
            tp=0.0 if plan.target and plan.target.type != side else req.tp,
            type_filling=req.type_filling,
            magic=req.magic,
            comment=req.comment,
            position_id=plan.target.identifier if plan.target else 0,
        )
        deal = fill(
            b, account, spec, order, side, req.volume, plan.price, now_ms, plan.target, c.DEAL_REASON_EXPERT
        )
        return send_result(
            DONE,
            req.row(),
            request_id,
            deal=deal.ticket,
            order=order.ticket,
            volume=req.volume,
            price=plan.price,
            bid=plan.bid,
            ask=plan.ask,
            comment=text,
        )
    if req.action == c.TRADE_ACTION_PENDING:
        order = Order(
            ticket=ledger.order_ticket(),
            login=account.login,
            symbol=spec.name,
            type=req.type,
            volume_initial=req.volume,
            volume_current=req.volume,
            price_open=req.price,
            time_setup_msc=now_ms,
            sl=req.sl,
            tp=req.tp,
            price_stoplimit=req.stoplimit,
            type_time=req.type_time,
            time_expiration=req.expiration
            if req.type_time in (c.ORDER_TIME_SPECIFIED, c.ORDER_TIME_SPECIFIED_DAY)
            else 0,
            type_filling=req.type_filling,
            magic=req.magic,
            comment=req.comment,
        )
        ledger.put_order(order)
        return send_result(
            DONE,
            req.row(),
            request_id,
            order=order.ticket,
            volume=req.volume,
            bid=plan.bid,
            ask=plan.ask,
            comment=text,
        )
    if req.action == c.TRADE_ACTION_SLTP:
        target = required(plan.target)
        target.sl, target.tp = req.sl, req.tp
        ledger.put_position(target)
        return send_result(DONE, req.row(), request_id, bid=plan.bid, ask=plan.ask, comment=text)
    if req.action == c.TRADE_ACTION_MODIFY:
        order = required(plan.order)
        order.price_open, order.sl, order.tp, order.price_stoplimit = req.price, req.sl, req.tp, req.stoplimit
        order.type_time = req.type_time
        order.time_expiration = (
            req.expiration if req.type_time in (c.ORDER_TIME_SPECIFIED, c.ORDER_TIME_SPECIFIED_DAY) else 0
        )
        ledger.put_order(order)
        return send_result(
            DONE,
            req.row(),
            request_id,
            order=order.ticket,
            volume=order.volume_current,
            price=req.price,
            bid=plan.bid,
            ask=plan.ask,
            comment=text,
        )
    if req.action == c.TRADE_ACTION_REMOVE:
        order = required(plan.order)
        finish_order(b, order, c.ORDER_STATE_CANCELED, now_ms)
        return send_result(
            DONE, req.row(), request_id, order=order.ticket, bid=plan.bid, ask=plan.ask, comment=text
        )
    return _close_by(b, account, plan, now_ms, request_id)


def finish_order(b: Broker, order: Order, state: int, now_ms: int) -> None:
    """Move an active order to the history as canceled, expired or rejected."""
    order.state = state
    order.time_done_msc = now_ms
    quote = b.quote(order.symbol)
    if quote is not None:
        order.price_current = quote[1] if order.type % 2 == 0 else quote[0]
    b.ledger.drop_order(order.ticket)
    b.ledger.archive_order(order)


def _close_by(b: Broker, account: Account, plan: Plan, now_ms: int, request_id: int) -> tuple[Any, ...]:
    position, by, spec = required(plan.target), required(plan.target_by), required(plan.spec)
    volume = min(position.volume, by.volume)
    price = by.price_open
    order = Order(
        ticket=b.ledger.order_ticket(),
        login=account.login,
        symbol=spec.name,
        type=c.ORDER_TYPE_CLOSE_BY,
        volume_initial=volume,
        price_open=0.0,
        time_setup_msc=now_ms,
        state=c.ORDER_STATE_FILLED,
        time_done_msc=now_ms,
        position_id=position.identifier,
        position_by_id=by.identifier,
        magic=plan.req.magic,
        comment=plan.req.comment,
        price_current=price,
    )
    b.ledger.archive_order(order)
    first = 0
    for closed in (position, by):
        deal = Deal(
            ticket=b.ledger.deal_ticket(),
            login=account.login,
            order=order.ticket,
            time_msc=now_ms,
            type=_deal_type(1 - closed.type),
            entry=c.DEAL_ENTRY_OUT_BY,
            volume=volume,
            price=price,
            symbol=spec.name,
            position_id=closed.identifier,
            magic=plan.req.magic,
            comment=plan.req.comment,
            commission=commission(account, spec, volume),
        )
        deal.profit, deal.swap = _close_part(b, account, spec, closed, volume, price)
        b.ledger.add_deal(deal)
        first = first or deal.ticket
    return send_result(
        DONE,
        plan.req.row(),
        request_id,
        deal=first,
        order=order.ticket,
        volume=volume,
        price=price,
        bid=plan.bid,
        ask=plan.ask,
        comment="Request executed",
    )
