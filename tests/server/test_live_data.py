"""Seed 002's Socket.IO dialect and the live market data, against the real server on a real port with
python-socketio's client: subscribe {symbol, timeframe} → tick and candles (the live bar conflated to
10 a second, each bar once more closed), requests answered with named events and acknowledgements,
depth while subscribed, indicators, market_summary, health; seed 001's candles and book channels; the
per-client limit and bad input (a clear error, nothing subscribed, the connection and the other
subscriptions unharmed); a slow client.

The simulator's clock runs 10 times faster here, so an M1 bar closes every 6 seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
import socketio
import talib

from app.core.hub import Delivery, Topic
from app.models import TerminalState, TerminalStatus, Timeframe
from tests.server.conftest import Running, start_runtime, stop_runtime
from tests.support.sim_fixtures import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

LIMIT = 6
EVENTS = (
    "connected", "subscribed", "unsubscribed", "tick", "candles", "order_book", "indicators",
    "market_summary", "health", "symbols", "account_info", "account_update", "quotes", "error",
)  # fmt: skip
TICK_KEYS = {"symbol", "bid", "ask", "last", "volume", "time", "spread"}
BAR_KEYS = {"time", "open", "high", "low", "close", "tick_volume"}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    started = await start_runtime(
        tmp_path_factory.mktemp("live"), sim={"speed": 10.0}, max_subscriptions=LIMIT, market_summary_s=0.5
    )
    yield started
    await stop_runtime(started)


class Seed002:
    """A client that speaks only seed 002's events, recording what it gets with the loop time."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: dict[str, list[tuple[float, Any]]] = defaultdict(list)
        for name in EVENTS:
            self.sio.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Any:
        async def record(data: Any = None) -> None:
            self.events[name].append((asyncio.get_running_loop().time(), data))

        return record

    def got(self, name: str, since: float = 0.0) -> list[Any]:
        return [data for t, data in self.events[name] if t > since]

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def candles(self, symbol: str, timeframe: str = "M1", since: float = 0.0) -> list[dict[str, Any]]:
        return [
            c
            for c in self.got("candles", since)
            if "bar" in c and c["symbol"] == symbol and c["timeframe"] == timeframe
        ]

    def ticks(self, symbol: str, since: float = 0.0) -> list[dict[str, Any]]:
        return [t for t in self.got("tick", since) if t["symbol"] == symbol]

    async def last_error(self, since: float) -> dict[str, Any]:
        await wait_until(lambda: self.got("error", since))
        error: dict[str, Any] = self.got("error", since)[-1]
        return error


@pytest_asyncio.fixture(loop_scope="module")
async def client(running: Running, token: str) -> AsyncIterator[Seed002]:
    c = Seed002()
    await c.sio.connect(running.url, auth={"token": token}, wait_timeout=10)
    yield c
    await c.sio.disconnect()


def bar_seconds(candle: dict[str, Any]) -> int:
    return int(datetime.fromisoformat(candle["bar"]["time"].replace("Z", "+00:00")).timestamp())


async def test_subscribe_symbol_and_timeframe_brings_ticks_and_the_moving_live_bar(client: Seed002) -> None:
    await client.sio.emit("subscribe", {"symbol": "EURUSD", "timeframe": "M1"})
    await wait_until(lambda: client.got("subscribed"))
    answer = client.got("subscribed")[-1]
    assert answer["symbol"] == "EURUSD" and answer["timeframe"] == "M1"
    assert answer["subscriptions"] == [{"symbol": "EURUSD", "timeframe": "M1"}]

    await wait_until(lambda: len(client.ticks("EURUSD")) >= 3, within_s=30)
    for tick in client.ticks("EURUSD"):
        assert set(tick) == TICK_KEYS
        assert tick["ask"] >= tick["bid"] > 0 and isinstance(tick["spread"], int)
        assert tick["time"].endswith("Z")
    assert not [t for t in client.got("tick") if t["symbol"] != "EURUSD"]  # GBPUSD streams too: not asked

    # the live bar moves: its close or its tick volume changes between updates
    await wait_until(
        lambda: len({(c["bar"]["close"], c["bar"]["tick_volume"]) for c in client.candles("EURUSD")}) >= 3,
        within_s=30,
    )
    for candle in client.candles("EURUSD"):
        assert set(candle) == {"symbol", "timeframe", "bar", "closed"} and set(candle["bar"]) == BAR_KEYS
        bar = candle["bar"]
        assert bar["low"] <= min(bar["open"], bar["close"]) <= max(bar["open"], bar["close"]) <= bar["high"]


