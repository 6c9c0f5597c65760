"""Price alerts through the API, against the real server on the simulator: ``POST /api/alerts`` sets
one, it fires in the app on the tick stream, ``GET /api/alerts`` shows ``fired_at``, the ``alerts``
Socket.IO channel announces it; bad input is a 422 naming the field and stores nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import socketio

from tests.server.conftest import Running

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


async def _bid(http: httpx.AsyncClient, symbol: str = "EURUSD") -> float:
    bid: float = (await http.get("/api/quotes", params={"symbols": symbol})).json()[0]["bid"]
    return bid


async def _until(http: httpx.AsyncClient, alert_id: int, what: str = "fired") -> dict[str, Any]:
    for _ in range(400):  # the sim's EURUSD ticks about once a second on a calm Wednesday
        listed = {a["id"]: a for a in (await http.get("/api/alerts")).json()}
        if listed[alert_id]["fired_at"] is not None:
            return listed[alert_id]
        await asyncio.sleep(0.05)
    raise AssertionError(f"alert {alert_id} never {what}")


async def test_an_alert_set_through_the_api_fires_and_is_announced(running: Running, token: str) -> None:
    events: list[dict[str, Any]] = []
    sio = socketio.AsyncClient(reconnection=False)

    @sio.on("alerts")  # type: ignore[misc]
    async def on_alert(data: dict[str, Any]) -> None:
        events.append(data)

    await sio.connect(running.url, auth={"token": token}, wait_timeout=10)
    try:
        await sio.call("subscribe", {"channels": ["alerts"]}, timeout=10)
        async with running.client(token) as http:
            bid = await _bid(http)
            answer = await http.post(
                "/api/alerts", json={"symbol": "EURUSD", "condition": "bid_below", "price": bid + 0.05}
            )
            assert answer.status_code == 201, answer.text
            alert = answer.json()
            assert answer.headers["location"] == f"/api/alerts/{alert['id']}"
            assert alert["fired_at"] is None and alert["active"] is True and alert["repeat"] is False
            assert alert["price"] == round(bid + 0.05, 5)

            fired = await _until(http, alert["id"])
            assert fired["fire_count"] == 1 and fired["active"] is False
            assert fired["fired_price"] <= fired["price"] and fired["fired_at"].endswith("Z")
        for _ in range(100):
            if any(e["event"] == "fired" for e in events):
                break
            await asyncio.sleep(0.05)
        kinds = [(e["event"], e["alert"]["id"]) for e in events]
        assert ("created", alert["id"]) in kinds and ("fired", alert["id"]) in kinds
    finally:
        await sio.disconnect()


async def test_deleting_an_alert_and_an_unknown_one(running: Running, token: str) -> None:
    async with running.client(token) as http:
        made = await http.post(
            "/api/alerts", json={"symbol": "GBPUSD", "condition": "ask_above", "price": 9.0, "repeat": True}
        )
        assert made.status_code == 201, made.text
        alert_id = made.json()["id"]
        assert (await http.delete(f"/api/alerts/{alert_id}")).status_code == 204
        assert alert_id not in {a["id"] for a in (await http.get("/api/alerts")).json()}
        again = await http.delete(f"/api/alerts/{alert_id}")
        assert again.status_code == 404 and again.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"symbol": "NOSUCH", "condition": "bid_above", "price": 1.0}, 422, "invalid_alert", "symbol"),
        ({"symbol": "EURUSD", "condition": "bid_over", "price": 1.0}, 422, "validation_error", "condition"),
        ({"symbol": "EURUSD", "condition": "bid_above", "price": 0}, 422, "validation_error", "price"),
        ({"symbol": "EURUSD", "condition": "bid_above", "price": "1.1"}, 422, "validation_error", "price"),
        ({"symbol": "EURUSD", "condition": "bid_above", "price": True}, 422, "validation_error", "price"),
        ({"symbol": "EURUSD", "condition": "bid_above", "price": 1.1, "repeat": "y"}, 422, "validation_error",
         "repeat"),
        ({"symbol": "EURUSD", "condition": "bid_above"}, 422, "validation_error", "price"),
        ({"symbol": "EURUSD", "condition": "bid_above", "price": 1.1, "x": 1}, 422, "validation_error", "x"),
    ],
)  # fmt: skip
async def test_a_bad_alert_is_refused_naming_the_field_and_nothing_is_set(
    running: Running, token: str, body: dict[str, Any], status: int, code: str, field: str
) -> None:
    async with running.client(token) as http:
        before = (await http.get("/api/alerts")).json()
        answer = await http.post("/api/alerts", json=body)
        assert answer.status_code == status, answer.text
        assert answer.json()["code"] == code and answer.json()["details"]["field"] == field
        assert (await http.get("/api/alerts")).json() == before


async def test_alerts_need_a_token(running: Running) -> None:
    async with running.client() as http:
        assert (await http.get("/api/alerts")).status_code == 401
        assert (await http.post("/api/alerts", json={})).status_code == 401
        assert (await http.delete("/api/alerts/1")).status_code == 401
