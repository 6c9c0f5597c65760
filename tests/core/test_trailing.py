"""Client-side trailing stops: the rule (where the SL goes), and the service on the sim's tick stream —
the SL follows the price and never comes back, one modify at a time per position through the trading
service, a refusal is retried after a backoff (not on every tick), and the setting is kept in the
database until the position closes (also across a restart)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from app.core.trailing import TrailingError, TrailingService
from app.core.trailing_rule import effective_points, trailed_stop
from app.models import OrderRequest, OrderResult, OrderType, Position, Side, TickBatch, TradeAction
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.clock import ManualClock
from tests.support.services import Services
from tests.support.sim_fixtures import WEDNESDAY, wait_until
from tests.ui.test_pure_helpers import EURUSD

NOW = datetime(2026, 11, 18, 12, tzinfo=UTC)
BUY = Position(1, "EURUSD", Side.BUY, 0.1, 1.10000, 1.1, 0.0, 0.0, 0.0, 0.0, NOW, NOW)
SELL = replace(BUY, ticket=2, side=Side.SELL)


# ---------------------------------------------------------------------------- the rule
def test_a_buy_trails_once_in_profit_by_the_distance_and_never_back() -> None:
    assert trailed_stop(BUY, 1.10019, 1.10029, 20, EURUSD, 0.0) is None  # 19 points: not yet
    assert trailed_stop(BUY, 1.10020, 1.10030, 20, EURUSD, 0.0) == pytest.approx(1.10000)  # break-even
    assert trailed_stop(BUY, 1.10055, 1.10065, 20, EURUSD, 1.10000) == pytest.approx(1.10035)
    assert trailed_stop(BUY, 1.10040, 1.10050, 20, EURUSD, 1.10035) is None  # the price came back
    assert trailed_stop(BUY, 1.10055, 1.10065, 20, EURUSD, 1.10035) is None  # the same SL: nothing to send
    assert trailed_stop(BUY, 1.10056, 1.10066, 20, EURUSD, 1.10035) == pytest.approx(1.10036)


def test_a_sell_trails_on_the_ask_and_the_distance_is_beyond_the_stops_level() -> None:
    assert trailed_stop(SELL, 1.09960, 1.09970, 20, EURUSD, 0.0) == pytest.approx(1.09990)
    assert trailed_stop(SELL, 1.09970, 1.09980, 20, EURUSD, 1.09990) is None  # up again: the SL stays
    assert trailed_stop(SELL, 1.09950, 1.09960, 20, EURUSD, 1.09990) == pytest.approx(1.09980)
    assert effective_points(5, EURUSD) == 11  # EURUSD's stops level is 10: an SL 5 points away is refused
    assert trailed_stop(BUY, 1.10011, 1.10021, 5, EURUSD, 0.0) == pytest.approx(1.10000)


# ---------------------------------------------------------------------------- the service on the sim
@pytest.fixture
def sim_clock() -> ManualClock:
    """The price moves only when a test advances the clock."""
    return ManualClock(WEDNESDAY)


class Counting:
    """The real trading service, counted: how many modifies per ticket, and never two at once."""

    def __init__(self, services: Services) -> None:
        self._trading = services.trading
        self.attempts: dict[int, int] = {}
        self.running: set[int] = set()
        self.overlaps = 0

    async def modify_position(self, ticket: int, sl: float, tp: float, **kwargs: Any) -> OrderResult:
        self.attempts[ticket] = self.attempts.get(ticket, 0) + 1
        if ticket in self.running:
            self.overlaps += 1
        self.running.add(ticket)
        try:
            return await self._trading.modify_position(ticket, sl, tp, **kwargs)
        finally:
            self.running.discard(ticket)


@pytest.fixture
async def trading(services: Services) -> Counting:
    return Counting(services)


@pytest.fixture
async def trailing(services: Services, trading: Counting) -> AsyncIterator[TrailingService]:
    service = TrailingService(
        services.db,
        services.hub,
        services.market,
        trading,
        services.account,
        retry_initial_s=20,
        retry_max_s=80,
    )
    await service.start()
    yield service
    await service.stop()


async def _open_both(services: Services) -> tuple[int, int]:
    await services.market.subscribe(["EURUSD"])
    await wait_until(lambda: services.market.quote("EURUSD") is not None)
    buy = await services.trading.place(OrderRequest(TradeAction.DEAL, "EURUSD", 0.1, OrderType.BUY))
    sell = await services.trading.place(OrderRequest(TradeAction.DEAL, "EURUSD", 0.1, OrderType.SELL))
    await services.account.refresh()
    return buy.order, sell.order


async def _until_one_is_in_profit(
    services: Services, admin: SimAdmin, buy: int, sell: int, points: int
) -> tuple[Position, int]:
    """Let the sim's price walk (nothing trailed yet) until one of the two positions is ``points`` in
    profit; that position, and its profit in points."""
    for _ in range(400):
        quote = services.market.quote("EURUSD")
        assert quote is not None
        await services.account.refresh()
        for position in services.account.positions:
            gain = (
                quote.bid - position.price_open
                if position.side is Side.BUY
                else position.price_open - quote.ask
            )
            if position.ticket in (buy, sell) and gain / EURUSD.point >= points:
                return position, int(gain / EURUSD.point)
        await asyncio.to_thread(admin.advance, 60)
        await wait_until(lambda q=quote: services.market.quote("EURUSD").time_msc > q.time_msc)  # type: ignore[misc,union-attr]
    raise AssertionError(f"the price never moved {points} points either way")


def _tick(position: Position, gain_points: int, at_msc: int) -> TickBatch:
    """One tick where ``position`` is ``gain_points`` in profit (a bid for a buy, an ask for a sell),
    inside the range the real price has covered (so the terminal accepts the SL it leads to)."""
    move = gain_points * EURUSD.point * position.side.sign
    bid = ask = round(position.price_open + move, 5)
    spread = 0.00010
    if position.side is Side.BUY:
        ask = round(bid + spread, 5)
    else:
        bid = round(ask - spread, 5)
    return TickBatch(
        "EURUSD", np.array([at_msc], dtype=np.int64), np.array([bid]), np.array([ask]), np.zeros(1),
        np.zeros(1), np.full(1, 6, dtype=np.int64),
    )  # fmt: skip


async def _feed(services: Services, trailing: TrailingService, batch: TickBatch) -> None:
    """The service sees ``batch`` as it sees the stream's; then its modify (if any) has an outcome."""
    trailing.check(batch)
    await wait_until(lambda: not trailing.in_flight)
    await services.account.refresh()


