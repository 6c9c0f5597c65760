"""Where public MetaTrader5 scripts found the simulator unlike the real package (issue 15, point 2):
``order_check``'s margin, tick flags, positional arguments, naive datetimes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

import app.mt5.sim as mt5
from app.mt5.sim import constants as c
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.clock import ManualClock
from app.mt5.sim.listener import Listener
from app.mt5.sim.terminal import SimTerminal, default_terminal
from tests.sim.conftest import FRESH_LOGIN, FRESH_PASSWORD, WEDNESDAY_NOON
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


# ---------------------------------------------------------------------- c. positional arguments
@pytest.fixture
def module(sim: Listener) -> Iterator[object]:
    """The module-level API on this process's terminal, as a script uses it."""
    assert mt5.initialize(f"{sim.url}/script", login=FRESH_LOGIN, password=FRESH_PASSWORD), mt5.last_error()
    yield mt5
    mt5.shutdown()


def test_login_takes_login_password_and_server_in_that_order(module: object) -> None:
    assert mt5.login(5001002, "Demo-1002", "SimBroker-Demo") is True, mt5.last_error()
    account = mt5.account_info()
    assert account is not None and (account.login, account.server) == (5001002, "SimBroker-Demo")
    assert mt5.login(FRESH_LOGIN, password=FRESH_PASSWORD, server="SimBroker-Demo") is True  # keywords too
    assert mt5.login(5001002, "wrong", "SimBroker-Demo") is False
    assert mt5.last_error() == (c.RES_E_AUTH_FAILED, "Terminal: Authorization failed")


def test_positional_arguments_where_the_extension_takes_them(module: object, sim: Listener) -> None:
    everything = mt5.symbols_get()
    assert everything is not None
    usd = mt5.symbols_get("*USD*")
    assert usd is not None and 0 < len(usd) < len(everything)
    request = market(default_terminal(), "EURUSD", c.ORDER_TYPE_BUY, 0.1)
    assert mt5.order_check(**request).retcode == 0  # type: ignore[union-attr]  # the request's fields as keywords
    sent = mt5.order_send(**request)
    assert sent is not None and sent.retcode == c.TRADE_RETCODE_DONE
    day = (WEDNESDAY_NOON - timedelta(days=1), WEDNESDAY_NOON + timedelta(days=1))
    deals = mt5.history_deals_get(*day)
    assert deals is not None and [d.order for d in deals if d.symbol] == [sent.order]  # and the deposit
    assert mt5.history_deals_get(*day, group="*JPY*") == ()
    assert mt5.history_orders_total(*day) == 1


@pytest.mark.parametrize(
    ("call", "refused", "message"),
    [
        (lambda: mt5.positions_get("EURUSD"), None, "Unnamed arguments not allowed"),
        (lambda: mt5.orders_get("EURUSD"), None, "Unnamed arguments not allowed"),
        (lambda: mt5.history_deals_get(0, ticket=5), None, "Unnamed arguments not allowed"),
        (lambda: mt5.history_deals_get(0, 1, 2), None, "Invalid arguments"),
        (lambda: mt5.login(1, "a", "b", "c"), False, "Invalid number of arguments"),
        (lambda: mt5.initialize("sim://127.0.0.1:1/x", "extra"), False, "Invalid number of arguments"),
        (lambda: mt5.symbols_get("*", "*"), None, "Invalid number of arguments"),
        (lambda: mt5.order_send(), None, "Invalid number of arguments"),
        (lambda: mt5.order_check({"action": 1}, comment="x"), None, "Unnamed arguments not allowed"),
    ],
)
def test_calls_the_extension_refuses_return_none_and_say_why(
    module: object, call: Callable[[], object], refused: object, message: str
) -> None:
    """Not a TypeError: the extension answers None (False for initialize/login) and last_error()."""
    assert call() is refused
    assert mt5.last_error() == (c.RES_E_INVALID_PARAMS, message)


