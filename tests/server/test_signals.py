"""Signals through the real server on the simulator: TradingView-shaped alerts to a named webhook,
``POST /api/signals``, the modes (auto, confirm, notify), approve/reject, the validators' refusals, bad
input, and ``signals_update`` on a real Socket.IO client — always with what the terminal holds
afterwards (one position for an alert delivered three times at once; none for a refused one)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from app.audit import AuditQuery, AuditReader, audit_dir
from app.models import Position
from tests.server.conftest import Running, start_runtime, stop_runtime
from tests.server.test_socketio import Recorder
from tests.support.sim_fixtures import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

SIGNALS = {
    "sources": {"bot-auto": "auto", "bot-notify": "notify"},
    "default_mode": "confirm",
    "max_per_minute": 1000,
    "webhook_failures": 5,
}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    # The module's tests trade back to back: the order-rate limit (its own tests are in tests/core) off,
    # or a signal judged within a second of five orders is rejected by the risk guard.
    sections = {"signals": SIGNALS, "trading": {"limits": {"max_orders_per_second": 0}}}
    started = await start_runtime(tmp_path_factory.mktemp("signals"), sections=sections)
    yield started
    await stop_runtime(started)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def http(running: Running) -> AsyncIterator[httpx.AsyncClient]:
    token = await running.login()
    async with running.client(token) as client:
        yield client


async def positions(running: Running) -> list[Position]:
    found: list[Position] = await running.runtime.pool.live.call("positions")
    return found


async def tickets(running: Running) -> set[int]:
    return {p.ticket for p in await positions(running)}


async def webhook(http: httpx.AsyncClient, name: str, **options: Any) -> str:
    answer = await http.post("/api/webhooks", json={"name": name, **options})
    assert answer.status_code == 201, answer.text
    secret: str = answer.json()["secret"]
    return secret


def tradingview(secret: str, **fields: Any) -> dict[str, Any]:
    """What the README's alert message becomes once TradingView fills its placeholders in."""
    alert = {
        "secret": secret,
        "action": "buy",
        "symbol": "FX:EURUSD",
        "volume": 0.02,
        "price": 1.1,
        "timestamp": "2026-12-02T10:00:00Z",
        "comment": "tv",
    }
    return {**alert, **fields}


def audit_text(running: Running) -> str:
    return "\n".join(line for _, line in AuditReader(audit_dir(running.data_dir)).lines())


async def test_an_alert_posted_three_times_at_once_opens_one_position(
    running: Running, http: httpx.AsyncClient
) -> None:
    secret = await webhook(http, "tv-auto", mode="auto", symbols=["EURUSD"])
    before = await tickets(running)
    body = tradingview(secret, timestamp="2026-12-02T10:01:00Z")
    async with running.client() as anonymous:  # TradingView sends no token
        answers = await asyncio.gather(
            *(anonymous.post("/api/webhooks/tv-auto", json=body) for _ in range(3))
        )
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    records = [a.json() for a in answers]
    assert len({r["uuid"] for r in records}) == 1
    assert sorted(r["duplicate"] for r in records) == [False, True, True]
    assert {r["status"] for r in records} == {"executed"}
    new = await tickets(running) - before
    assert len(new) == 1
    (position,) = [p for p in await positions(running) if p.ticket in new]
    assert (position.symbol, position.side.value, position.volume) == ("EURUSD", "buy", 0.02)
    first = next(r for r in records if not r["duplicate"])
    assert first["symbol"] == "EURUSD" and first["ticket"]
    assert [v["name"] for v in first["validators"]] == [
        "symbol", "allow_list", "duplicate", "confidence", "spread", "window", "rate", "risk"
    ]  # fmt: skip
    assert all(v["approved"] for v in first["validators"])
    # Posted again later (a replayed delivery): the first outcome, nothing sent.
    async with running.client() as anonymous:
        again = await anonymous.post("/api/webhooks/tv-auto", json=body)
    assert again.json()["duplicate"] is True and again.json()["ticket"] == first["ticket"]
    assert await tickets(running) - before == new
    # The trail has the signal and its decision, and never the secret.
    text = audit_text(running)
    assert first["uuid"] in text and "signal.decision" in text
    assert secret not in text


