"""Day, week, month and total P/L of a fixture account, end to end: trades made on the simulated trade
server at chosen times (its clock is manual), one visit, and the figures the snapshot carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.config import AccountsSettings
from app.models import Deal, DealType, OrderType
from app.mt5.sim.clock import ManualClock
from tests.core.carousel.conftest import Harness

pytestmark = pytest.mark.slow


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# The server's clock is UTC+2. "Now" is Wednesday 2026-12-02 12:00 UTC (14:00 on the server), so on
# the server today began at 2026-12-01 22:00 UTC, this week (Monday) at 2026-11-29 22:00 UTC and this
# month at 2026-11-30 22:00 UTC.
NOW = utc(2026, 12, 2, 12)
DAY, WEEK, MONTH = utc(2026, 12, 1, 22), utc(2026, 11, 29, 22), utc(2026, 11, 30, 22)
OPENED = utc(2026, 10, 1, 9)
TRADES = [  # each: a 0.10 lot EURUSD position opened at this time and closed a minute later
    utc(2026, 10, 20, 16),  # October: counts in the total only
    utc(2026, 11, 27, 15),  # last week (a Friday)
    utc(2026, 11, 30, 21),  # Monday 23:00 on the server: this week, still November
    utc(2026, 11, 30, 22, 30),  # Tuesday 1 December 00:30 on the server: this week and month
    utc(2026, 12, 1, 22, 30),  # Wednesday 00:30 on the server: today
    utc(2026, 12, 2, 11),  # today
]
WITHDRAWAL = utc(2026, 12, 2, 11, 30)


@pytest.fixture
def sim_clock() -> ManualClock:
    return ManualClock(OPENED)


@pytest.fixture
def accounts_settings() -> AccountsSettings:
    return AccountsSettings(server_utc_offsets={"SimBroker-Demo": 2})


def net(deals: list[Deal], since: datetime | None = None) -> float:
    return sum(d.profit + d.swap + d.commission + d.fee for d in deals if since is None or d.time >= since)


async def test_period_pnl_equals_the_hand_computed_figures(harness: Harness, sim_clock: ManualClock) -> None:
    account = await harness.account(balance=10_000.0, commission_per_lot=7.0)
    trader, visitor = await harness.terminals("trader", "visitor")
    await trader.login(account.login, f"Pw-{account.login}", account.server)
    for opened in TRADES:
        sim_clock.set(opened)
        position = await harness.trade(trader, OrderType.BUY, 0.10, "EURUSD")
        sim_clock.advance(60)
        await harness.trade(trader, OrderType.SELL, 0.10, "EURUSD", position=position.order)
    sim_clock.set(WITHDRAWAL)
    harness.admin.deposit(account.login, -500.0, "Withdrawal")
    sim_clock.set(NOW)

    carousel = harness.carousel(harness.pool([trader, visitor]), clock=lambda: NOW)
    snapshot = await carousel.sync_now(account.id)

    history: list[Deal] = await trader.call("history_deals", 0, NOW + timedelta(days=1))
    trades = [d for d in history if d.type in (DealType.BUY, DealType.SELL)]
    assert len(trades) == 12 and all(d.commission == pytest.approx(-0.70) for d in trades)
    assert len([d for d in history if d.type is DealType.BALANCE]) == 2  # deposit and withdrawal
    assert [len([d for d in trades if d.time >= start]) for start in (DAY, WEEK, MONTH)] == [4, 8, 6]
    expected = (net(trades, DAY), net(trades, WEEK), net(trades, MONTH), net(trades))
    assert len({round(figure, 2) for figure in expected}) == 4  # the periods really differ
    got = snapshot.pnl
    assert (got.day, got.week, got.month, got.total) == pytest.approx(expected, abs=0.005)
    # Deposits and withdrawals move the balance but are not P/L.
    assert snapshot.balance == pytest.approx(10_000.0 - 500.0 + net(trades), abs=0.005)
    assert await harness.stored_deals(account.id) == 14