def test_positions_get_by_keyword_and_unknown_keywords_are_ignored(module: object) -> None:
    request = market(default_terminal(), "EURUSD", c.ORDER_TYPE_BUY, 0.1)
    assert mt5.order_send(request).retcode == c.TRADE_RETCODE_DONE  # type: ignore[union-attr]
    assert len(mt5.positions_get(symbol="EURUSD") or ()) == 1
    assert mt5.positions_get(symbol="GBPUSD") == ()
    assert len(mt5.positions_get(symbl="GBPUSD") or ()) == 1  # a misspelt keyword: ignored, as there


# ---------------------------------------------------------------------- d. naive datetimes
@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The computer's local time zone is UTC+9 (a POSIX TZ rule: no zoneinfo needed)."""
    monkeypatch.setenv("TZ", "JST-9")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_naive_datetime_is_local_time_as_the_real_package_reads_it(
    tokyo: None, terminal: SimTerminal
) -> None:
    """The extension converts a datetime with its timestamp(): a naive one is the computer's local
    time (hence the documentation's advice to create datetimes in UTC)."""
    utc = datetime(2025, 6, 4, 9, 0, tzinfo=UTC)
    naive_tokyo = datetime(2025, 6, 4, 18, 0)  # the same moment on a Tokyo clock
    aware = terminal.copy_rates_range("EURUSD", c.TIMEFRAME_M1, utc, utc + timedelta(minutes=30))
    naive = terminal.copy_rates_range(
        "EURUSD", c.TIMEFRAME_M1, naive_tokyo, naive_tokyo + timedelta(minutes=30)
    )
    assert aware is not None and naive is not None and len(aware) == 31
    assert np.array_equal(naive, aware)
    ticks = terminal.copy_ticks_from("EURUSD", naive_tokyo, 10, c.COPY_TICKS_ALL)
    assert ticks is not None and int(ticks["time"][0]) >= int(utc.timestamp())
    assert int(ticks["time"][0]) < int(utc.timestamp()) + 60
    assert os.environ["TZ"] == "JST-9"


def test_times_are_whole_seconds_as_the_extension_takes_them(terminal: SimTerminal) -> None:
    second = int(WEDNESDAY_NOON.timestamp()) - 600
    whole = terminal.copy_ticks_from("EURUSD", second, 50, c.COPY_TICKS_ALL)
    fraction = terminal.copy_ticks_from("EURUSD", second + 0.999, 50, c.COPY_TICKS_ALL)
    stamp = terminal.copy_ticks_from(
        "EURUSD", datetime.fromtimestamp(second + 0.5, tz=UTC), 50, c.COPY_TICKS_ALL
    )
    assert whole is not None and np.array_equal(whole, fraction) and np.array_equal(whole, stamp)


# ---------------------------------------------------------------- what the documentation's examples need
def test_the_terminal_has_a_data_folder_scripts_can_write_to(terminal: SimTerminal) -> None:
    """The MQL5 book's examples save their charts under ``terminal_info().data_path``/MQL5/Files."""
    info = terminal.terminal_info()
    assert info is not None
    files = Path(info.data_path) / "MQL5" / "Files"
    assert files.is_dir() and (Path(info.commondata_path) / "Files").is_dir()
    (files / "chart.html").write_text("<html></html>", encoding="utf-8")
    assert str(Path(info.data_path)).startswith(os.environ["XDG_DATA_HOME"])  # the user data dir, not ~


def test_bars_go_back_years_as_a_brokers_do(terminal: SimTerminal) -> None:
    """The documentation asks for H1 bars from 10 January 2020 (five years before the clock here)."""
    bars = terminal.copy_rates_from("EURUSD", c.TIMEFRAME_H1, datetime(2020, 1, 10, tzinfo=UTC), 10)
    assert bars is not None and len(bars) == 10
    assert int(bars["time"][-1]) <= int(datetime(2020, 1, 10, tzinfo=UTC).timestamp())