async def test_a_confirm_signal_waits_then_approved_becomes_a_position(
    running: Running, http: httpx.AsyncClient
) -> None:
    before = await tickets(running)
    sid = f"confirm-{uuid.uuid4().hex[:8]}"
    body = {
        "uuid": sid,
        "symbol": "EURUSD",
        "side": "sell",
        "volume": 0.01,
        "source": "my-desk",
        "confidence": 0.8,
    }
    answer = await http.post("/api/signals", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "pending" and answer.json()["mode"] == "confirm"
    assert answer.json()["expires_at"]
    assert await tickets(running) == before  # waiting: nothing sent
    listed = await http.get("/api/signals", params={"status": "pending"})
    assert sid in [s["uuid"] for s in listed.json()]
    approved = await http.post(f"/api/signals/{sid}/approve")
    assert approved.status_code == 200, approved.text
    record = approved.json()
    assert record["status"] == "executed" and record["ticket"]
    assert record["validators"][-1]["name"] == "person" and record["validators"][-1]["approved"]
    new = await tickets(running) - before
    assert len(new) == 1
    assert {p.side.value for p in await positions(running) if p.ticket in new} == {"sell"}
    # Decided once: approving again is a 409 naming the state, and sends nothing.
    again = await http.post(f"/api/signals/{sid}/approve")
    assert again.status_code == 409 and "executed" in again.json()["error"]
    assert await tickets(running) - before == new


async def test_a_rejected_signal_sends_nothing_and_cannot_be_approved(
    running: Running, http: httpx.AsyncClient
) -> None:
    before = await tickets(running)
    sid = f"reject-{uuid.uuid4().hex[:8]}"
    await http.post("/api/signals", json={"uuid": sid, "symbol": "GBPUSD", "side": "buy", "volume": 0.01})
    rejected = await http.post(f"/api/signals/{sid}/reject", json={"reason": "not today"})
    assert rejected.json()["status"] == "rejected" and "not today" in rejected.json()["message"]
    assert (await http.post(f"/api/signals/{sid}/approve")).status_code == 409
    assert (await http.post("/api/signals/no-such-signal/approve")).status_code == 404
    assert await tickets(running) == before


async def test_an_auto_source_trades_and_a_notify_source_only_shows(
    running: Running, http: httpx.AsyncClient
) -> None:
    before = await tickets(running)
    notify = await http.post(
        "/api/signals", json={"symbol": "EURUSD", "side": "buy", "volume": 0.01, "source": "bot-notify"}
    )
    assert notify.json()["status"] == "notified"
    assert await tickets(running) == before
    auto = await http.post(
        "/api/signals", json={"symbol": "EURUSD", "side": "buy", "volume": 0.01, "source": "bot-auto"}
    )
    assert auto.json()["status"] == "executed", auto.text
    assert len(await tickets(running) - before) == 1


async def test_a_wrong_secret_is_401_audited_without_it_and_limited(
    running: Running, http: httpx.AsyncClient
) -> None:
    await webhook(http, "tv-guarded", mode="auto")
    before = await tickets(running)
    guess = "not-the-secret-" + uuid.uuid4().hex
    codes = []
    async with running.client() as anonymous:
        for _ in range(6):
            answer = await anonymous.post("/api/webhooks/tv-guarded", json=tradingview(guess))
            codes.append(answer.status_code)
        unknown = await anonymous.post("/api/webhooks/no-such-hook", json=tradingview(guess))
    assert codes[:5] == [401] * 5 and codes[5] == 429
    assert unknown.status_code == 429  # the address is limited whatever it names
    assert await tickets(running) == before
    text = audit_text(running)
    assert "webhook.refused" in text and guess not in text
    entries = AuditReader(audit_dir(running.data_dir)).query(AuditQuery(action="webhook.refused"))
    assert entries and entries[-1].payload["name"] == "tv-guarded"
    running.runtime.server.context.webhook_limiter = None  # type: ignore[union-attr] - the next tests'


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"action": "explode"}, "action"),
        ({"volume": "0.1"}, "volume"),
        ({"volume": True}, "volume"),
        ({"sl": "1.0"}, "sl"),
        ({"colour": "red"}, "colour"),
        ({"uuid": "has spaces"}, "uuid"),
        ({"timestamp": "0000-01-01T00:00:00Z"}, "timestamp"),
        ({"timestamp": "yesterday"}, "timestamp"),
    ],
)
async def test_a_malformed_alert_names_the_field_and_places_nothing(
    running: Running, http: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    name = f"tv-bad-{uuid.uuid4().hex[:8]}"
    secret = await webhook(http, name, mode="auto")
    before, stored = await tickets(running), len((await http.get("/api/signals")).json())
    async with running.client() as anonymous:
        answer = await anonymous.post(f"/api/webhooks/{name}", json=tradingview(secret, **change))
    assert answer.status_code == 422, answer.text
    assert answer.json()["details"]["field"] == field
    assert await tickets(running) == before
    assert len((await http.get("/api/signals")).json()) == stored


async def test_a_body_that_is_not_json_is_422(running: Running, http: httpx.AsyncClient) -> None:
    secret = await webhook(http, "tv-text", mode="auto")
    async with running.client() as anonymous:
        answer = await anonymous.post("/api/webhooks/tv-text", content=f"buy EURUSD {secret}")
    assert answer.status_code == 422 and answer.json()["details"]["field"] == "body"


@pytest.mark.parametrize(
    ("change", "validator", "reason"),
    [
        ({"symbol": "NOSUCH"}, "symbol", "not a symbol of this terminal"),
        ({"symbol": "GBPUSD"}, "allow_list", "not among webhook tv-list's symbols"),
        ({"volume": 5000.0}, "risk", ""),
    ],
)
async def test_a_refused_alert_is_recorded_with_the_validator_that_refused_it(
    running: Running, http: httpx.AsyncClient, change: dict[str, Any], validator: str, reason: str
) -> None:
    hook = await http.get("/api/webhooks")
    if "tv-list" not in [h["name"] for h in hook.json()]:
        secret = await webhook(http, "tv-list", mode="auto", symbols=["EURUSD"])
        running.runtime.__dict__["_tv_list_secret"] = secret
    secret = running.runtime.__dict__["_tv_list_secret"]
    before = await tickets(running)
    async with running.client() as anonymous:
        body = tradingview(secret, uuid=f"refused-{validator}-{uuid.uuid4().hex[:6]}", **change)
        answer = await anonymous.post("/api/webhooks/tv-list", json=body)
    record = answer.json()
    assert record["status"] == "rejected", record
    assert record["validators"][-1]["name"] == validator and not record["validators"][-1]["approved"]
    assert reason in record["validators"][-1]["reason"] and validator in record["message"]
    assert await tickets(running) == before
    stored = await http.get(f"/api/signals/{record['uuid']}")
    assert stored.json()["status"] == "rejected"


async def test_api_signals_refuse_bad_input_naming_the_field(
    running: Running, http: httpx.AsyncClient
) -> None:
    cases = [
        ({"symbol": "EURUSD", "volume": 0.01}, "side"),
        ({"symbol": "EURUSD", "side": "buy", "volume": "1"}, "volume"),
        ({"symbol": "EURUSD", "side": "up", "volume": 0.01}, "side"),
        ({"symbol": "EURUSD", "side": "buy", "volume": 0.01, "source": "webhook:x"}, "source"),
        ({"action": "close_partial", "symbol": "EURUSD"}, "volume"),
        ({"action": "modify", "symbol": "EURUSD"}, "sl"),
    ]
    before = await tickets(running)
    for body, field in cases:
        answer = await http.post("/api/signals", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["details"]["field"] == field, (body, answer.json())
    assert await tickets(running) == before


async def test_a_close_alert_closes_the_symbols_positions(running: Running, http: httpx.AsyncClient) -> None:
    secret = await webhook(http, "tv-close", mode="auto")
    async with running.client() as anonymous:
        opened = await anonymous.post(
            "/api/webhooks/tv-close", json=tradingview(secret, symbol="usdjpy", uuid="open-jpy")
        )
        assert opened.json()["status"] == "executed", opened.text
        assert any(p.symbol == "USDJPY" for p in await positions(running))
        closed = await anonymous.post(
            "/api/webhooks/tv-close",
            json=tradingview(secret, action="flat", symbol="USDJPY", uuid="flat-jpy"),
        )
    assert closed.json()["status"] == "executed", closed.text
    assert not any(p.symbol == "USDJPY" for p in await positions(running))


async def test_a_socket_on_signals_gets_each_update_with_the_chain(
    running: Running, http: httpx.AsyncClient
) -> None:
    token = await running.login()
    client = Recorder()
    client.sio.on("signals_update", client._recorder("signals_update"))
    await client.connect(running, token)
    try:
        await client.sio.call("subscribe", {"channels": ["signals"]}, timeout=10)
        sid = f"socket-{uuid.uuid4().hex[:8]}"
        await http.post("/api/signals", json={"uuid": sid, "symbol": "EURUSD", "side": "buy", "volume": 0.01})
        await wait_until(
            lambda: any(
                u.get("status") == "pending" and u["uuid"] == sid for u in client.got("signals_update")
            )
        )
    finally:
        await client.sio.disconnect()
    updates = [u for u in client.got("signals_update") if u["uuid"] == sid]
    assert [u["status"] for u in updates] == ["received", "pending"]
    last = updates[-1]
    assert set(last) >= {
        "uuid",
        "symbol",
        "side",
        "volume",
        "tp",
        "sl",
        "source",
        "confidence",
        "timestamp",
        "validators",
        "status",
    }
    assert {"name", "type", "approved", "confidence", "reason", "timestamp"} <= set(last["validators"][0])


async def test_webhooks_are_listed_without_secrets_rotated_and_removed(
    running: Running, http: httpx.AsyncClient
) -> None:
    old = await webhook(http, "tv-rotate", mode="notify")
    listed = (await http.get("/api/webhooks")).text
    assert "tv-rotate" in listed and old not in listed and "secret" not in listed
    rotated = await http.post("/api/webhooks/tv-rotate/rotate")
    new = rotated.json()["secret"]
    async with running.client() as anonymous:
        assert (await anonymous.post("/api/webhooks/tv-rotate", json=tradingview(old))).status_code == 401
        assert (await anonymous.post("/api/webhooks/tv-rotate", json=tradingview(None))).status_code == 401
        assert (await anonymous.post("/api/webhooks/tv-rotate", json=tradingview(new))).json()[
            "status"
        ] == "notified"
        assert (
            await anonymous.post("/api/webhooks/tv-rotate?secret=" + new, json=tradingview(None, uuid="q1"))
        ).status_code == 200
    assert (await http.delete("/api/webhooks/tv-rotate")).status_code == 204
    assert (await http.delete("/api/webhooks/tv-rotate")).status_code == 404
    assert (
        await http.post("/api/webhooks", json={"name": "TV-AUTO"})
    ).status_code == 409  # names ignore case
    running.runtime.server.context.webhook_limiter = None  # type: ignore[union-attr]


def readme_alert_message() -> str:
    """The alert message the README tells a user to paste into TradingView."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    after = readme.split("Paste this as the alert's", 1)[1]
    return after.split("```json", 1)[1].split("```", 1)[0]


async def test_the_readmes_tradingview_message_places_an_order(
    running: Running, http: httpx.AsyncClient
) -> None:
    secret = await webhook(http, "tv-readme", mode="auto")
    filled = (
        readme_alert_message()
        .replace("PASTE-THE-SECRET-HERE", secret)
        .replace("{{strategy.order.action}}", "sell")
        .replace("{{ticker}}", "OANDA:GBPUSD")
        .replace("{{strategy.order.contracts}}", "0.03")
        .replace("{{close}}", "1.2712")
        .replace("{{timenow}}", "2026-12-02T11:15:00Z")
        .replace("{{strategy.order.id}}", "Short Entry")
    )
    assert "{{" not in filled
    before = await tickets(running)
    async with running.client() as anonymous:  # as TradingView posts it: a body, no token
        answer = await anonymous.post(
            "/api/webhooks/tv-readme", content=filled, headers={"Content-Type": "text/plain"}
        )
        again = await anonymous.post(
            "/api/webhooks/tv-readme", content=filled, headers={"Content-Type": "text/plain"}
        )
    assert answer.json()["status"] == "executed", answer.text
    assert again.json()["duplicate"] is True  # TradingView retrying the delivery: the same alert
    new = [p for p in await positions(running) if p.ticket in await tickets(running) - before]
    assert [(p.symbol, p.side.value, p.volume) for p in new] == [("GBPUSD", "sell", 0.03)]