async def test_each_bar_comes_once_more_closed_and_before_the_next(client: Seed002) -> None:
    await client.sio.emit("subscribe", [{"symbol": "GBPUSD", "timeframe": "M1"}])
    await wait_until(lambda: client.got("subscribed"))
    await wait_until(lambda: sum(c["closed"] for c in client.candles("GBPUSD")) >= 2, within_s=60)
    candles = client.candles("GBPUSD")
    closed = [c for c in candles if c["closed"]]
    times = [bar_seconds(c) for c in closed]
    assert len(times) == len(set(times)) and times == sorted(times)  # each bar closed once, in order
    assert times[1] - times[0] == 60
    sequence = [bar_seconds(c) for c in candles]
    assert sequence == sorted(sequence)  # never a bar older than one already sent
    for c in closed:  # after its close, only newer bars
        after = candles[candles.index(c) + 1 :]
        assert all(bar_seconds(x) > bar_seconds(c) for x in after)


async def test_the_live_bar_comes_at_most_ten_times_a_second(running: Running, client: Seed002) -> None:
    published = running.runtime.hub.subscribe(Topic.BARS, Delivery.ALL, maxlen=100_000)
    try:
        started = client.now()
        await client.sio.emit("subscribe", {"symbol": "USDJPY", "timeframe": "M1"})
        await wait_until(lambda: len(client.candles("USDJPY", since=started)) >= 25, within_s=60)
        ended = client.now()
        updates = [c for c in client.candles("USDJPY", since=started) if not c["closed"]]
        made = [e for e in published.drain() if e.key == ("USDJPY", Timeframe.M1)]
    finally:
        published.close()
    # whatever the delivery did to the timing, the server cannot have sent more than 10 a second since
    # the subscription (+1: the bar sent at once on subscribing, +1 at the start of the interval)
    assert len(updates) <= 10 * (ended - started) + 2
    assert len(made) >= len(updates)  # the hub's updates were folded, never multiplied


async def test_requests_are_answered_with_named_events_and_acknowledgements(
    running: Running, token: str, client: Seed002
) -> None:
    since = client.now()
    await client.sio.emit("get_symbols")
    await client.sio.emit("get_candles", {"symbol": "EURUSD", "timeframe": "M5", "count": 20})
    await client.sio.emit("get_order_book", {"symbol": "EURUSD"})
    await client.sio.emit("get_account_info")
    await client.sio.emit("ping")
    await wait_until(
        lambda: (
            all(client.got(e, since) for e in ("symbols", "order_book", "account_info", "health"))
            and [c for c in client.got("candles", since) if "candles" in c]
        )
    )
    assert {"EURUSD", "GBPUSD"} <= {s["name"] for s in client.got("symbols", since)[-1]}
    history = next(c for c in client.got("candles", since) if "candles" in c)
    assert history["symbol"] == "EURUSD" and history["timeframe"] == "M5" and len(history["candles"]) == 20
    book = client.got("order_book", since)[-1]
    assert book["symbol"] == "EURUSD" and book["bids"] and book["asks"]
    assert max(b["price"] for b in book["bids"]) < min(a["price"] for a in book["asks"])
    assert client.got("account_info", since)[-1]["number"] > 0
    # from then on the account's changes come as account_update (seed 002 has no channel to ask)
    async with running.client(token) as http:
        placed = await http.post("/api/place", json={"symbol": "EURUSD", "side": "buy", "volume": 0.01})
        assert placed.status_code == 200, placed.text
        await wait_until(lambda: client.got("account_update", since), within_s=30)
        assert (
            client.got("account_update", since)[-1]["number"]
            == client.got("account_info", since)[-1]["number"]
        )
        closed = await http.post("/api/close", json={"order_id": placed.json()["ticket"]})
        assert closed.status_code == 200, closed.text
    health = client.got("health", since)[-1]
    assert health["status"] == "ok" and health["mt5_connected"] is True and health["terminal_state"]

    # ... and through the acknowledgement when the client asks for one
    assert (await client.sio.call("ping", timeout=10))["pong"] is True
    assert (await client.sio.call("get_order_book", {"symbol": "GBPUSD"}, timeout=10))["symbol"] == "GBPUSD"
    assert (
        len((await client.sio.call("get_candles", {"symbol": "GBPUSD", "count": 3}, timeout=10))["candles"])
        == 3
    )


