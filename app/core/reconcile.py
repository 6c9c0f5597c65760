"""Settling an ambiguous send: what does the terminal show for this client order?

When the answer to an ``order_send`` is lost (a timeout, a disconnect, the worker killed mid-call) the
order may or may not have reached the server. It is never sent again; instead the terminal's positions,
pending orders and history are searched for the order's tag (see :mod:`app.core.client_ids`) — or, for
changes that create no order (SL/TP, a pending order's price, a removal), for the change itself.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from app.core.times import utc_now
from app.models import Deal, Order, OrderRequest, OrderResult, OrderState, Position, TradeAction
from app.mt5.client import TerminalClient

log = logging.getLogger(__name__)

# MT5's retcodes for what a found order tells (TRADE_RETCODE_DONE, TRADE_RETCODE_PLACED)
RETCODE_DONE = 10009
RETCODE_PLACED = 10008
HISTORY_SLACK = timedelta(minutes=2)


def _found(request: OrderRequest, retcode: int, name: str, order: int, deal: int, volume: float, price: float,
           how: str) -> OrderResult:  # fmt: skip
    return OrderResult(
        retcode=retcode,
        ok=True,
        deal=deal,
        order=order,
        volume=volume,
        price=price,
        bid=0.0,
        ask=0.0,
        comment=f"reconciled: {how}",
        client_id=request.client_id,
        retcode_name=name,
        extra={"reconciled": True},
    )


async def find_outcome(
    terminal: TerminalClient, request: OrderRequest, tag: str, sent_at: datetime
) -> OrderResult | None:
    """The outcome the terminal shows for ``request`` (sent at ``sent_at``), or None if no trace yet."""
    if request.action in (TradeAction.DEAL, TradeAction.PENDING):
        return await _find_by_tag(
            terminal, request, tag, sent_at - HISTORY_SLACK, utc_now() + timedelta(days=1)
        )
    finder = _CHANGE_FINDERS.get(request.action)
    return await finder(terminal, request) if finder is not None else None


async def _sltp_in_place(terminal: TerminalClient, request: OrderRequest) -> OrderResult | None:
    positions: list[Position] = await terminal.call("positions", ticket=request.position)
    for position in positions:
        if abs(position.sl - request.sl) < 1e-9 and abs(position.tp - request.tp) < 1e-9:
            return _found(request, RETCODE_DONE, "DONE", 0, 0, 0.0, 0.0, "SL/TP in place")
    return None


async def _order_changed(terminal: TerminalClient, request: OrderRequest) -> OrderResult | None:
    orders: list[Order] = await terminal.call("orders", ticket=request.order)
    for order in orders:
        same = (order.price_open, order.sl, order.tp)
        if all(abs(a - b) < 1e-9 for a, b in zip(same, (request.price, request.sl, request.tp), strict=True)):
            return _found(
                request, RETCODE_DONE, "DONE", order.ticket, 0, 0.0, order.price_open, "order changed"
            )
    return None


async def _order_removed(terminal: TerminalClient, request: OrderRequest) -> OrderResult | None:
    if await terminal.call("orders", ticket=request.order):
        return None
    history: list[Order] = await terminal.call("history_orders", ticket=request.order)
    if any(o.state is OrderState.CANCELED for o in history):
        return _found(request, RETCODE_DONE, "DONE", request.order, 0, 0.0, 0.0, "order removed")
    return None


async def _closed_by(terminal: TerminalClient, request: OrderRequest) -> OrderResult | None:
    if await terminal.call("positions", ticket=request.position):
        return None
    return _found(request, RETCODE_DONE, "DONE", 0, 0, 0.0, 0.0, "position closed by the opposite one")


_CHANGE_FINDERS = {
    TradeAction.SLTP: _sltp_in_place,
    TradeAction.MODIFY: _order_changed,
    TradeAction.REMOVE: _order_removed,
    TradeAction.CLOSE_BY: _closed_by,
}


async def _find_by_tag(
    terminal: TerminalClient, request: OrderRequest, tag: str, since: datetime, until: datetime
) -> OrderResult | None:
    deals: list[Deal] = await terminal.call("history_deals", since, until)
    mine = [d for d in deals if tag in d.comment]
    if mine:
        volume = sum(d.volume for d in mine)
        price = sum(d.price * d.volume for d in mine) / volume if volume else 0.0
        first = mine[0]
        return _found(request, RETCODE_DONE, "DONE", first.order, first.ticket, volume, price, "deal found")
    if request.action is TradeAction.PENDING:
        pending: list[Order] = await terminal.call("orders")
        for order in pending:
            if tag in order.comment:
                return _found(request, RETCODE_PLACED, "PLACED", order.ticket, 0, order.volume_initial,
                              order.price_open, "pending order found")  # fmt: skip
    history: list[Order] = await terminal.call("history_orders", since, until)
    for order in history:
        if tag in order.comment:
            if order.state in (OrderState.FILLED, OrderState.PARTIAL, OrderState.PLACED):
                retcode = RETCODE_PLACED if request.action is TradeAction.PENDING else RETCODE_DONE
                name = order.state.value.upper()
                volume, price = order.volume_initial, order.price_open
                return _found(
                    request, retcode, name, order.ticket, 0, volume, price, "order found in history"
                )
            log.info("order %s with tag %s ended %s", order.ticket, tag, order.state.value)
            return OrderResult(
                retcode=0, ok=False, deal=0, order=order.ticket, volume=0.0, price=0.0, bid=0.0, ask=0.0,
                comment=f"reconciled: the order ended {order.state.value}", client_id=request.client_id,
                retcode_name=order.state.value.upper(), extra={"reconciled": True},
            )  # fmt: skip
    return None
