"""Market data, account state and the trading service over a real worker and the simulated server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.core.account_state import AccountState
from app.core.hub import Delivery, EventHub, Topic
from app.core.market_data import MarketData
from app.core.trading import TradingService
from app.models import (
    AmbiguousOutcomeError,
    BarUpdate,
    DealEntry,
    OrderRequest,
    OrderType,
    Quote,
    RejectedError,
    Side,
    TemporaryError,
    Timeframe,
    TradeAction,
)
from app.mt5.pool import TerminalPool
from app.mt5.sim.admin import SimAdmin
from tests.support.sim_fixtures import wait_until

pytestmark = pytest.mark.slow

TEST_ACCOUNT = (5001006, "Demo-1006", "SimBroker-Demo")  # USD hedging, no positions


class Services:
    def __init__(self, hub: EventHub, pool: TerminalPool) -> None:
        self.hub = hub
        self.pool = pool
        self.market = MarketData(hub, pool, poll_interval_s=0.01)
        self.account = AccountState(hub, pool, interval_s=0.2)
        self.trading = TradingService(pool, self.account)


@pytest.fixture
async def services(client_factory: Any) -> AsyncIterator[Services]:
    client, _ = await client_factory()
    await client.login(*TEST_ACCOUNT)
    hub = EventHub()
    pool = TerminalPool([client], lambda state: hub.publish(Topic.TERMINAL, state, key=state.terminal_id))
    found = Services(hub, pool)
    await found.market.start()
    await found.account.start()
    yield found
    await found.account.stop()
    await found.market.stop()


async def test_quotes_ticks_and_live_bars_reach_the_hub(services: Services) -> None:
    quotes = services.hub.subscribe(Topic.QUOTES)
    ticks = services.hub.subscribe(Topic.TICKS, Delivery.ALL)
    bars = services.hub.subscribe(Topic.BARS, Delivery.ALL)
    assert await services.market.subscribe(["EURUSD", "USDJPY"]) == ["EURUSD", "USDJPY"]
    await services.market.watch_bars("EURUSD", Timeframe.M1)
    await wait_until(lambda: len(quotes) == 2 and len(bars) > 0)
    by_symbol = {e.key: e.value for e in quotes.drain()}
    eurusd: Quote = by_symbol["EURUSD"]
    assert eurusd.ask > eurusd.bid > 0
    assert eurusd.spread_points == round((eurusd.ask - eurusd.bid) / 0.00001)
    assert eurusd.digits == 5 and eurusd.day_open > 0
    assert by_symbol["USDJPY"].digits == 3
    update: BarUpdate = bars.drain()[-1].value
    assert update.symbol == "EURUSD" and update.timeframe is Timeframe.M1
    assert update.bar.low <= update.bar.close <= update.bar.high
    assert {e.key for e in ticks.drain()} == {"EURUSD", "USDJPY"}

    history = await services.market.bars("EURUSD", Timeframe.H1, 100)
    assert len(history) == 100 and history.time[-1] > history.time[0]
    older = await services.market.bars_before("EURUSD", Timeframe.H1, int(history.time[0]), 50)
    assert len(older) == 50 and older.time[-1] < history.time[0]

    await services.market.unsubscribe(["USDJPY"])
    assert services.market.subscribed == ["EURUSD"]


async def test_unknown_symbol_is_refused_by_name(services: Services) -> None:
    with pytest.raises(RejectedError, match="unknown symbol 'NOPE'"):
        await services.market.subscribe(["NOPE"])
    assert await services.market.subscribe(["NOPE", "GBPUSD"], strict=False) == ["GBPUSD"]


async def test_place_modify_and_close_a_position(services: Services) -> None:
    positions = services.hub.subscribe(Topic.POSITIONS)
    result = await services.trading.place(
        OrderRequest(TradeAction.DEAL, "EURUSD", 0.10, OrderType.BUY, comment="test buy")
    )
    assert result.ok and result.order > 0 and result.client_id
    mine = [p for p in services.account.positions if p.ticket == result.order]
    assert mine and mine[0].side is Side.BUY and mine[0].volume == pytest.approx(0.10)
    assert any(result.order in [p.ticket for p in e.value] for e in positions.drain())

    sl = round(mine[0].price_open - 0.0050, 5)
    await services.trading.modify_position(result.order, sl=sl, tp=0.0)
    assert [p.sl for p in services.account.positions if p.ticket == result.order] == [pytest.approx(sl)]

    await services.trading.close_position(result.order, volume=0.04)
    assert [p.volume for p in services.account.positions if p.ticket == result.order] == [pytest.approx(0.06)]
    await services.trading.close_position(result.order)
    assert all(p.ticket != result.order for p in services.account.positions)

    deals = await services.account.deals(
        mine[0].time - timedelta(minutes=1), datetime.now(UTC) + timedelta(days=3)
    )
    entries = [(d.entry, d.volume) for d in deals if d.position_id == result.order]
    assert entries == [(DealEntry.IN, 0.10), (DealEntry.OUT, 0.04), (DealEntry.OUT, pytest.approx(0.06))]


async def test_pending_order_place_and_cancel(services: Services) -> None:
    tick = await services.pool.live.call("tick", "EURUSD")
    price = round(tick.ask - 0.0100, 5)
    result = await services.trading.place(
        OrderRequest(TradeAction.PENDING, "EURUSD", 0.05, OrderType.BUY_LIMIT, price=price)
    )
    assert result.ok
    assert [o.price_open for o in services.account.orders if o.ticket == result.order] == [
        pytest.approx(price)
    ]
    await services.trading.cancel_order(result.order)
    assert all(o.ticket != result.order for o in services.account.orders)


async def test_refused_request_names_the_reason_and_changes_nothing(services: Services) -> None:
    await services.account.refresh()
    before = (services.account.account, services.account.positions)
    tick = await services.pool.live.call("tick", "EURUSD")
    with pytest.raises(RejectedError, match="INVALID_STOPS") as caught:
        await services.trading.place(
            OrderRequest(TradeAction.DEAL, "EURUSD", 0.10, OrderType.BUY, sl=round(tick.bid - 0.00002, 5))
        )
    assert caught.value.code == 10016
    with pytest.raises(RejectedError, match="INVALID_VOLUME"):
        await services.trading.place(OrderRequest(TradeAction.DEAL, "EURUSD", 0.013, OrderType.BUY))
    await services.account.refresh()
    assert services.account.positions == before[1]
    assert services.account.account is not None and before[0] is not None
    assert services.account.account.balance == before[0].balance


async def test_requote_is_temporary_and_a_lost_send_is_ambiguous(services: Services, admin: SimAdmin) -> None:
    admin.set_faults("t1", requote_probability=1.0)
    with pytest.raises(TemporaryError, match="REQUOTE"):
        await services.trading.place(OrderRequest(TradeAction.DEAL, "EURUSD", 0.01, OrderType.SELL))
    admin.set_faults("t1", replace=True, timeout_after_execute=True, functions=["order_send"])
    with pytest.raises(AmbiguousOutcomeError) as caught:
        await services.trading.place(
            OrderRequest(TradeAction.DEAL, "EURUSD", 0.01, OrderType.SELL, client_id="abc123")
        )
    assert caught.value.client_id == "abc123"
    admin.clear_faults("t1")
    await wait_until(lambda: services.pool.live.state.connected)
    await services.account.refresh()
    assert any(p.side is Side.SELL and p.volume == pytest.approx(0.01) for p in services.account.positions)
