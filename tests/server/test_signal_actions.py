"""Every webhook action through the real server on the simulator, each with what the terminal holds
afterwards: close partial, modify SL/TP, cancel pending, close all, flat, reverse, and risk sizing (the
volume worked out from the balance and the SL distance is the volume of the sim's position). Each
action's bad input is refused with its reason, and nothing on the terminal changes.

Each test trades its own symbol (close all aside, which runs last and alone), so the tests of this
module do not see each other's positions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from app.models import Order, Position
from tests.server.conftest import Running, start_runtime, stop_runtime

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

HOOK = "tv-actions"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    settings = {"signals": {"max_per_minute": 1000}, "trading": {"limits": {"max_orders_per_second": 0}}}
    started = await start_runtime(tmp_path_factory.mktemp("signal-actions"), sections=settings)
    yield started
    await stop_runtime(started)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def http(running: Running) -> AsyncIterator[httpx.AsyncClient]:
    token = await running.login()
    async with running.client(token) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def secret(http: httpx.AsyncClient) -> str:
    answer = await http.post("/api/webhooks", json={"name": HOOK, "mode": "auto"})
    assert answer.status_code == 201, answer.text
    made: str = answer.json()["secret"]
    return made


async def positions(running: Running, symbol: str | None = None) -> list[Position]:
    found: list[Position] = await running.runtime.pool.live.call("positions")
    return [p for p in found if symbol is None or p.symbol == symbol]


async def pending(running: Running, symbol: str) -> list[Order]:
    found: list[Order] = await running.runtime.pool.live.call("orders")
    return [o for o in found if o.symbol == symbol]


async def alert(running: Running, secret: str, **fields: Any) -> dict[str, Any]:
    """One TradingView-shaped alert to the auto webhook (a fresh uuid unless given); its record."""
    body = {"secret": secret, "uuid": f"act-{uuid.uuid4().hex[:12]}", **fields}
    async with running.client() as anonymous:  # TradingView sends no token
        answer = await anonymous.post(f"/api/webhooks/{HOOK}", json=body)
    assert answer.status_code == 200, answer.text
    record: dict[str, Any] = answer.json()
    return record


async def opened(
    running: Running, secret: str, symbol: str, action: str = "buy", volume: float = 0.05
) -> Position:
    """A position opened by an alert, as the terminal holds it."""
    before = {p.ticket for p in await positions(running, symbol)}
    record = await alert(running, secret, action=action, symbol=symbol, volume=volume)
    assert record["status"] == "executed", record["message"]
    (position,) = [p for p in await positions(running, symbol) if p.ticket not in before]
    return position


def facts(found: list[Position]) -> list[tuple[int, str, float, float, float]]:
    return sorted((p.ticket, p.side.value, p.volume, p.sl, p.tp) for p in found)


async def test_close_partial_closes_that_volume_and_refuses_more_than_the_position(
    running: Running, secret: str
) -> None:
    position = await opened(running, secret, "USDCHF", volume=0.05)
    record = await alert(running, secret, action="close_partial", ticket=position.ticket, volume=0.02)
    assert record["status"] == "executed", record
    assert record["ticket"] == position.ticket
    (left,) = await positions(running, "USDCHF")
    assert (left.ticket, left.volume) == (position.ticket, 0.03)

    before = facts(await positions(running, "USDCHF"))
    too_much = await alert(running, secret, action="close_partial", ticket=position.ticket, volume=0.5)
    assert too_much["status"] == "rejected", too_much
    assert "cannot close 0.5" in too_much["message"] and "holds 0.03" in too_much["message"], too_much
    unknown = await alert(running, secret, action="close_partial", ticket=987654321, volume=0.01)
    assert unknown["status"] == "rejected", unknown
    assert "987654321" in unknown["message"] and "no open position" in unknown["message"]
    assert facts(await positions(running, "USDCHF")) == before  # nothing changed
    async with running.client() as anonymous:  # no volume at all: the field is named, nothing stored
        bad = await anonymous.post(
            f"/api/webhooks/{HOOK}",
            json={"secret": secret, "action": "close_partial", "ticket": position.ticket, "volume": -1},
        )
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "volume"
    assert facts(await positions(running, "USDCHF")) == before


async def test_modify_sets_sl_and_tp_and_refuses_an_unknown_ticket_or_a_wrong_side(
    running: Running, secret: str
) -> None:
    position = await opened(running, secret, "NZDUSD", volume=0.01)
    tick = await running.runtime.pool.live.call("tick", "NZDUSD")
    sl, tp = round(tick.bid - 0.0100, 5), round(tick.bid + 0.0100, 5)
    record = await alert(running, secret, action="modify", ticket=position.ticket, sl=sl, tp=tp)
    assert record["status"] == "executed", record
    (changed,) = await positions(running, "NZDUSD")
    assert (changed.ticket, changed.sl, changed.tp) == (position.ticket, sl, tp)

    before = facts(await positions(running, "NZDUSD"))
    unknown = await alert(running, secret, action="modify", ticket=987654321, sl=sl)
    assert unknown["status"] == "rejected", unknown
    assert "no open position 987654321 to modify" in unknown["message"]
    wrong_side = await alert(
        running, secret, action="modify", ticket=position.ticket, sl=round(tick.ask + 0.01, 5)
    )
    assert wrong_side["status"] == "rejected", wrong_side
    assert "stop loss" in wrong_side["message"] and "must be below" in wrong_side["message"], wrong_side
    assert facts(await positions(running, "NZDUSD")) == before  # the SL/TP set above, untouched


async def test_cancel_removes_the_pending_order_and_refuses_an_unknown_ticket(
    running: Running, http: httpx.AsyncClient, secret: str
) -> None:
    tick = await running.runtime.pool.live.call("tick", "EURGBP")
    placed = await http.post(
        "/api/place",
        json={"symbol": "EURGBP", "side": "buy", "volume": 0.01, "type": "limit",
              "price": round(tick.bid - 0.0200, 5)},
    )  # fmt: skip
    assert placed.status_code == 200 and placed.json()["success"], placed.text
    ticket = placed.json()["ticket"]
    assert [o.ticket for o in await pending(running, "EURGBP")] == [ticket]

    unknown = await alert(running, secret, action="cancel", ticket=987654321)
    assert unknown["status"] == "rejected", unknown
    assert "no pending order 987654321 to cancel" in unknown["message"]
    assert [o.ticket for o in await pending(running, "EURGBP")] == [ticket]  # nothing changed

    record = await alert(running, secret, action="cancel", ticket=ticket)
    assert record["status"] == "executed", record
    assert record["ticket"] == ticket and f"cancelled {ticket}" in record["message"]
    assert await pending(running, "EURGBP") == []
    again = await alert(running, secret, action="cancel", symbol="EURGBP")  # none left on the symbol
    assert again["status"] == "rejected" and "no pending order on EURGBP" in again["message"]


async def test_flat_closes_only_that_symbols_positions(running: Running, secret: str) -> None:
    first = await opened(running, secret, "USDCAD", volume=0.01)
    second = await opened(running, secret, "USDCAD", action="sell", volume=0.02)
    other = await opened(running, secret, "AUDUSD", volume=0.01)
    record = await alert(running, secret, action="flat", symbol="USDCAD")
    assert record["status"] == "executed", record
    assert f"closed {first.ticket}" in record["message"] and f"closed {second.ticket}" in record["message"]
    assert await positions(running, "USDCAD") == []
    assert [p.ticket for p in await positions(running, "AUDUSD")] == [other.ticket]  # another symbol: kept
    nothing = await alert(running, secret, action="flat", symbol="USDCAD")
    assert nothing["status"] == "executed" and "nothing to do" in nothing["message"]
    await alert(running, secret, action="flat", symbol="AUDUSD")
    assert await positions(running, "AUDUSD") == []


async def test_reverse_closes_the_long_and_opens_a_short(running: Running, secret: str) -> None:
    long = await opened(running, secret, "AUDUSD", volume=0.02)
    record = await alert(running, secret, action="reverse", symbol="AUDUSD", volume=0.03)
    assert record["status"] == "executed", record
    (short,) = await positions(running, "AUDUSD")
    assert short.ticket != long.ticket
    assert (short.side.value, short.volume) == ("sell", 0.03)
    # Reversed again without a volume: the whole net position the other way.
    back = await alert(running, secret, action="reverse", symbol="AUDUSD")
    assert back["status"] == "executed", back
    (again,) = await positions(running, "AUDUSD")
    assert (again.side.value, again.volume) == ("buy", 0.03)
    await alert(running, secret, action="flat", symbol="AUDUSD")
    # Nothing open: a reverse has nothing to turn round, and opens nothing.
    idle = await alert(running, secret, action="reverse", symbol="AUDUSD", volume=0.01)
    assert idle["status"] == "executed" and "nothing to do" in idle["message"], idle
    assert await positions(running, "AUDUSD") == []


async def test_risk_percent_sizes_the_order_from_the_equity_and_the_sl_distance(
    running: Running, secret: str
) -> None:
    live = running.runtime.pool.live
    spec = await live.call("symbol", "GBPUSD")
    account = running.runtime.account_state.account
    assert account is not None
    sl_points = 400
    loss_per_lot = sl_points * spec.point / spec.tick_size * spec.tick_value
    # A risk whose exact volume is half a step above 0.12 lots: the floating P/L moving the equity by a
    # few per cent meanwhile cannot change the lots the order gets.
    risk_percent = round(0.125 * loss_per_lot / account.equity * 100, 6)
    expected = 0.12
    assert spec.floor_volume(account.equity * risk_percent / 100 / loss_per_lot) == pytest.approx(expected)
    before = {p.ticket for p in await positions(running, "GBPUSD")}
    record = await alert(
        running, secret, action="buy", symbol="GBPUSD", risk_percent=risk_percent, sl_points=sl_points
    )
    assert record["status"] == "executed", record
    (position,) = [p for p in await positions(running, "GBPUSD") if p.ticket not in before]
    assert (position.side.value, position.volume) == ("buy", pytest.approx(expected))
    # The SL reached the order too: sl_points below the price the order was sent at.
    sent = running.sent(record["uuid"])
    assert position.sl == pytest.approx(sent["price"] - sl_points * spec.point, abs=spec.point / 10)
    await alert(running, secret, action="flat", symbol="GBPUSD")
    assert await positions(running, "GBPUSD") == []

    no_sl = await alert(running, secret, action="buy", symbol="GBPUSD", risk_percent=0.5)
    assert no_sl["status"] == "rejected" and "needs an SL" in no_sl["message"], no_sl
    tiny = await alert(running, secret, action="buy", symbol="GBPUSD", risk_percent=0.0001, sl_points=5000)
    assert tiny["status"] == "rejected" and "minimum volume" in tiny["message"], tiny
    assert await positions(running, "GBPUSD") == []  # refused: nothing placed


async def test_close_all_closes_every_position_of_the_account(running: Running, secret: str) -> None:
    await opened(running, secret, "EURUSD", volume=0.01)
    await opened(running, secret, "USDJPY", action="sell", volume=0.01)
    assert len(await positions(running)) >= 2
    record = await alert(running, secret, action="close_all")
    assert record["status"] == "executed", record
    assert await positions(running) == []
    # The same alert delivered again: its first outcome, nothing sent.
    async with running.client() as anonymous:
        again = await anonymous.post(
            f"/api/webhooks/{HOOK}", json={"secret": secret, "uuid": record["uuid"], "action": "close_all"}
        )
    assert again.json()["duplicate"] is True and again.json()["status"] == "executed"
    nothing = await alert(running, secret, action="close_all")
    assert nothing["status"] == "executed" and "nothing to do" in nothing["message"]
