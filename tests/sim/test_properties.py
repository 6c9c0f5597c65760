"""Invariants of the books under any sequence of requests (hypothesis)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app.mt5.sim.constants as c
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.clock import ManualClock
from app.mt5.sim.listener import Listener
from app.mt5.sim.server import serve_in_thread
from app.mt5.sim.terminal import SimTerminal
from tests.sim.conftest import SEED, WEDNESDAY_NOON, connect, new_account
from tests.sim.helpers import market, snapshot

SYMBOLS = ("EURUSD", "USDJPY", "XAUUSD", "EURJPY")


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[Listener, ManualClock, SimAdmin]]:
    """One server for all examples; each example trades on an account of its own."""
    clock = ManualClock(WEDNESDAY_NOON)
    listener = serve_in_thread(seed=SEED, clock=clock, demo_history=False)
    with SimAdmin(listener.address) as admin:
        yield listener, clock, admin
    listener.stop()


def _request(terminal: SimTerminal, action: dict[str, Any]) -> dict[str, Any]:
    kind = action["kind"]
    symbol = action["symbol"]
    positions = terminal.positions_get() or ()
    if kind == "close" and positions:
        target = positions[action["pick"] % len(positions)]
        side = c.ORDER_TYPE_SELL if target.type == c.POSITION_TYPE_BUY else c.ORDER_TYPE_BUY
        volume = min(target.volume, action["volume"])
        return market(terminal, target.symbol, side, volume, position=target.ticket)
    side = c.ORDER_TYPE_BUY if action["buy"] else c.ORDER_TYPE_SELL
    request = market(terminal, symbol, side, action["volume"])
    if kind == "bad_volume":
        request["volume"] = action["volume"] + 0.005
    elif kind == "bad_stops":
        tick = terminal.symbol_info_tick(symbol)
        assert tick is not None
        request["sl"] = tick.ask if side == c.ORDER_TYPE_BUY else tick.bid  # on the wrong side of the market
    elif kind == "off_price":
        request["price"] = request["price"] * (1.01 if action["buy"] else 0.99)
    return request


actions = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["open", "open", "close", "bad_volume", "bad_stops", "off_price"]),
        "symbol": st.sampled_from(SYMBOLS),
        "buy": st.booleans(),
        "volume": st.sampled_from([0.01, 0.1, 0.25, 1.0, 3.0]),
        "pick": st.integers(0, 10),
        "wait_s": st.integers(0, 900),
    }
)


def _equity_identity(terminal: SimTerminal) -> None:
    account = terminal.account_info()
    positions = terminal.positions_get()
    assert account is not None and positions is not None
    floating = sum(p.profit + p.swap for p in positions)
    assert account.equity == pytest.approx(account.balance + account.credit + floating, abs=0.011)
    assert account.margin_free == pytest.approx(account.equity - account.margin, abs=0.011)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(actions, min_size=1, max_size=8),
    hedging=st.booleans(),
    leverage=st.sampled_from([30, 100, 500]),
)
def test_books_stay_consistent(
    shared: tuple[Listener, ManualClock, SimAdmin], steps: list[dict[str, Any]], hedging: bool, leverage: int
) -> None:
    sim, clock, admin = shared
    login, password = new_account(admin, hedging=hedging, leverage=leverage, balance=20_000.0)
    terminal = connect(sim, f"prop-{login}", login, password)
    try:
        for step in steps:
            request = _request(terminal, step)
            before = snapshot(terminal)
            margin_before = terminal.account_info().margin  # type: ignore[union-attr]
            check = terminal.order_check(request)
            result = terminal.order_send(request)
            assert check is not None and result is not None
            accepted = result.retcode == c.TRADE_RETCODE_DONE
            # order_check gives order_send's verdict
            assert (check.retcode == 0) == accepted, (check, result)
            if not accepted:
                assert check.retcode == result.retcode
                assert snapshot(terminal) == before  # a rejected request changes nothing
            elif (
                step["kind"] == "open"
                and not terminal.positions_get(symbol=request["symbol"])[:-1]
                and hedging
            ):
                # a lone new position costs exactly what order_calc_margin says
                expected = terminal.order_calc_margin(
                    request["type"], request["symbol"], request["volume"], result.price
                )
                assert terminal.account_info().margin == pytest.approx(margin_before + expected, abs=0.011)  # type: ignore[union-attr]
                assert check.margin == pytest.approx(margin_before + expected, abs=0.011)  # MT5: the total
            _equity_identity(terminal)
            clock.advance(step["wait_s"])
            sim.server.process()
            _equity_identity(terminal)
        deals = terminal.history_deals_get(0, 2**31)
        account = terminal.account_info()
        assert deals is not None and account is not None
        assert account.balance == pytest.approx(
            sum(d.profit + d.commission + d.swap + d.fee for d in deals), abs=0.011
        )
    finally:
        terminal.shutdown()
