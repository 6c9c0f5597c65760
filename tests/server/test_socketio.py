"""Socket.IO against the real server, with python-socketio's AsyncClient: auth at connect, channels and
the symbol filter, positions after an order, heartbeat, acknowledgements, malformed input, transports."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import socketio

from tests.server.conftest import Running
from tests.support.sim_fixtures import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

EVENTS = (
    "connected", "subscribed", "unsubscribed", "quotes", "positions_update", "orders_update",
    "account_update", "accounts_update", "logs_update", "heartbeat_ack", "error", "disconnected",
)  # fmt: skip


class Recorder:
    """An AsyncClient that records every event it gets, with the loop time it got it at."""

    def __init__(self, **client_options: Any) -> None:
        self.sio = socketio.AsyncClient(reconnection=False, **client_options)
        self.events: dict[str, list[tuple[float, Any]]] = defaultdict(list)
        for name in EVENTS:
            self.sio.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Any:
        async def record(data: Any = None) -> None:
            self.events[name].append((asyncio.get_running_loop().time(), data))

        return record

    def got(self, name: str) -> list[Any]:
        return [data for _, data in self.events[name]]

    async def connect(self, running: Running, token: str | None, **options: Any) -> None:
        auth = {"token": token} if token is not None else None
        await self.sio.connect(running.url, auth=auth, wait_timeout=10, **options)


@pytest_asyncio.fixture(loop_scope="module")
async def recorder(running: Running, token: str) -> AsyncIterator[Recorder]:
    client = Recorder()
    await client.connect(running, token)
    yield client
    await client.sio.disconnect()


@pytest.mark.parametrize("token", [None, "", "not-a-token"])
async def test_a_bad_or_missing_token_is_refused_at_connect(running: Running, token: str | None) -> None:
    client = Recorder()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(running, token)
    assert not client.sio.connected and not client.got("connected")


async def test_connected_then_request_events_answer_through_acknowledgements(recorder: Recorder) -> None:
    await wait_until(lambda: recorder.got("connected"))
    hello = recorder.got("connected")[0]
    assert set(hello) == {"message", "server_time"} and hello["server_time"].endswith("Z")
    pong = await recorder.sio.call("ping", {}, timeout=10)
    assert pong["pong"] is True
    symbols = await recorder.sio.call("get_symbols", timeout=10)
    assert {"EURUSD", "GBPUSD", "USDJPY"} <= {s["name"] for s in symbols}
    candles = await recorder.sio.call(
        "get_candles", {"symbol": "EURUSD", "timeframe": "M5", "count": 10}, timeout=10
    )
    assert candles["symbol"] == "EURUSD" and len(candles["candles"]) == 10
    account = await recorder.sio.call("get_account_info", timeout=10)
    assert account["number"] > 0 and "free_margin" in account


async def test_quotes_for_two_symbols_bring_only_those_until_unsubscribed(recorder: Recorder) -> None:
    sio = recorder.sio
    await sio.emit("subscribe", {"channels": ["quotes"], "symbols": ["EURUSD", "GBPUSD"]})
    await wait_until(lambda: recorder.got("subscribed"))
    assert recorder.got("subscribed")[-1] == {"channels": ["quotes"], "symbols": ["EURUSD", "GBPUSD"]}
    await wait_until(
        lambda: {q["symbol"] for q in recorder.got("quotes")} == {"EURUSD", "GBPUSD"}, within_s=20
    )
    await asyncio.sleep(1.0)  # USDJPY ticks meanwhile: the server streams it (configured), the filter holds
    quotes = recorder.got("quotes")
    assert {q["symbol"] for q in quotes} == {"EURUSD", "GBPUSD"}
    assert all(set(q) == {"symbol", "bid", "ask", "spread", "timestamp"} for q in quotes)
    assert all(q["ask"] >= q["bid"] > 0 and isinstance(q["spread"], int) for q in quotes)

    await sio.emit("unsubscribe", {"channels": ["quotes"], "symbols": ["GBPUSD"]})
    await wait_until(lambda: recorder.got("unsubscribed"))
    cut = recorder.events["unsubscribed"][-1][0]

    def since_cut() -> list[str]:
        return [q["symbol"] for t, q in recorder.events["quotes"] if t > cut]

    # EURUSD keeps coming (the sim's calm rate can be as low as one tick a second: wait for two) ...
    await wait_until(lambda: since_cut().count("EURUSD") >= 2, within_s=30)
    assert "GBPUSD" not in since_cut()  # ... and GBPUSD, which ticks as often, no longer does

    await sio.emit("unsubscribe", {"channels": ["quotes"]})
    await wait_until(lambda: len(recorder.got("unsubscribed")) == 2)
    cut = recorder.events["unsubscribed"][-1][0]
    await asyncio.sleep(1.5)
    assert not [q for t, q in recorder.events["quotes"] if t > cut]


async def test_positions_update_arrives_after_an_order(
    running: Running, token: str, recorder: Recorder
) -> None:
    await recorder.sio.emit("subscribe", {"channels": ["positions", "account"]})
    await wait_until(lambda: recorder.got("positions_update") and recorder.got("account_update"))
    async with running.client(token) as http:
        placed = await http.post("/api/place", json={"symbol": "USDJPY", "side": "buy", "volume": 0.02})
        assert placed.status_code == 200, placed.text
        ticket = placed.json()["ticket"]

        def has_ticket() -> bool:
            return any(ticket in {p["ticket"] for p in update} for update in recorder.got("positions_update"))

        await wait_until(has_ticket, within_s=10)
        await http.post("/api/close", json={"order_id": ticket})
    latest = recorder.got("positions_update")[-1]
    assert isinstance(latest, list) and all("price_current" in p for p in latest)


async def test_heartbeat_is_answered(recorder: Recorder) -> None:
    await recorder.sio.emit("heartbeat", {"timestamp": 1234567})
    await wait_until(lambda: recorder.got("heartbeat_ack"))
    ack = recorder.got("heartbeat_ack")[-1]
    assert ack["timestamp"] == 1234567 and ack["server_time"].endswith("Z")


@pytest.mark.parametrize(
    ("event", "data", "code"),
    [
        ("subscribe", "quotes please", "bad_request"),
        ("subscribe", {"channels": ["nonsense"]}, "bad_request"),
        ("subscribe", {"channels": ["quotes"], "symbols": [1, 2]}, "bad_request"),
        ("unsubscribe", None, "bad_request"),
        ("get_candles", {"symbol": "EURUSD", "count": "many"}, "bad_request"),
        ("get_candles", {"symbol": "EURUSD", "timeframe": "Z9"}, "invalid_timeframe"),
        ("get_candles", [1, 2, 3], "bad_request"),
        ("no_such_event", {"x": 1}, "unknown_event"),
    ],
)
async def test_malformed_input_gets_an_error_and_the_connection_stays(
    recorder: Recorder, event: str, data: Any, code: str
) -> None:
    await recorder.sio.emit(event, data)
    await wait_until(lambda: recorder.got("error"))
    error = recorder.got("error")[-1]
    assert set(error) == {"error", "details", "code"} and error["code"] == code
    assert recorder.sio.connected
    assert (await recorder.sio.call("ping", timeout=10))["pong"] is True


async def test_acknowledged_request_with_bad_input_answers_the_error(recorder: Recorder) -> None:
    answer = await recorder.sio.call("get_candles", {"timeframe": "H1"}, timeout=10)
    assert answer["code"] == "bad_request" and answer["details"]["field"] == "symbol"


@pytest.mark.parametrize("transports", [None, ["polling"], ["websocket"]])
async def test_transports(running: Running, token: str, transports: list[str] | None) -> None:
    """None: the default of browser clients, long-polling first, then the upgrade to WebSocket."""
    client = Recorder()
    options = {"transports": transports} if transports else {}
    await client.connect(running, token, **options)
    try:
        await wait_until(lambda: client.got("connected"))
        expected = "polling" if transports == ["polling"] else "websocket"
        await wait_until(lambda: client.sio.transport() == expected, within_s=10)
        await client.sio.emit("subscribe", {"channels": ["quotes"], "symbols": ["EURUSD"]})
        await wait_until(lambda: client.got("quotes"), within_s=20)
    finally:
        await client.sio.disconnect()


async def test_a_slow_client_never_delays_the_others(running: Running, token: str) -> None:
    """A client whose transport is stuck (never reads) gets conflated quotes; a normal one keeps its pace."""
    gateway = running.runtime.server.gateway
    assert gateway is not None
    fast, stuck = Recorder(), Recorder()
    await fast.connect(running, token)
    await stuck.connect(running, token)
    try:
        await wait_until(lambda: len(gateway.clients) >= 2)
        for client in (fast, stuck):
            await client.sio.emit("subscribe", {"channels": ["quotes"]})
        await wait_until(lambda: fast.got("quotes") and stuck.got("quotes"))
        hub = running.runtime.hub
        from app.core.hub import Topic
        from app.models import Quote

        # Hold the stuck client's sender: its outbox keeps only the latest quote per symbol.
        stuck_sid = stuck.sio.get_sid()
        slow = next(c for c in gateway.clients.values() if c.sid == stuck_sid)
        assert slow.sender is not None
        slow.sender.cancel()
        fast_before = len(fast.got("quotes"))
        for i in range(2000):
            hub.publish(Topic.QUOTES, Quote("TEST", 1.0 + i * 1e-5, 1.0001 + i * 1e-5, i, 10, 5), key="TEST")
        await wait_until(lambda: sum(q["symbol"] == "TEST" for q in fast.got("quotes")) >= 1)
        assert len(fast.got("quotes")) > fast_before
        assert sum(1 for key in slow.latest if key[1] == "TEST") == 1  # conflated: one value, the newest
        event, newest = json.loads(slow.latest[("quotes", "TEST")][1:])  # an encoded Socket.IO packet
        assert event == "quotes" and newest["bid"] == pytest.approx(1.0 + 1999e-5)
    finally:
        await fast.sio.disconnect()
        await stuck.sio.disconnect()