async def test_depth_streams_while_subscribed_and_stops_after(client: Seed002) -> None:
    await client.sio.emit("subscribe", [{"symbol": "EURUSD", "timeframe": "M1"}, {"symbol": "GBPUSD"}])
    await wait_until(lambda: client.got("subscribed"))
    since = client.now()
    first = await client.sio.call("get_order_book", {"symbol": "EURUSD"}, timeout=10)
    assert first["symbol"] == "EURUSD"
    # the book changes with the price: more order_book events come without asking
    await wait_until(lambda: len(client.got("order_book", since)) >= 3, within_s=30)
    assert {b["symbol"] for b in client.got("order_book", since)} == {"EURUSD"}

    await client.sio.emit("unsubscribe", {"symbol": "EURUSD"})
    await wait_until(lambda: client.got("unsubscribed"))
    cut = client.now()
    assert client.got("unsubscribed")[-1]["subscriptions"] == [{"symbol": "GBPUSD", "timeframe": None}]
    await wait_until(lambda: len(client.ticks("GBPUSD", since=cut)) >= 3, within_s=30)  # still subscribed
    await asyncio.sleep(1.0)  # two depth reads' time
    assert not client.got("order_book", cut + 0.2)  # (one may have been on its way)
    assert not client.ticks("EURUSD", since=cut + 0.2) and not client.candles("EURUSD", since=cut + 0.2)


async def test_seed_001_gains_the_candles_and_book_channels(client: Seed002) -> None:
    payload = {"channels": ["candles", "book"], "symbols": ["USDJPY"], "timeframes": ["M1", "M5"]}
    await client.sio.emit("subscribe", payload)
    await wait_until(lambda: client.got("subscribed"))
    answer = client.got("subscribed")[-1]
    assert answer["channels"] == ["book", "candles"]
    assert answer["candles"] == [
        {"symbol": "USDJPY", "timeframe": "M1"},
        {"symbol": "USDJPY", "timeframe": "M5"},
    ]
    assert answer["book"] == ["USDJPY"]
    await wait_until(
        lambda: (
            client.candles("USDJPY", "M1") and client.candles("USDJPY", "M5") and client.got("order_book")
        ),
        within_s=30,
    )
    assert not client.got("tick")  # seed 001 has its quotes channel for that

    await client.sio.emit("unsubscribe", {"channels": ["candles"], "timeframes": ["M5"]})
    await wait_until(lambda: client.got("unsubscribed"))
    assert client.got("unsubscribed")[-1]["candles"] == [{"symbol": "USDJPY", "timeframe": "M1"}]
    await client.sio.emit("unsubscribe", {"channels": ["candles", "book"]})
    await wait_until(lambda: len(client.got("unsubscribed")) == 2)
    last = client.got("unsubscribed")[-1]
    assert last["channels"] == [] and "candles" not in last and "book" not in last


async def test_past_the_limit_a_clear_error_and_nothing_subscribed(client: Seed002) -> None:
    await client.sio.emit("subscribe", {"symbol": "EURUSD", "timeframe": "M1"})
    await wait_until(lambda: client.got("subscribed"))
    since = client.now()
    frames = ["M1", "M2", "M3", "M4", "M5", "M6", "M10"]
    too_many = [{"symbol": "GBPUSD", "timeframe": tf} for tf in frames]
    answer = await client.sio.call("subscribe", too_many, timeout=10)
    error = await client.last_error(since)
    for body in (answer, error):
        assert body["code"] == "too_many_subscriptions"
        assert f"at most {LIMIT}" in body["error"] and "server.max_subscriptions" in body["error"]
        assert body["details"]["limit"] == LIMIT and body["details"]["event"] == "subscribe"
    # nothing of it was subscribed, the earlier subscription and the connection carry on
    assert not client.candles("GBPUSD", since=since) and not client.ticks("GBPUSD", since=since)
    await wait_until(lambda: len(client.ticks("EURUSD", since=since)) >= 2, within_s=30)
    ok = await client.sio.call("subscribe", too_many[: LIMIT - 1], timeout=10)
    assert len(ok["subscriptions"]) == LIMIT


