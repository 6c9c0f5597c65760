"""Order safety through the trading service, against the simulator with fault injection: one order per
client id (concurrently and across a restart), ambiguous sends settled by reconciliation and never
resent, risk limits and the kill switch, real accounts, the lent terminal, and the audit trail."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.audit import AuditQuery, AuditReader, audit_dir
from app.config import RiskLimits, TradingSettings
from app.core.client_ids import tag_for
from app.models import (
    AmbiguousOutcomeError,
    OrderRequest,
    OrderType,
    RiskLimitError,
    TradeAction,
    TradingDisabledError,
)
from app.mt5.sim.admin import SimAdmin
from tests.support.services import Services
from tests.support.sim_fixtures import wait_until

pytestmark = pytest.mark.slow

TEST_ACCOUNT = (5001006, "Demo-1006", "SimBroker-Demo")
REAL_ACCOUNT = (5001004, "Real-1004", "SimBroker-Live")


def buy(volume: float = 0.01, client_id: str = "", symbol: str = "EURUSD") -> OrderRequest:
    return OrderRequest(TradeAction.DEAL, symbol, volume, OrderType.BUY, client_id=client_id)


async def tagged(services: Services, client_id: str) -> tuple[list[Any], list[Any]]:
    """Positions and deals on the server that carry this client id's tag."""
    tag = tag_for(client_id)
    positions = [p for p in await services.pool.live.call("positions") if tag in p.comment]
    deals = [d for d in await services.pool.live.call("history_deals", 0, 4_000_000_000) if tag in d.comment]
    return positions, deals


@pytest.fixture
async def make_services(client_factory: Any, tmp_path: Path) -> AsyncIterator[Any]:
    built: list[Services] = []

    async def make(
        trading: TradingSettings | None = None,
        account: tuple[int, str, str] = TEST_ACCOUNT,
        client: Any = None,
    ) -> Services:
        if client is None:
            client, _ = await client_factory()
            await client.login(*account)
        services = await Services(client, tmp_path / "data", trading).start()
        built.append(services)
        return services

    yield make
    for services in built:
        await services.stop()


async def test_the_same_uuid_ten_times_concurrently_is_one_order(make_services: Any) -> None:
    services = await make_services()
    results = await asyncio.gather(*(services.trading.place(buy(client_id="same-uuid-1")) for _ in range(10)))
    assert sum(not r.duplicate for r in results) == 1
    assert {r.order for r in results} == {results[0].order}  # every answer names the one order
    positions, deals = await tagged(services, "same-uuid-1")
    assert len(positions) == 1 and len(deals) == 1


async def test_a_worker_killed_during_the_send_is_reconciled_and_never_resent(
    make_services: Any, admin: SimAdmin
) -> None:
    services = await make_services()
    admin.set_faults("t1", latency_ms=1_500, functions=["order_send"])  # the server executes after 1.5 s
    sending = asyncio.create_task(services.trading.place(buy(0.02, client_id="killed-mid-send")))
    await asyncio.sleep(0.5)
    pid = services.pool.live.worker_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # the worker dies while its order_send is on the way
    result = await asyncio.wait_for(sending, 30)
    admin.clear_faults("t1")

    assert result.ok and result.extra.get("reconciled") is True  # the true outcome, from the terminal
    positions, deals = await tagged(services, "killed-mid-send")
    assert len(positions) == 1 and positions[0].ticket == result.order
    again = await services.trading.place(buy(0.02, client_id="killed-mid-send"))
    assert again.duplicate and again.order == result.order
    assert len((await tagged(services, "killed-mid-send"))[1]) == 1  # nothing new was sent


async def test_a_lost_answer_with_no_trace_is_unknown_and_never_resent(
    make_services: Any, admin: SimAdmin
) -> None:
    services = await make_services(TradingSettings(reconcile_window_s=1.5))
    admin.set_faults("t1", ipc_timeout=True, functions=["order_send"])  # lost before it reached the server
    with pytest.raises(AmbiguousOutcomeError, match="unknown") as caught:
        await services.trading.place(buy(client_id="lost-answer"))
    assert caught.value.client_id == "lost-answer"
    admin.clear_faults("t1")
    await wait_until(lambda: services.pool.live.state.connected)
    with pytest.raises(AmbiguousOutcomeError):  # the same id again: looked up again, not sent
        await services.trading.place(buy(client_id="lost-answer"))
    assert await tagged(services, "lost-answer") == ([], [])
    story = AuditReader(audit_dir(services.data_dir)).query(AuditQuery(client_id="lost-answer"))
    assert [e.action for e in story] == ["order.intent", "order.check", "order.result", "order.reconcile"]
    assert story[2].payload["outcome"] == "ambiguous" and story[3].payload["outcome"] == "unknown"


async def test_one_order_per_uuid_also_after_a_restart(make_services: Any, client_factory: Any) -> None:
    first = await make_services()
    result = await first.trading.place(buy(client_id="before-restart"))
    await first.stop()
    client, _ = await client_factory("t2")
    await client.login(*TEST_ACCOUNT)
    second = await make_services(client=client)  # the same data dir: a restarted app
    again = await second.trading.place(buy(client_id="before-restart"))
    assert again.duplicate and again.order == result.order
    assert len((await tagged(second, "before-restart"))[1]) == 1


