"""Every open order intent gets a verdict, and the error a caller gets says — the same way every time —
whether its uuid may be sent again.

* A crash (the app stopped mid-order, as kill -9 leaves it) before the order reached ``order_send``:
  at the next start reconciliation records ``order.reconcile`` with verdict ``not_sent``, and the same
  uuid can be sent again — it is placed, and the answer says why.
* A crash after ``order_send``: the terminal's deals and orders tell ``filled`` or ``pending`` (or
  ``rejected`` for an order that ended without a fill); no trace at all is ``unknown``, recorded once,
  and that uuid is never resent.
* Live: nothing sent (the worker died during ``order_check``, a requote) is a temporary error and the
  uuid is free; a refusal (``order_check`` said no) is a rejection and the uuid keeps that answer.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.audit import AuditQuery, AuditReader, audit_dir
from app.config import TradingSettings
from app.core.client_ids import tag_for
from app.models import (
    AmbiguousOutcomeError,
    OrderRequest,
    OrderType,
    RejectedError,
    TemporaryError,
    TradeAction,
)
from app.mt5.sim.admin import SimAdmin
from tests.support.services import Services
from tests.support.sim_fixtures import wait_until

pytestmark = pytest.mark.slow

ACCOUNT = (5001006, "Demo-1006", "SimBroker-Demo")


def buy(client_id: str, volume: float = 0.01) -> OrderRequest:
    return OrderRequest(TradeAction.DEAL, "EURUSD", volume, OrderType.BUY, client_id=client_id)


def story(services: Services, client_id: str) -> list[Any]:
    return AuditReader(audit_dir(services.data_dir)).query(AuditQuery(client_id=client_id))


def verdicts(services: Services, client_id: str) -> list[str]:
    return [e.payload.get("verdict") for e in story(services, client_id) if e.action == "order.reconcile"]


async def tagged_deals(services: Services, client_id: str) -> list[Any]:
    tag = tag_for(client_id)
    return [d for d in await services.pool.live.call("history_deals", 0, 4_000_000_000) if tag in d.comment]


@pytest.fixture
async def app(client_factory: Any, tmp_path: Path) -> AsyncIterator[Any]:
    """Start the services; ``crash()`` stops them as kill -9 would leave things (whatever was under way
    is cut off, nothing more is written), ``restart()`` starts them again on the same data dir."""
    running: list[Services] = []
    names = iter(f"t{i}" for i in range(1, 10))

    async def start() -> Services:
        client, _ = await client_factory(next(names))
        await client.login(*ACCOUNT)
        services = await Services(client, tmp_path / "data", TradingSettings(reconcile_window_s=2.0)).start()
        running.append(services)
        return services

    class App:
        services: Services

        async def start(self) -> Services:
            self.services = await start()
            return self.services

        async def crash(self, *under_way: asyncio.Task[Any]) -> None:
            for task in under_way:
                task.cancel()
            await asyncio.gather(*under_way, return_exceptions=True)
            await self.services.stop()
            running.remove(self.services)

        async def restart(self) -> Services:
            return await self.start()

    yield App()
    for services in running:
        await services.stop()


async def _row(services: Services, client_id: str) -> Any:
    return await services.db.run(lambda tx: tx.client_orders.get(client_id), readonly=True)


async def handed_to_order_send(services: Services, client_id: str) -> None:
    """Wait until the order is on its way to ``order_send`` (the moment a crash stops being provably
    harmless)."""
    for _ in range(1500):
        row = await _row(services, client_id)
        if row is not None and row.sent_at is not None:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{client_id} never reached order_send")


async def on_the_server(services: Services, client_id: str, *, pending: bool = False) -> None:
    """Wait until the trade server carried the order out (the cut-off app's worker still delivers it)."""
    tag = tag_for(client_id)
    for _ in range(300):
        if pending:
            found = [o for o in await services.pool.live.call("orders") if tag in o.comment]
        else:
            found = await tagged_deals(services, client_id)
        if found:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{client_id} never reached the trade server")


async def test_an_order_cut_off_before_it_was_sent_gets_not_sent_and_may_be_sent_again(
    app: Any, admin: SimAdmin
) -> None:
    services = await app.start()
    admin.set_faults("t1", latency_ms=5_000, functions=["order_check"])
    placing = asyncio.create_task(services.trading.place(buy("cut-before-send")))
    await wait_until(lambda: [e.action for e in story(services, "cut-before-send")] == ["order.intent"])
    await app.crash(placing)
    admin.clear_faults()

    restarted = await app.restart()
    await wait_until(lambda: verdicts(restarted, "cut-before-send") == ["not_sent"], within_s=30)
    reconciled = story(restarted, "cut-before-send")[-1]
    assert reconciled.actor == "system" and "may be sent again" in reconciled.payload["how"]
    named = {k: reconciled.payload.get(k) for k in ("symbol", "side", "type", "volume")}
    assert named == {"symbol": "EURUSD", "side": "buy", "type": "buy", "volume": 0.01}  # the order's own
    assert await tagged_deals(restarted, "cut-before-send") == []

    again = await restarted.trading.place(buy("cut-before-send"))  # the same uuid: placed now
    assert again.ok and not again.duplicate and again.extra.get("resent") == "not_sent"
    assert len(await tagged_deals(restarted, "cut-before-send")) == 1
    actions = [e.action for e in story(restarted, "cut-before-send")]
    assert actions == ["order.intent", "order.reconcile", "order.intent", "order.check", "order.result"]
    once_more = await restarted.trading.place(buy("cut-before-send"))
    assert once_more.duplicate and once_more.order == again.order


async def test_an_order_cut_off_after_it_was_sent_is_found_filled(app: Any, admin: SimAdmin) -> None:
    services = await app.start()
    admin.set_faults("t1", latency_ms=1_500, functions=["order_send"])  # the server fills it after 1.5 s
    placing = asyncio.create_task(services.trading.place(buy("cut-after-send", 0.02)))

    await handed_to_order_send(services, "cut-after-send")
    await app.crash(placing)
    await on_the_server(services, "cut-after-send")
    admin.clear_faults()

    restarted = await app.restart()
    await wait_until(lambda: verdicts(restarted, "cut-after-send") == ["filled"], within_s=30)
    assert len(await tagged_deals(restarted, "cut-after-send")) == 1
    again = await restarted.trading.place(buy("cut-after-send", 0.02))
    assert again.ok and again.duplicate and again.extra.get("verdict") == "filled"
    assert len(await tagged_deals(restarted, "cut-after-send")) == 1  # never sent twice


async def test_a_pending_order_cut_off_after_it_was_sent_is_found_pending(app: Any, admin: SimAdmin) -> None:
    services = await app.start()
    tick = await services.pool.live.call("tick", "EURUSD")
    limit = OrderRequest(
        TradeAction.PENDING, "EURUSD", 0.01, OrderType.BUY_LIMIT, price=round(tick.bid - 0.01, 5),
        client_id="cut-pending",
    )  # fmt: skip
    admin.set_faults("t1", latency_ms=1_500, functions=["order_send"])
    placing = asyncio.create_task(services.trading.place(limit))
    await handed_to_order_send(services, "cut-pending")
    await app.crash(placing)
    await on_the_server(services, "cut-pending", pending=True)
    admin.clear_faults()

    restarted = await app.restart()
    await wait_until(lambda: verdicts(restarted, "cut-pending") == ["pending"], within_s=30)
    reconciled = story(restarted, "cut-pending")[-1].payload
    assert (reconciled["side"], reconciled["type"], reconciled["volume"]) == ("buy", "buy_limit", 0.01)
    again = await restarted.trading.place(limit)
    assert again.duplicate and again.extra.get("verdict") == "pending" and again.order > 0
    await restarted.trading.cancel_order(again.order)


async def test_a_sent_order_with_no_trace_is_unknown_once_and_never_resent(app: Any, admin: SimAdmin) -> None:
    services = await app.start()
    # The request is lost on its way (it never reaches the trade server), and the app is cut off meanwhile.
    admin.set_faults("t1", ipc_timeout=True, ipc_timeout_after_s=3.0, functions=["order_send"])
    placing = asyncio.create_task(services.trading.place(buy("cut-no-trace")))
    await handed_to_order_send(services, "cut-no-trace")
    await app.crash(placing)
    admin.clear_faults()

    restarted = await app.restart()
    await wait_until(lambda: verdicts(restarted, "cut-no-trace") == ["unknown"], within_s=30)
    with pytest.raises(AmbiguousOutcomeError):
        await restarted.trading.place(buy("cut-no-trace"))
    assert await tagged_deals(restarted, "cut-no-trace") == []
    await app.crash()
    third = await app.restart()
    await asyncio.sleep(1.0)
    assert verdicts(third, "cut-no-trace") == ["unknown"]  # one verdict, not one per restart


async def test_a_worker_killed_during_order_check_frees_the_uuid(app: Any, admin: SimAdmin) -> None:
    services = await app.start()
    admin.set_faults("t1", latency_ms=1_500, functions=["order_check"])
    placing = asyncio.create_task(services.trading.place(buy("killed-in-check")))
    await wait_until(lambda: [e.action for e in story(services, "killed-in-check")] == ["order.intent"])
    pid = services.pool.live.worker_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(TemporaryError):
        await asyncio.wait_for(placing, 30)
    admin.clear_faults()
    await wait_until(lambda: services.pool.live.state.connected, within_s=30)
    again = await services.trading.place(buy("killed-in-check"))  # temporary: the uuid is free
    assert again.ok and not again.duplicate
    assert len(await tagged_deals(services, "killed-in-check")) == 1


async def test_a_requote_frees_the_uuid_and_a_refusal_keeps_its_answer(app: Any, admin: SimAdmin) -> None:
    services = await app.start()
    admin.set_faults("t1", requote_probability=1.0)
    with pytest.raises(TemporaryError):
        await services.trading.place(buy("requoted"))
    admin.clear_faults()
    placed = await services.trading.place(buy("requoted"))
    assert placed.ok and not placed.duplicate

    for _ in range(2):  # far more than the account's margin: order_check refuses, both times alike
        with pytest.raises(RejectedError):
            await services.trading.place(buy("too-big", 90.0))
    assert await tagged_deals(services, "too-big") == []
