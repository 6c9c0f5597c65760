"""How an order is recorded: the intent is on disk before the terminal sees the order, the result after,
both under one client id. The trading service (another package) follows this; here a stand-in terminal
checks the disk at the moment the order reaches it."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from app.audit import (
    Action,
    Actor,
    AuditQuery,
    AuditReader,
    AuditTrail,
    OrderAudit,
    account_ref,
    verify_trail,
)


class CheckingTerminal:
    """Sends nothing; records whether the intent was already on disk when ``order_send`` came."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.intent_on_disk_at_send: bool | None = None

    async def order_send(self, client_id: str) -> dict[str, int]:
        intents = AuditReader(self.directory).query(AuditQuery(client_id=client_id, action="order.intent"))
        self.intent_on_disk_at_send = len(intents) == 1
        return {"retcode": 10009, "order": 123456, "deal": 654321}


async def place(trail: AuditTrail, terminal: CheckingTerminal, client_id: str) -> None:
    """What the trading service does for a market order (see app.audit.orders)."""
    audit = OrderAudit(
        trail, actor=Actor.api("alice"), account=account_ref(5001, "Sim-Demo"), client_id=client_id
    )
    await audit.intent(Action.ORDER_INTENT, symbol="EURUSD", side="buy", volume=0.1, type="market", sl=None)
    await audit.check(retcode=0, margin=110.2)
    started = time.perf_counter()
    result = await terminal.order_send(client_id)
    await audit.result(
        retcode=result["retcode"],
        ticket=result["order"],
        deal=result["deal"],
        latency_ms=(time.perf_counter() - started) * 1000,
    )


async def test_an_order_leaves_its_intent_then_its_outcome_linked_by_one_id(trail_dir: Path) -> None:
    trail = AuditTrail(trail_dir)
    await trail.start()
    terminal = CheckingTerminal(trail_dir)
    client_id = str(uuid.uuid4())
    await trail.append("gui", "carousel.start")  # unrelated entries around it
    await place(trail, terminal, client_id)
    await place(trail, terminal, str(uuid.uuid4()))
    await trail.stop()

    assert terminal.intent_on_disk_at_send is True
    story = AuditReader(trail_dir).query(AuditQuery(client_id=client_id))
    assert [e.action for e in story] == ["order.intent", "order.check", "order.result"]
    assert {e.account for e in story} == {"5001@Sim-Demo"} and {e.actor for e in story} == {"api:alice"}
    intent, _, outcome = story
    assert intent.payload["symbol"] == "EURUSD" and intent.seq < outcome.seq
    assert outcome.payload["retcode"] == 10009 and outcome.payload["ticket"] == 123456
    assert outcome.payload["latency_ms"] >= 0
    assert verify_trail(trail_dir).ok


async def test_an_intent_must_be_an_order_command(trail_dir: Path) -> None:
    trail = AuditTrail(trail_dir)
    audit = OrderAudit(trail, actor="gui", account=None, client_id="c1")
    with pytest.raises(ValueError, match="not an order intent"):
        await audit.intent(Action.ORDER_RESULT)
