"""Where public MetaTrader5 scripts found the simulator unlike the real package (issue 15, point 2):
``order_check``'s margin, tick flags, positional arguments, naive datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from app.mt5.sim import constants as c
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.clock import ManualClock
from app.mt5.sim.terminal import SimTerminal
from tests.sim.conftest import WEDNESDAY_NOON
from tests.sim.helpers import market


# ---------------------------------------------------------------------- a. order_check's margin
def test_order_check_gives_the_accounts_margin_after_the_trade(terminal: SimTerminal) -> None:
    """MetaTrader 5 answers with the account as it would be after the trade: the documentation's
    example has equity 68319.53, margin 51193.67, margin_free 17125.86 = equity - margin and
    margin_level 133.45 = equity / margin * 100."""
    first = terminal.order_send(market(terminal, "EURUSD", c.ORDER_TYPE_BUY, 1.0))
    assert first is not None and first.retcode == c.TRADE_RETCODE_DONE
    before = terminal.account_info()
    assert before is not None and before.margin > 0

    request = market(terminal, "GBPUSD", c.ORDER_TYPE_BUY, 2.0)
    check = terminal.order_check(request)
    assert check is not None and check.retcode == 0
    trade_alone = terminal.order_calc_margin(c.ORDER_TYPE_BUY, "GBPUSD", 2.0, request["price"])
    assert trade_alone is not None

    assert check.margin == pytest.approx(before.margin + trade_alone, abs=0.011)  # the total, not the trade's
    assert check.margin_free == pytest.approx(check.equity - check.margin, abs=0.011)
    assert check.margin_level == pytest.approx(check.equity / check.margin * 100, abs=0.011)
    sent = terminal.order_send(request)
    assert sent is not None and sent.retcode == c.TRADE_RETCODE_DONE
    after = terminal.account_info()
    assert after is not None and after.margin == pytest.approx(check.margin, abs=0.011)  # as checked


# ---------------------------------------------------------------------- b. tick flags
def _assert_flags_say_what_changed(ticks: np.ndarray, where: str) -> None:
    bid, ask, flags = ticks["bid"], ticks["ask"], ticks["flags"]
    changed_bid, changed_ask = bid[1:] != bid[:-1], ask[1:] != ask[:-1]
    assert len(ticks) > 100, where
    assert np.all(changed_bid | changed_ask), f"{where}: a tick that changes nothing"
    assert np.array_equal((flags[1:] & c.TICK_FLAG_BID) != 0, changed_bid), f"{where}: TICK_FLAG_BID"
    assert np.array_equal((flags[1:] & c.TICK_FLAG_ASK) != 0, changed_ask), f"{where}: TICK_FLAG_ASK"
    assert np.all(flags & ~np.uint32(c.TICK_FLAG_BID | c.TICK_FLAG_ASK) == 0), where  # bid/ask symbols


@pytest.mark.parametrize("symbol", ["EURUSD", "XAUUSD", "BTCUSD", "EURJPY"])
def test_tick_flags_are_set_only_for_the_prices_that_changed(terminal: SimTerminal, symbol: str) -> None:
    """TICK_FLAG_BID and TICK_FLAG_ASK mean "changed": each is set only when its price changed since
    the tick before, and every tick changes something — across minutes and a weekend too."""
    now = WEDNESDAY_NOON
    periods = {
        "the last six hours": (now - timedelta(hours=6), now),
        "over the weekend": (
            datetime(2025, 5, 30, 20, 0, tzinfo=UTC),
            datetime(2025, 6, 2, 1, 0, tzinfo=UTC),
        ),
    }
    for name, (start, end) in periods.items():
        ticks = terminal.copy_ticks_range(symbol, start, end, c.COPY_TICKS_ALL)
        assert ticks is not None, terminal.last_error()
        _assert_flags_say_what_changed(ticks, f"{symbol}, {name}")


def test_tick_flags_in_a_storm_and_on_the_live_tick(
    terminal: SimTerminal, admin: SimAdmin, clock: ManualClock
) -> None:
    start = clock.now_ms()
    admin.storm(800, ["EURUSD"])
    for _ in range(30):
        clock.advance(1)
        tick = terminal.symbol_info_tick("EURUSD")
        assert tick is not None and tick.flags & (c.TICK_FLAG_BID | c.TICK_FLAG_ASK)
    ticks = terminal.copy_ticks_range("EURUSD", start / 1000, clock.now_ms() / 1000, c.COPY_TICKS_ALL)
    assert ticks is not None and len(ticks) > 20_000
    _assert_flags_say_what_changed(ticks, "EURUSD in a storm")
    assert ticks["flags"][-1] == terminal.symbol_info_tick("EURUSD").flags  # type: ignore[union-attr]
