"""Market data, account state and the trading service over a real worker and the simulated server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.core.hub import Delivery, Topic
from app.models import (
    BarUpdate,
    DealEntry,
    OrderRequest,
    OrderType,
    OrderValidationError,
    Quote,
    RejectedError,
    Side,
    TemporaryError,
    Timeframe,
    TradeAction,
)
from app.mt5.sim.admin import SimAdmin
from tests.support.services import Services
from tests.support.sim_fixtures import wait_until

pytestmark = pytest.mark.slow


async def test_quotes_ticks_and_live_bars_reach_the_hub(services: Services) -> None:
    quotes = services.hub.subscribe(Topic.QUOTES)
    ticks = services.hub.subscribe(Topic.TICKS, Delivery.ALL)
    bars = services.hub.subscribe(Topic.BARS, Delivery.ALL)
    assert await services.market.subscribe(["EURUSD", "USDJPY"]) == ["EURUSD", "USDJPY"]
    await services.market.watch_bars("EURUSD", Timeframe.M1)
    ticked: set[str] = set()

    def both_ticked() -> bool:
        ticked.update(e.key for e in ticks.drain())
        return ticked == {"EURUSD", "USDJPY"}

    await wait_until(lambda: len(quotes) == 2 and len(bars) > 0 and both_ticked())
    by_symbol = {e.key: e.value for e in quotes.drain()}
    eurusd: Quote = by_symbol["EURUSD"]
    assert eurusd.ask > eurusd.bid > 0
    assert eurusd.spread_points == round((eurusd.ask - eurusd.bid) / 0.00001)
    assert eurusd.digits == 5 and eurusd.day_open > 0
    assert by_symbol["USDJPY"].digits == 3
    update: BarUpdate = bars.drain()[-1].value
    assert update.symbol == "EURUSD" and update.timeframe is Timeframe.M1
    assert update.bar.low <= update.bar.close <= update.bar.high

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
    with pytest.raises(OrderValidationError, match="stops level") as bad_sl:
        await services.trading.place(
            OrderRequest(TradeAction.DEAL, "EURUSD", 0.10, OrderType.BUY, sl=round(tick.bid - 0.00005, 5))
        )
    assert bad_sl.value.field == "sl"
    with pytest.raises(OrderValidationError, match="volume step 0.01") as bad_volume:
        await services.trading.place(OrderRequest(TradeAction.DEAL, "EURUSD", 0.013, OrderType.BUY))
    assert bad_volume.value.field == "volume"
    with pytest.raises(RejectedError, match="NO_MONEY") as no_money:  # refused by the server's check
        await services.trading.place(OrderRequest(TradeAction.DEAL, "EURUSD", 100.0, OrderType.BUY))
    assert no_money.value.code == 10019
    await services.account.refresh()
    assert services.account.positions == before[1]
    assert services.account.account is not None and before[0] is not None
    assert services.account.account.balance == before[0].balance


async def test_a_requote_is_temporary_and_nothing_is_opened(services: Services, admin: SimAdmin) -> None:
    admin.set_faults("t1", requote_probability=1.0)
    with pytest.raises(TemporaryError, match="REQUOTE"):
        await services.trading.place(OrderRequest(TradeAction.DEAL, "EURUSD", 0.01, OrderType.SELL))
    await services.account.refresh()
    assert services.account.positions == ()
