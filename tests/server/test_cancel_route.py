"""``POST /api/cancel``: a dashboard removes a pending order through the trading service (audited as
the API user, with the order's own side and volume), and a ticket that is no pending order is a 404
that removes nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.audit import AuditQuery, AuditReader, audit_dir
from tests.server.conftest import Running

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


async def _listed(http: httpx.AsyncClient) -> set[int]:
    return {o["ticket"] for o in (await http.get("/api/orders")).json()}


async def _until_listed(http: httpx.AsyncClient, ticket: int, listed: bool = True) -> None:
    """The account state the routes read is refreshed in the background (every 0.2 s here)."""
    for _ in range(200):
        if (ticket in await _listed(http)) is listed:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"order {ticket} {'never' if listed else 'still'} listed")


async def _pending_ticket(http: httpx.AsyncClient, symbol: str = "EURUSD") -> int:
    quote = (await http.get("/api/quotes", params={"symbols": symbol})).json()[0]
    below = round(quote["bid"] - 0.01, 5)  # far under the market: it waits
    placed = await http.post(
        "/api/place",
        json={"symbol": symbol, "side": "buy", "volume": 0.03, "type": "limit", "price": below},
    )
    assert placed.status_code == 200, placed.text
    ticket: int = placed.json()["ticket"]
    return ticket


async def test_a_pending_order_is_cancelled_and_the_trail_names_it(running: Running, token: str) -> None:
    async with running.client(token) as http:
        ticket = await _pending_ticket(http)
        await _until_listed(http, ticket)
        answer = await http.post("/api/cancel", json={"order_id": ticket, "audit_note": "no longer wanted"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["success"] is True and answer.json()["ticket"] == ticket
        await _until_listed(http, ticket, listed=False)

    reader = AuditReader(audit_dir(running.data_dir))
    entries = reader.query(AuditQuery(actor="api:admin", text=str(ticket)))
    cancels = [e for e in entries if e.action == "order.cancel"]
    assert len(cancels) == 1, [(e.action, e.payload) for e in entries]
    assert cancels[0].payload.get("order") == ticket, cancels[0].payload
    assert cancels[0].payload.get("note") == "no longer wanted", cancels[0].payload


async def test_an_unknown_ticket_is_a_404_and_nothing_is_removed(running: Running, token: str) -> None:
    async with running.client(token) as http:
        ticket = await _pending_ticket(http)
        await _until_listed(http, ticket)
        before = await _listed(http)
        missing = await http.post("/api/cancel", json={"order_id": 999_999_999})
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"
        assert "999999999" in missing.json()["error"]
        for bad in (
            {"order_id": True},
            {"order_id": "12"},
            {"order_id": 0},
            {},
            {"order_id": ticket, "x": 1},
        ):
            refused = await http.post("/api/cancel", json=bad)
            assert refused.status_code == 422, (bad, refused.text)
            assert refused.json()["code"] == "validation_error"
        assert await _listed(http) == before


async def test_cancel_needs_a_token(running: Running) -> None:
    async with running.client() as http:
        answer = await http.post("/api/cancel", json={"order_id": 1})
    assert answer.status_code == 401
