"""``/api/place``, ``/api/close``, ``/api/modify`` and ``/api/cancel`` in the trading service's terms.

The trading service is the one choke point: it validates, applies the risk limits, records intent and
result in the audit trail under the ``actor`` given (``api:<user>``), and is idempotent by client id —
the API's ``uuid``. Decided here: the confidence floor (``server.min_confidence``, which ``force``
overrides — and nothing else), and how a body becomes an :class:`OrderRequest`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.core.account_state import AccountState
from app.core.scoped import GuardedTrading
from app.core.trading import TradingService
from app.models import OrderRequest, OrderResult, OrderType, Side, TerminalError, TradeAction
from app.server.auth import User
from app.server.errors import ApiError, not_found, order_error
from app.server.schemas import ModifyRequest, PlaceRequest, PlaceResponse, TradeResponse

Trading = TradingService | GuardedTrading


def check_confidence(body: PlaceRequest, minimum: float) -> None:
    if body.confidence is not None and body.confidence < minimum and not body.force:
        raise ApiError(
            422,
            f"confidence {body.confidence:g} is below the minimum {minimum:g}: send force=true to place "
            "it anyway",
            "low_confidence",
            {"confidence": body.confidence, "min_confidence": minimum},
        )


def order_request(body: PlaceRequest) -> OrderRequest:
    side = Side(body.side)
    if body.type == "market":
        return OrderRequest(
            action=TradeAction.DEAL,
            symbol=body.symbol,
            volume=body.volume,
            type=OrderType.BUY if side is Side.BUY else OrderType.SELL,
            price=body.price or 0.0,
            client_id=body.uuid or "",
        )
    if body.price is None:
        raise ApiError(422, f"a {body.type} order needs a price", "invalid_order", {"field": "price"})
    return OrderRequest(
        action=TradeAction.PENDING,
        symbol=body.symbol,
        volume=body.volume,
        type=OrderType.pending(side, body.type),
        price=body.price,
        client_id=body.uuid or "",
    )


def audit_note(body: PlaceRequest) -> str:
    """What the trail keeps besides the order: where it came from and the caller's note."""
    parts = []
    if body.source:
        parts.append(f"source={body.source}")
    if body.confidence is not None:
        parts.append(f"confidence={body.confidence:g}")
    if body.force:
        parts.append("force")
    if body.audit_note:
        parts.append(body.audit_note)
    return "; ".join(parts)


VERDICTS = {
    "filled": "sent and filled",
    "pending": "sent and placed as a pending order",
    "done": "sent and carried out",
    "rejected": "sent and rejected",
}


def describe(result: OrderResult) -> str:
    what = f"{result.retcode_name or result.retcode}: order {result.order}"
    if result.deal:
        what += f", deal {result.deal} at {result.price:g}"
    verdict = VERDICTS.get(str(result.extra.get("verdict", "")))
    if verdict:
        what += f"; its outcome was lost and found again: {verdict}"
    if result.duplicate:
        what += f" (uuid {result.client_id} was placed before: this is its first outcome, nothing was sent)"
    elif result.extra.get("resent") == "not_sent":
        what += f" (uuid {result.client_id} had not been sent before — the app stopped first — so it was now)"
    return what


@contextmanager
def resend_told() -> Iterator[None]:
    """A failed order command answers what sending its uuid again would do (``details.resend``)."""
    try:
        yield
    except TerminalError as exc:
        raise order_error(exc) from None


async def place(trading: Trading, body: PlaceRequest, user: User, min_confidence: float) -> PlaceResponse:
    with resend_told():
        return await _place(trading, body, user, min_confidence)


async def _place(trading: Trading, body: PlaceRequest, user: User, min_confidence: float) -> PlaceResponse:
    check_confidence(body, min_confidence)
    request = trading.with_points(order_request(body), body.sl or None, body.tp or None)
    if body.dry_run:
        check = await trading.check(request, actor=user.actor)
        verdict = check.retcode_name or str(check.retcode)
        message = f"check passed: margin {check.margin:g}, free margin after {check.margin_free:g}"
        if not check.ok:
            message = f"check failed: {verdict}: {check.comment}"
        return PlaceResponse(success=check.ok, ticket=None, message=message, dry_run=True)
    result = await trading.place(request, actor=user.actor, note=audit_note(body))
    return PlaceResponse(
        success=result.ok, ticket=result.order or None, message=describe(result), dry_run=False
    )


async def close(trading: Trading, ticket: int, volume: float | None, user: User, note: str) -> TradeResponse:
    with resend_told():
        result = await trading.close_position(ticket, volume, actor=user.actor, note=note)
    return TradeResponse(success=result.ok, ticket=ticket, message=describe(result))


async def modify(trading: Trading, state: AccountState, body: ModifyRequest, user: User) -> TradeResponse:
    """SL/TP of a position, or price/SL/TP of a pending order (found in the cached account state)."""
    with resend_told():
        return await _modify(trading, state, body, user)


async def _modify(trading: Trading, state: AccountState, body: ModifyRequest, user: User) -> TradeResponse:
    ticket = body.order_id
    position = next((p for p in state.positions if p.ticket == ticket), None)
    if position is not None:
        if body.price is not None:
            raise ApiError(422, "a position's price cannot change", "invalid_order", {"field": "price"})
        sl = position.sl if body.sl is None else body.sl
        tp = position.tp if body.tp is None else body.tp
        result = await trading.modify_position(ticket, sl, tp, actor=user.actor, note=body.audit_note)
        return TradeResponse(success=result.ok, ticket=ticket, message=describe(result))
    order = next((o for o in state.orders if o.ticket == ticket), None)
    if order is None:
        raise not_found(f"position or pending order {ticket}")
    result = await trading.modify_order(
        ticket,
        order.price_open if body.price is None else body.price,
        order.sl if body.sl is None else body.sl,
        order.tp if body.tp is None else body.tp,
        order.price_stoplimit,
        actor=user.actor,
        note=body.audit_note,
    )
    return TradeResponse(success=result.ok, ticket=ticket, message=describe(result))


async def cancel(trading: Trading, state: AccountState, ticket: int, user: User, note: str) -> TradeResponse:
    """Remove a pending order; a ticket that is no pending order of the live account is a 404."""
    if not any(o.ticket == ticket for o in state.orders):
        raise not_found(f"pending order {ticket}")
    with resend_told():
        result = await trading.cancel_order(ticket, actor=user.actor, note=note)
    return TradeResponse(success=result.ok, ticket=ticket, message=describe(result))
