"""The demo accounts a first run creates: varied, alive, consistent and the same for the same seed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import app.mt5.sim.constants as c
from app.mt5.sim.clock import ManualClock
from app.mt5.sim.demo import DEMO_ACCOUNTS
from app.mt5.sim.listener import Listener
from app.mt5.sim.server import serve_in_thread
from app.mt5.sim.terminal import SimTerminal
from tests.sim.conftest import WEDNESDAY_NOON


@pytest.fixture(scope="module")
def demo_sim() -> Iterator[Listener]:
    listener = serve_in_thread(seed=99, clock=ManualClock(WEDNESDAY_NOON), demo_history=True)
    yield listener
    listener.stop()


def test_six_varied_accounts() -> None:
    assert len(DEMO_ACCOUNTS) >= 6
    assert {a.trade_mode for a in DEMO_ACCOUNTS} == {c.ACCOUNT_TRADE_MODE_DEMO, c.ACCOUNT_TRADE_MODE_REAL}
    assert {a.margin_mode for a in DEMO_ACCOUNTS} == {
        c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING,
        c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING,
    }
    assert {a.currency for a in DEMO_ACCOUNTS} == {"USD", "EUR"}
    assert min(a.leverage for a in DEMO_ACCOUNTS) == 30 and max(a.leverage for a in DEMO_ACCOUNTS) == 500


@pytest.mark.parametrize("demo", DEMO_ACCOUNTS, ids=lambda d: str(d.login))
def test_each_account_logs_in_and_its_books_add_up(demo_sim: Listener, demo: object) -> None:
    terminal = SimTerminal()
    assert terminal.initialize(
        f"{demo_sim.url}/demo",
        login=demo.login,
        password=demo.password,  # type: ignore[attr-defined]
        server=demo.server,
    )  # type: ignore[attr-defined]
    account = terminal.account_info()
    assert account is not None and account.currency == demo.currency  # type: ignore[attr-defined]
    deals = terminal.history_deals_get(0, 2**31)
    assert deals is not None
    assert account.balance == pytest.approx(sum(d.profit + d.commission + d.swap for d in deals), abs=0.011)
    if demo.history_days:  # type: ignore[attr-defined]
        span_days = (deals[-1].time - deals[0].time) / 86_400
        assert span_days > 60 and len(deals) > 20
        assert any(d.type == c.DEAL_TYPE_BALANCE and d.profit < 0 for d in deals)  # a withdrawal
        assert any(d.commission for d in deals) or demo.commission_per_lot == 0  # type: ignore[attr-defined]
        assert any(d.swap for d in deals)
        for position in terminal.positions_get() or ():
            assert terminal.history_deals_get(position=position.ticket)[0].order == position.ticket  # type: ignore[index]
    assert len(terminal.positions_get() or ()) == demo.open_positions  # type: ignore[attr-defined]
    terminal.shutdown()


def test_without_login_a_terminal_reattaches_to_its_last_account(demo_sim: Listener) -> None:
    terminal = SimTerminal()
    assert terminal.initialize(f"{demo_sim.url}/fresh-terminal")
    assert terminal.account_info().login == DEMO_ACCOUNTS[0].login  # type: ignore[union-attr]
    assert terminal.login(5001002, password="Demo-1002")
    terminal.shutdown()
    assert terminal.initialize(f"{demo_sim.url}/fresh-terminal")
    assert terminal.account_info().login == 5001002  # type: ignore[union-attr]
    terminal.shutdown()


def test_same_seed_same_demo_books() -> None:
    def books() -> list[object]:
        listener = serve_in_thread(seed=5, clock=ManualClock(WEDNESDAY_NOON), demo_history=True)
        try:
            return sorted(d.row() for d in listener.server.ledger.deals.values())
        finally:
            listener.stop()

    assert books() == books()


def test_demo_books_made_on_a_weekend_hold_nothing_dated_in_it() -> None:
    """First run on a Saturday: the seeded pending orders were placed while their markets were open."""
    saturday = datetime(2025, 6, 7, 12, 0, tzinfo=UTC)
    listener = serve_in_thread(seed=7, clock=ManualClock(saturday), demo_history=True)
    try:
        orders = list(listener.server.ledger.orders.values())
        positions = list(listener.server.ledger.positions.values())
    finally:
        listener.stop()
    assert orders and positions
    placed = [datetime.fromtimestamp(o.time_setup_msc / 1000, UTC) for o in orders]
    opened = [datetime.fromtimestamp(p.time_msc / 1000, UTC) for p in positions]
    assert all(t.weekday() < 5 and t < saturday for t in placed + opened), placed + opened