def _sl(services: Services, ticket: int) -> float | None:
    return next((p.sl for p in services.account.positions if p.ticket == ticket), None)


@pytest.mark.asyncio
async def test_the_sl_follows_the_price_never_back_one_modify_per_step(
    services: Services, trailing: TrailingService, trading: Counting, admin: SimAdmin
) -> None:
    buy, sell = await _open_both(services)
    position, gain = await _until_one_is_in_profit(services, admin, buy, sell, 50)
    ticket, sign, distance = position.ticket, position.side.sign, 20
    await trailing.set(ticket, distance)
    quote = services.market.quote("EURUSD")
    assert quote is not None and trading.attempts == {}  # the next tick moves it
    at = quote.time_msc
    # the price in points of profit, step by step; where the SL should then be (points from the open)
    for step, (profit, stop, attempts) in enumerate(
        [(25, 5, 1), (30, 10, 2), (27, 10, 2), (35, 15, 3), (35, 15, 3), (28, 15, 3), (40, 20, 4)]
    ):
        await _feed(services, trailing, _tick(position, min(profit, gain), at + step + 1))
        expected = round(position.price_open + sign * stop * EURUSD.point, 5)
        assert _sl(services, ticket) == pytest.approx(expected), f"step {step}: SL not {stop} points in"
        assert trading.attempts[ticket] == attempts, f"step {step}: {trading.attempts[ticket]} modifies"
    assert trading.overlaps == 0
    other = sell if ticket == buy else buy
    assert _sl(services, other) == 0.0 and trailing.distance(other) is None  # not trailed: untouched


@pytest.mark.asyncio
async def test_a_refused_modify_is_logged_and_retried_after_a_backoff_not_on_every_tick(
    services: Services,
    trailing: TrailingService,
    trading: Counting,
    admin: SimAdmin,
    caplog: pytest.LogCaptureFixture,
) -> None:
    buy, sell = await _open_both(services)
    position, _gain = await _until_one_is_in_profit(services, admin, buy, sell, 50)
    ticket = position.ticket
    admin.set_faults("t1", algo_trading=False)  # the terminal's AutoTrading is off: modifies refused
    caplog.set_level(logging.INFO, logger="app.core.trailing")
    quote = services.market.quote("EURUSD")
    assert quote is not None
    at = quote.time_msc + 1000
    await trailing.set(ticket, 20)
    await _feed(services, trailing, _tick(position, 30, at))
    assert trading.attempts == {ticket: 1} and "was refused" in caplog.text and f"#{ticket}" in caplog.text
    for second in range(1, 20):  # ticks for 19 s, inside the 20 s backoff: no new attempt
        await _feed(services, trailing, _tick(position, 30 + second % 3, at + second * 1000))
    assert trading.attempts == {ticket: 1} and _sl(services, ticket) == 0.0
    await _feed(services, trailing, _tick(position, 31, at + 20_500))  # the backoff is over: again
    assert trading.attempts == {ticket: 2}  # refused again: the next wait doubles, to 40 s
    for second in range(25, 60, 5):
        await _feed(services, trailing, _tick(position, 31, at + second * 1000))
    assert trading.attempts == {ticket: 2}
    admin.clear_faults("t1")
    await _feed(services, trailing, _tick(position, 31, at + 61_000))
    assert trading.attempts == {ticket: 3}
    assert _sl(services, ticket) == pytest.approx(round(position.price_open + position.side.sign * 11e-5, 5))
    await _feed(services, trailing, _tick(position, 32, at + 62_000))  # after a success: at once again
    assert trading.attempts == {ticket: 4}


@pytest.mark.asyncio
async def test_the_setting_is_kept_across_a_restart_and_removed_when_the_position_closes(
    services: Services, trailing: TrailingService, trading: Counting
) -> None:
    buy, sell = await _open_both(services)
    await wait_until(lambda: len(services.account.positions) == 2)
    await trailing.set(buy, 30)
    with pytest.raises(TrailingError, match="1 to 100000 points"):
        await trailing.set(sell, 0)
    with pytest.raises(TrailingError, match="not open"):
        await trailing.set(424242, 20)
    assert trailing.distance(sell) is None
    await trailing.stop()

    again = TrailingService(services.db, services.hub, services.market, trading, services.account)
    await again.start()
    try:
        assert again.distance(buy) == 30  # kept in the database: trailing goes on after a restart
        await services.trading.close_position(buy)
        await services.account.refresh()
        await wait_until(lambda: again.distance(buy) is None)
        for _ in range(100):
            if await services.db.run(lambda tx: tx.trailing.all(), readonly=True) == {}:
                break
            await asyncio.sleep(0.05)
        assert await services.db.run(lambda tx: tx.trailing.all(), readonly=True) == {}  # its row is gone
    finally:
        await again.stop()
