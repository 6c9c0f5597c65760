"""Every order command's audit entries name what it acts on: the order's or position's own side,
type, volume and ticket — for modify, cancel, close, partial close and close-by, for each order type
and both sides — not the defaults of the request that carried the command."""

from __future__ import annotations

from typing import Any

import pytest

from app.audit import AuditEntry, AuditQuery, AuditReader, audit_dir
from app.models import Order, OrderRequest, OrderType, Position, Side, TradeAction
from tests.support.services import Services

pytestmark = pytest.mark.slow


def story(services: Services, client_id: str) -> list[AuditEntry]:
    return AuditReader(audit_dir(services.data_dir)).query(AuditQuery(client_id=client_id))


def assert_names(entries: list[AuditEntry], side: str, kind: str, volume: float, **ticket: int) -> None:
    """Every entry of the command (intent, check, result) names the same side, type, volume, ticket."""
    assert [e.action for e in entries][1:] == ["order.check", "order.result"], [e.action for e in entries]
    for entry in entries:
        p = entry.payload
        named = (p.get("type"), p.get("volume"), p.get("side"))
        assert named == (kind, pytest.approx(volume), side), (entry.action, p)
        for key, value in ticket.items():
            assert p.get(key) == value, (entry.action, key, p)


async def open_position(services: Services, side: Side, volume: float) -> Position:
    kind = OrderType.BUY if side is Side.BUY else OrderType.SELL
    result = await services.trading.place(OrderRequest(TradeAction.DEAL, "EURUSD", volume, kind))
    (position,) = await services.pool.live.call("positions", ticket=result.order)
    return position


def stoplimit_of(kind: OrderType, price: float) -> float:
    """A stop-limit's limit price: below its stop for a buy, above it for a sell (0: not a stop-limit)."""
    if kind is OrderType.BUY_STOP_LIMIT:
        return round(price - 0.0020, 5)
    if kind is OrderType.SELL_STOP_LIMIT:
        return round(price + 0.0020, 5)
    return 0.0


async def place_pending(services: Services, kind: OrderType, volume: float, offset: float) -> Order:
    tick = await services.pool.live.call("tick", "EURUSD")
    base = tick.ask if kind.side is Side.BUY else tick.bid
    price = round(base + offset, 5)
    request = OrderRequest(
        TradeAction.PENDING, "EURUSD", volume, kind, price=price, stoplimit=stoplimit_of(kind, price)
    )
    result = await services.trading.place(request)
    (order,) = await services.pool.live.call("orders", ticket=result.order)
    return order


PENDING = [
    (OrderType.SELL_STOP, 0.20, -0.0050),
    (OrderType.SELL_LIMIT, 0.30, +0.0050),
    (OrderType.BUY_STOP, 0.40, +0.0050),
    (OrderType.BUY_LIMIT, 0.50, -0.0050),
    (OrderType.BUY_STOP_LIMIT, 0.60, +0.0050),
    (OrderType.SELL_STOP_LIMIT, 0.70, -0.0050),
]


@pytest.mark.parametrize(("kind", "volume", "offset"), PENDING, ids=[k.value for k, _v, _o in PENDING])
async def test_modifying_and_cancelling_a_pending_order_name_the_order(
    services: Services, kind: OrderType, volume: float, offset: float
) -> None:
    order = await place_pending(services, kind, volume, offset)
    new_price = round(order.price_open + (0.0010 if offset > 0 else -0.0010), 5)
    stoplimit = stoplimit_of(kind, new_price)
    await services.trading.modify_order(order.ticket, new_price, 0.0, 0.0, stoplimit, client_id="modify-1")
    entries = story(services, "modify-1")
    assert entries[0].action == "order.modify"
    assert_names(entries, kind.side.value, kind.value, volume, order=order.ticket)
    intent = entries[0].payload
    assert intent["ticket"] == order.ticket and intent["price"] == pytest.approx(new_price)
    assert intent["price_before"] == pytest.approx(order.price_open)

    await services.trading.cancel_order(order.ticket, client_id="cancel-1")
    entries = story(services, "cancel-1")
    assert entries[0].action == "order.cancel"
    assert_names(entries, kind.side.value, kind.value, volume, order=order.ticket)
    assert entries[0].payload["price"] == pytest.approx(new_price)


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
async def test_modifying_and_closing_a_position_name_the_position(services: Services, side: Side) -> None:
    position = await open_position(services, side, 0.30)
    tick = await services.pool.live.call("tick", "EURUSD")
    sl = round((tick.bid - 0.0100) if side is Side.BUY else (tick.ask + 0.0100), 5)
    await services.trading.modify_position(position.ticket, sl, 0.0, client_id="sltp-1")
    entries = story(services, "sltp-1")
    assert entries[0].action == "order.modify"
    assert_names(entries, side.value, side.value, 0.30, position=position.ticket)
    assert entries[0].payload["sl"] == pytest.approx(sl) and entries[0].payload["sl_before"] == 0

    await services.trading.close_position(position.ticket, 0.10, client_id="partial-1")
    entries = story(services, "partial-1")
    assert entries[0].action == "order.close"
    assert_names(entries, side.value, side.value, 0.30, position=position.ticket)
    assert entries[0].payload["close_volume"] == pytest.approx(0.10)
    assert entries[0].payload["deal_type"] == ("sell" if side is Side.BUY else "buy")

    await services.trading.close_position(position.ticket, client_id="close-1")
    entries = story(services, "close-1")
    assert entries[0].action == "order.close"
    assert_names(entries, side.value, side.value, 0.20, position=position.ticket)  # what was left
    assert entries[0].payload["close_volume"] == pytest.approx(0.20)


async def test_close_by_names_both_positions(services: Services) -> None:
    long = await open_position(services, Side.BUY, 0.30)
    short = await open_position(services, Side.SELL, 0.10)
    await services.trading.close_by(long.ticket, short.ticket, client_id="close-by-1")
    entries = story(services, "close-by-1")
    assert entries[0].action == "order.close"
    assert_names(entries, "buy", "buy", 0.30, position=long.ticket)
    intent = entries[0].payload
    assert intent["position_by"] == short.ticket and intent["by_side"] == "sell"
    assert intent["by_volume"] == pytest.approx(0.10)


async def test_a_new_order_is_named_by_its_request(services: Services) -> None:
    await services.trading.place(
        OrderRequest(TradeAction.DEAL, "EURUSD", 0.07, OrderType.SELL, client_id="new-1")
    )
    entries = story(services, "new-1")
    assert entries[0].action == "order.intent"
    assert_names(entries, "sell", "sell", 0.07)


def test_the_journal_line_says_what_the_command_did() -> None:
    from app.core.order_audit import describe, intent_payload

    modify = OrderRequest(TradeAction.MODIFY, "EURUSD", order=77, price=1.05)
    assert describe(modify) == "modify of order #77 EURUSD"  # never "modify buy EURUSD 0.00"
    close = OrderRequest(TradeAction.DEAL, "EURUSD", 0.05, OrderType.SELL, position=12)
    assert describe(close) == "close of position #12 (0.05 lots) EURUSD"
    payload: dict[str, Any] = intent_payload(OrderRequest(TradeAction.DEAL, "EURUSD", 0.1, OrderType.BUY))
    assert payload["side"] == "buy" and "ticket" not in payload