async def test_an_order_leaves_an_intent_then_an_outcome_linked_by_its_id(make_services: Any) -> None:
    services = await make_services()
    result = await services.trading.place(buy(client_id="audited-1"), actor="api:alice", note="from a test")
    story = AuditReader(audit_dir(services.data_dir)).query(AuditQuery(client_id="audited-1"))
    assert [e.action for e in story] == ["order.intent", "order.check", "order.result"]
    intent, _, outcome = story
    assert intent.actor == outcome.actor == "api:alice"
    assert intent.account == f"{TEST_ACCOUNT[0]}@{TEST_ACCOUNT[2]}"
    assert intent.payload["symbol"] == "EURUSD" and intent.payload["note"] == "from a test"
    assert intent.seq < outcome.seq
    assert outcome.payload["ticket"] == result.order and outcome.payload["outcome"] == "done"


async def test_a_dry_run_checks_and_sends_nothing(make_services: Any) -> None:
    services = await make_services()
    check = await services.trading.check(buy(0.5, client_id="dry-1"))
    assert check.ok and check.margin > 0
    assert await tagged(services, "dry-1") == ([], [])
    await services.account.refresh()
    assert services.account.positions == ()


async def test_each_risk_limit_refuses_the_order_that_would_break_it(make_services: Any) -> None:
    limits = RiskLimits(max_volume_per_order=0.05, max_open_positions=2, max_orders_per_second=0)
    services = await make_services(TradingSettings(limits=limits))
    with pytest.raises(RiskLimitError, match="above the limit of 0.05") as too_big:
        await services.trading.place(buy(0.06))
    assert too_big.value.limit == "max_volume_per_order"
    await services.trading.place(buy(0.05))
    await services.trading.place(buy(0.01))
    with pytest.raises(RiskLimitError, match="2 positions are open") as too_many:
        await services.trading.place(buy(0.01))
    assert too_many.value.limit == "max_open_positions"
    positions = services.account.positions
    await services.trading.close_position(positions[0].ticket)  # closing is never limited
    await services.trading.place(buy(0.01))


async def test_the_order_rate_limit(make_services: Any) -> None:
    services = await make_services(TradingSettings(limits=RiskLimits(max_orders_per_second=2)))
    await services.trading.place(buy())
    await services.trading.place(buy())
    with pytest.raises(RiskLimitError, match="orders a second") as caught:
        await services.trading.place(buy())
    assert caught.value.limit == "max_orders_per_second"
    await asyncio.sleep(1.1)
    await services.trading.place(buy())


async def test_the_daily_loss_kill_switch_trips_blocks_and_survives_a_restart(
    make_services: Any, client_factory: Any
) -> None:
    limits = RiskLimits(max_daily_loss=2.0, max_orders_per_second=0)
    services = await make_services(TradingSettings(limits=limits))
    result = await services.trading.place(buy(0.3))  # the spread and commission make it a small loss ...
    await services.trading.close_position(result.order)  # ... realised now: more than 2 USD
    with pytest.raises(RiskLimitError, match="kill switch") as caught:
        await services.trading.place(buy(0.01))
    assert caught.value.limit == "kill_switch"
    key = f"{TEST_ACCOUNT[0]}@{TEST_ACCOUNT[2]}"
    assert services.risk.kill_switch(key) is not None
    trips = AuditReader(audit_dir(services.data_dir)).query(AuditQuery(action="risk.kill_switch"))
    assert [e.payload["state"] for e in trips] == ["tripped"]

    await services.stop()
    client, _ = await client_factory("t2")
    await client.login(*TEST_ACCOUNT)
    restarted = await make_services(TradingSettings(limits=limits), client=client)
    with pytest.raises(RiskLimitError, match="kill switch"):
        await restarted.trading.place(buy(0.01))
    assert await restarted.trading.reset_kill_switch(key, actor="gui")
    lenient = RiskLimits(max_daily_loss=1_000.0, max_orders_per_second=0)
    restarted.risk.settings = TradingSettings(limits=lenient)
    assert (await restarted.trading.place(buy(0.01))).ok


async def test_a_real_account_trades_only_when_enabled(make_services: Any) -> None:
    refused = await make_services(account=REAL_ACCOUNT)
    with pytest.raises(TradingDisabledError, match="REAL account"):
        await refused.trading.place(buy())
    key = f"{REAL_ACCOUNT[0]}@{REAL_ACCOUNT[2]}"
    enabled = await make_services(TradingSettings(real_enabled=[key]), account=REAL_ACCOUNT)
    assert (await enabled.trading.place(buy())).ok


async def test_orders_are_refused_while_the_terminal_is_on_another_account(make_services: Any) -> None:
    services = await make_services()
    async with services.pool.borrow_live("carousel"):
        with pytest.raises(TradingDisabledError, match="visiting another account"):
            await services.trading.place(buy())
    terminal = services.pool.live
    await terminal.call("login", 5001002, "Demo-1002", "SimBroker-Demo", 10_000)  # behind the app's back
    with pytest.raises(TradingDisabledError, match="not the live account 5001006"):
        await services.trading.place(buy())
    await services.account.refresh()
    assert services.account.positions == ()