@pytest.mark.parametrize(
    ("payload", "code", "named"),
    [
        ({"symbol": "NOSUCH", "timeframe": "M1"}, "unknown_symbol", ("symbol", "NOSUCH")),
        (
            [{"symbol": "GBPUSD", "timeframe": "M1"}, {"symbol": "XXXYYY"}],
            "unknown_symbol",
            ("symbol", "XXXYYY"),
        ),
        ({"symbol": "GBPUSD", "timeframe": "M7"}, "invalid_timeframe", ("timeframe", "M7")),
        ({"symbol": "GBPUSD", "timeframe": 5}, "invalid_timeframe", ("field", "timeframe")),
        ({"symbol": 5}, "bad_request", ("field", "symbol")),
        ([1, 2], "bad_request", None),
        ([], "bad_request", None),
        (
            {"symbol": "GBPUSD", "timeframe": "M1", "indicators": "sma"},
            "bad_request",
            ("field", "indicators"),
        ),
        (
            {"symbol": "GBPUSD", "timeframe": "M1", "indicators": [{"name": "zz"}]},
            "invalid_indicator",
            ("name", "zz"),
        ),
        ({"channels": ["candles"], "symbols": ["GBPUSD"]}, "invalid_timeframe", ("field", "timeframes")),
        ({"channels": ["candles"], "timeframes": ["M1"]}, "bad_request", ("field", "symbols")),
    ],
)
async def test_bad_subscriptions_get_a_clear_error_and_change_nothing(
    client: Seed002, payload: Any, code: str, named: tuple[str, str] | None
) -> None:
    await client.sio.emit("subscribe", {"symbol": "EURUSD", "timeframe": "M1"})
    await wait_until(lambda: client.got("subscribed"))
    since = client.now()
    answer = await client.sio.call("subscribe", payload, timeout=10)
    error = await client.last_error(since)
    assert answer == error and set(error) == {"error", "details", "code"} and error["code"] == code
    if named is not None:
        assert error["details"][named[0]] == named[1]
    assert client.sio.connected and (await client.sio.call("ping", timeout=10))["pong"] is True
    await wait_until(lambda: len(client.ticks("EURUSD", since=since)) >= 2, within_s=30)
    assert not client.candles("GBPUSD", since=since) and not client.ticks("GBPUSD", since=since)


@pytest.mark.parametrize(
    ("event", "data", "code"),
    [
        ("get_order_book", "EURUSD", "bad_request"),
        ("get_order_book", {"symbol": "NOSUCH"}, "unknown_symbol"),
        ("get_indicators", {"symbol": "EURUSD", "timeframe": "M1"}, "bad_request"),
        (
            "get_indicators",
            {"symbol": "EURUSD", "timeframe": "M1", "indicators": [{"name": "rsi", "params": {"period": 1}}]},
            "invalid_indicator",
        ),
        (
            "get_indicators",
            {
                "symbol": "EURUSD",
                "timeframe": "M1",
                "indicators": [{"name": "rsi", "params": {"period": True}}],
            },
            "invalid_indicator",
        ),
        ("unsubscribe", {"symbol": ["EURUSD"]}, "bad_request"),
    ],
)
async def test_bad_requests_get_a_clear_error(client: Seed002, event: str, data: Any, code: str) -> None:
    since = client.now()
    answer = await client.sio.call(event, data, timeout=10)
    error = await client.last_error(since)
    assert answer == error and error["code"] == code and error["details"]["event"] == event
    assert (await client.sio.call("ping", timeout=10))["pong"] is True


