"""``POST /api/modify`` of a sell stop: the audit trail and the Journal name the sell stop (its type,
side, volume and ticket), not a request's defaults ("modify buy 0.00")."""

from __future__ import annotations

import logging

import pytest

from app.audit import AuditQuery, AuditReader, audit_dir
from tests.server.conftest import Running
from tests.support.sim_fixtures import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


async def test_modifying_a_sell_stop_through_the_api_names_the_sell_stop(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.core.trading")  # the Journal's line of the modify
    token = await running.login()
    async with running.client(token) as http:
        quote = (await http.get("/api/quotes", params={"symbols": "EURUSD"})).json()
        bid = quote[0]["bid"] if isinstance(quote, list) else quote["EURUSD"]["bid"]
        placed = await http.post(
            "/api/place",
            json={
                "symbol": "EURUSD",
                "side": "sell",
                "volume": 0.2,
                "type": "stop",
                "price": round(bid - 0.005, 5),
            },
        )
        assert placed.status_code == 200, placed.text
        ticket = placed.json()["ticket"]
        await wait_until(lambda: any(o.ticket == ticket for o in running.runtime.account_state.orders))
        modified = await http.post("/api/modify", json={"order_id": ticket, "price": round(bid - 0.006, 5)})
        assert modified.status_code == 200, modified.text
        await running.runtime.trading.cancel_order(ticket)  # tidy up for the module's other tests

    reader = AuditReader(audit_dir(running.data_dir))
    (intent,) = [
        e for e in reader.query(AuditQuery(action="order.modify")) if e.payload.get("order") == ticket
    ]
    assert intent.actor == "api:admin"
    p = intent.payload
    assert (p["type"], p["side"], p["volume"], p["ticket"]) == ("sell_stop", "sell", 0.2, ticket)
    story = reader.query(AuditQuery(client_id=p["client_id"]))
    assert [e.action for e in story] == ["order.modify", "order.check", "order.result"]
    assert all(e.payload["type"] == "sell_stop" and e.payload["volume"] == 0.2 for e in story)
    journal = [message for message in caplog.messages if f"#{ticket}" in message]
    assert any(f"modify of order #{ticket} EURUSD" in line for line in journal), journal
    assert not any("modify buy" in line for line in journal)
