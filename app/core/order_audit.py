"""What an order command's audit entries and its Journal line say about it (pure functions).

A new order is described by its request. A command on something that exists — modify, cancel, close,
partial close, close-by — is described by that order or position as the terminal had it: its own
side, type, volume and ticket. The request of such a command carries none of them (a modify request
has no type or volume: read from it, a sell stop's modify would say "buy 0.00"), so they are taken
from the item acted on, with what the command changes beside them.

``subject_fields`` go into every entry of the command (intent, check, result, reconciliation), so
``audit show --client-id`` tells one story; ``intent_payload`` is the intent's whole payload.
"""

from __future__ import annotations

from typing import Any

from app.audit import Action
from app.models import Order, OrderRequest, Position, TradeAction

Subject = Position | Order


def lots(volume: float) -> str:
    return f"{volume:.2f}"


def intent_action(request: OrderRequest) -> Action:
    """The intent's action: a new order, a modify, a cancel, or a close (a deal naming a position)."""
    if request.action is TradeAction.DEAL and request.position:
        return Action.ORDER_CLOSE
    return {
        TradeAction.DEAL: Action.ORDER_INTENT,
        TradeAction.PENDING: Action.ORDER_INTENT,
        TradeAction.SLTP: Action.ORDER_MODIFY,
        TradeAction.MODIFY: Action.ORDER_MODIFY,
        TradeAction.REMOVE: Action.ORDER_CANCEL,
        TradeAction.CLOSE_BY: Action.ORDER_CLOSE,
    }[request.action]


def subject_fields(request: OrderRequest, subject: Subject | None) -> dict[str, Any]:
    """Side, type, volume and ticket of what the command is about (the new order, or the order or
    position acted on): the same in every entry of the command."""
    if isinstance(subject, Position):
        return {
            "symbol": subject.symbol,
            "side": subject.side.value,
            "type": subject.side.value,  # a position's type is its side (POSITION_TYPE_BUY/SELL)
            "volume": subject.volume,
            "position": subject.ticket,
        }
    if isinstance(subject, Order):
        return {
            "symbol": subject.symbol,
            "side": subject.type.side.value,
            "type": subject.type.value,
            "volume": subject.volume_current,
            "order": subject.ticket,
        }
    return {
        "symbol": request.symbol,
        "side": request.type.side.value,
        "type": request.type.value,
        "volume": request.volume,
    }


def intent_payload(
    request: OrderRequest, note: str = "", subject: Subject | None = None, opposite: Position | None = None
) -> dict[str, Any]:
    """The intent of a command: what it is about and what it asks for (changes beside the old values)."""
    payload: dict[str, Any] = {"action": request.action.value, **subject_fields(request, subject)}
    if subject is not None:
        payload["ticket"] = subject.ticket
    if isinstance(subject, Position):
        payload["price_open"] = subject.price_open
        if request.action is TradeAction.SLTP:
            payload |= {"sl": request.sl, "tp": request.tp, "sl_before": subject.sl, "tp_before": subject.tp}
        elif request.action is TradeAction.CLOSE_BY:
            payload["position_by"] = request.position_by
            if opposite is not None:
                payload |= {
                    "by_side": opposite.side.value,
                    "by_volume": opposite.volume,
                    "by_price_open": opposite.price_open,
                }
        else:  # a close by an opposite deal: all of it or a part
            payload |= {
                "close_volume": request.volume,
                "deal_type": request.type.value,
                "price": request.price,
                "deviation": request.deviation,
            }
    elif isinstance(subject, Order):
        if request.action is TradeAction.MODIFY:
            payload |= {
                "price": request.price,
                "sl": request.sl,
                "tp": request.tp,
                "price_before": subject.price_open,
                "sl_before": subject.sl,
                "tp_before": subject.tp,
            }
            if request.stoplimit or subject.price_stoplimit:
                payload |= {"stoplimit": request.stoplimit, "stoplimit_before": subject.price_stoplimit}
        else:  # cancelled as it stands
            payload |= {"price": subject.price_open, "sl": subject.sl, "tp": subject.tp}
    else:
        payload |= {
            "price": request.price,
            "sl": request.sl,
            "tp": request.tp,
            "deviation": request.deviation,
            "comment": request.comment,
        }
        for name in ("position", "position_by", "order", "stoplimit", "magic"):
            value = getattr(request, name)
            if value:
                payload[name] = value
    if note:
        payload["note"] = note
    return payload


def describe(request: OrderRequest) -> str:
    """One line for the Journal about a command that went through (from its request alone)."""
    kind = request.type.value.replace("_", " ")
    if request.action is TradeAction.DEAL and request.position:
        return f"close of position #{request.position} ({lots(request.volume)} lots) {request.symbol}"
    if request.action is TradeAction.DEAL:
        return f"{kind} {lots(request.volume)} {request.symbol}"
    if request.action is TradeAction.PENDING:
        return f"{kind} {lots(request.volume)} {request.symbol} at {request.price:g}"
    if request.action is TradeAction.SLTP:
        return f"SL/TP of position #{request.position} {request.symbol}"
    if request.action is TradeAction.MODIFY:
        return f"modify of order #{request.order} {request.symbol}"
    if request.action is TradeAction.REMOVE:
        return f"cancel of order #{request.order} {request.symbol}"
    return f"close of position #{request.position} by #{request.position_by} {request.symbol}"