async def test_indicators_for_a_subscribed_symbol_and_timeframe(client: Seed002) -> None:
    wanted = [{"name": "sma", "params": {"period": 5}}, {"name": "rsi"}]
    await client.sio.emit("subscribe", {"symbol": "EURUSD", "timeframe": "M1", "indicators": wanted})
    await wait_until(lambda: len(client.got("indicators")) >= 2, within_s=30)
    latest = client.got("indicators")[-1]
    assert latest["symbol"] == "EURUSD" and latest["timeframe"] == "M1"
    sma, rsi = latest["indicators"]
    assert sma["name"] == "sma" and sma["params"] == {"period": 5.0}
    assert rsi["name"] == "rsi" and rsi["params"] == {"period": 14.0}
    assert 0 <= rsi["closed"]["values"]["rsi"] <= 100 and 0 <= rsi["live"]["values"]["rsi"] <= 100

    # the last closed bar's SMA(5) is TA-Lib's over the closes the terminal has for those bars
    async def agrees() -> bool:
        answer = await client.sio.call(
            "get_indicators", {"symbol": "EURUSD", "timeframe": "M1", "indicators": wanted[:1]}, timeout=10
        )
        history = await client.sio.call(
            "get_candles", {"symbol": "EURUSD", "timeframe": "M1", "count": 50}, timeout=10
        )
        closes = np.array([c["close"] for c in history["candles"]], dtype=np.float64)
        closed = answer["indicators"][0]["closed"]
        if closed["time"] != history["candles"][-2]["time"].replace("+00:00", "Z"):
            return False  # a bar closed between the two calls: ask again
        expected = talib.SMA(closes, timeperiod=5)[-2]
        assert closed["values"]["sma"] == pytest.approx(expected, abs=1e-5)
        return True

    for _ in range(5):
        if await agrees():
            break
    else:
        pytest.fail("the bars kept closing between the two calls")


async def test_market_summary_gives_the_days_change_high_low_and_spread(client: Seed002) -> None:
    await client.sio.emit("subscribe", [{"symbol": "EURUSD"}, {"symbol": "GBPUSD"}])
    await wait_until(lambda: len(client.got("market_summary")) >= 2, within_s=30)
    summary = client.got("market_summary")[-1]
    rows = {row["symbol"]: row for row in summary["symbols"]}
    assert set(rows) == {"EURUSD", "GBPUSD"} and summary["timestamp"].endswith("Z")
    for row in rows.values():
        assert row["low"] <= row["bid"] <= row["high"] and row["ask"] > row["bid"]
        assert isinstance(row["spread"], int) and row["open"] > 0
        assert row["change"] == pytest.approx(row["bid"] - row["open"], abs=1e-4)
        assert row["change_pct"] == pytest.approx((row["bid"] - row["open"]) / row["open"] * 100, abs=1e-3)


async def test_health_on_every_terminal_state_change(running: Running, client: Seed002) -> None:
    await wait_until(lambda: client.got("connected"))
    since = client.now()
    hub, live = running.runtime.hub, running.runtime.pool.live
    real = live.state
    hub.publish(
        Topic.TERMINAL,
        TerminalState(real.terminal_id, TerminalStatus.ERROR, "test: link lost"),
        key=real.terminal_id,
    )
    await wait_until(lambda: client.got("health", since))
    assert client.got("health", since)[-1]["status"] == "degraded"
    assert client.got("health", since)[-1]["terminal_state"] == "error"
    hub.publish(Topic.TERMINAL, real, key=real.terminal_id)
    await wait_until(lambda: len(client.got("health", since)) == 2)
    assert client.got("health", since)[-1]["status"] == "ok"
    other = TerminalState("not-the-live-one", TerminalStatus.ERROR, "elsewhere")
    hub.publish(Topic.TERMINAL, other, key=other.terminal_id)
    assert (await client.sio.call("ping", timeout=10))["status"] == "ok"
    assert len(client.got("health", since)) == 3  # the ping's answer only: another terminal is no news


async def test_health_when_the_terminal_really_drops_and_comes_back(
    running: Running, client: Seed002
) -> None:
    """The simulator's terminal loses its connection (fault injection), then gets it back: a health
    event each way, without the client asking."""
    from app.mt5.sim.admin import SimAdmin

    sim = running.runtime.sim_server
    assert sim is not None
    await wait_until(lambda: client.got("connected"))
    since = client.now()
    terminal = running.runtime.pool.live.terminal_id
    with SimAdmin(sim.address) as admin:
        admin.set_faults(terminal, disconnected=True)
        try:
            await wait_until(
                lambda: any(h["status"] == "degraded" for h in client.got("health", since)), within_s=60
            )
        finally:
            admin.clear_faults()
    lost = next(h for h in client.got("health", since) if h["status"] == "degraded")
    assert lost["mt5_connected"] is False and lost["terminal_state"] != "logged_in"
    await wait_until(lambda: client.got("health", since)[-1]["status"] == "ok", within_s=90)
    assert client.got("health", since)[-1]["terminal_state"] == "logged_in"
    await wait_until(lambda: running.runtime.account_state.account is not None, within_s=60)


async def test_a_slow_client_never_delays_the_others(running: Running, token: str) -> None:
    gateway = running.runtime.server.gateway
    assert gateway is not None
    fast, stuck = Seed002(), Seed002()
    for c in (fast, stuck):
        await c.sio.connect(running.url, auth={"token": token}, wait_timeout=10)
    try:
        for c in (fast, stuck):
            await c.sio.emit("subscribe", {"symbol": "EURUSD", "timeframe": "M1"})
        await wait_until(lambda: fast.candles("EURUSD") and stuck.candles("EURUSD"), within_s=30)
        slow = next(c for c in gateway.clients.values() if c.sid == stuck.sio.get_sid())
        assert slow.sender is not None
        slow.sender.cancel()  # its transport never drains again
        since = fast.now()
        await wait_until(
            lambda: sum(c["closed"] for c in fast.candles("EURUSD", since=since)) >= 1, within_s=60
        )
        await wait_until(lambda: len(fast.candles("EURUSD", since=since)) >= 20, within_s=60)
        outbox = slow.live.outbox
        key = next(iter(outbox.live))
        assert list(outbox.live) == [key] and key[0] == "EURUSD"  # one live bar waits: the newest
        assert len(outbox.closed[key]) >= 1  # and the bar that closed, kept for it
        waiting = json.loads(outbox.closed[key][-1][1:])
        assert waiting[0] == "candles" and waiting[1]["closed"] is True
    finally:
        await fast.sio.disconnect()
        await stuck.sio.disconnect()


NODE_CLIENT = Path(__file__).parent / "node" / "seed002_client.cjs"
WEB_MODULES = Path(__file__).resolve().parents[2] / "web" / "node_modules"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed (scripts/test installs it)")
async def test_a_seed_002_client_on_the_real_socket_io_client_package(running: Running, token: str) -> None:
    """The npm package socket.io-client (from web/package-lock.json, installed by scripts/test), using
    only seed 002's events: subscribe, tick, candles, get_* and their answers, market_summary, health."""
    assert (WEB_MODULES / "socket.io-client").is_dir(), "run scripts/build-web (npm ci) first"
    process = await asyncio.create_subprocess_exec(
        "node",
        str(NODE_CLIENT),
        running.url,
        token,
        env={**os.environ, "NODE_PATH": str(WEB_MODULES)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, (out.decode()[-2000:], err.decode()[-2000:])
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["subscribed"]["symbol"] == "EURUSD" and seen["subscribed"]["timeframe"] == "M1"
    assert all(set(t) == TICK_KEYS and t["symbol"] == "EURUSD" for t in seen["ticks"])
    assert all(set(c["bar"]) == BAR_KEYS and c["closed"] is False for c in seen["live"])
    assert seen["history"] == {"symbol": "EURUSD", "timeframe": "M1", "count": 30}
    assert "EURUSD" in seen["symbols"] and seen["account_info"]["number"] > 0
    assert all(b["symbol"] == "EURUSD" and b["bids"] and b["asks"] for b in seen["order_book"])
    assert seen["health"]["status"] == "ok"
    assert [row["symbol"] for row in seen["market_summary"]["symbols"]] == ["EURUSD"]
    assert seen["errors"] == []
