"""The price engine: deterministic, consistent from ticks to M1 to every timeframe, live and past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import app.mt5.sim.constants as c
from app.mt5.sim.clock import ManualClock
from app.mt5.sim.feed import PriceFeed
from app.mt5.sim.listener import Listener
from app.mt5.sim.rates import TIMEFRAMES, Rates
from app.mt5.sim.symbols import DEFAULT_SYMBOLS
from app.mt5.sim.terminal import SimTerminal
from tests.sim.conftest import SEED, WEDNESDAY_NOON

NOW = int(WEDNESDAY_NOON.timestamp() * 1000)


def feed_at(now: datetime | int = WEDNESDAY_NOON, seed: int = SEED) -> tuple[PriceFeed, Rates, ManualClock]:
    clock = ManualClock(now)
    feed = PriceFeed(list(DEFAULT_SYMBOLS), seed, clock)
    return feed, Rates(feed), clock


def _aggregate(ticks_bid: np.ndarray) -> tuple[float, float, float, float]:
    return float(ticks_bid[0]), float(ticks_bid.max()), float(ticks_bid.min()), float(ticks_bid[-1])


def test_same_seed_same_prices_other_seed_other_prices() -> None:
    a, _, _ = feed_at()
    b, _, _ = feed_at()
    other, _, _ = feed_at(seed=SEED + 1)
    first, _ = a.ticks_range("EURUSD", NOW - 3_600_000, NOW)
    second, _ = b.ticks_range("EURUSD", NOW - 3_600_000, NOW)
    third, _ = other.ticks_range("EURUSD", NOW - 3_600_000, NOW)
    assert np.array_equal(first.time_msc, second.time_msc) and np.array_equal(first.bid, second.bid)
    assert not np.array_equal(first.bid[:100], third.bid[:100])


@settings(max_examples=30, deadline=None)
@given(minutes_back=st.integers(1, 400 * 24 * 60), symbol=st.sampled_from([s.name for s in DEFAULT_SYMBOLS]))
def test_the_ticks_of_a_past_minute_make_its_m1_bar(minutes_back: int, symbol: str) -> None:
    feed, rates, _ = feed_at()
    start = (NOW // 60_000 - minutes_back) * 60_000
    bars = rates.range(symbol, c.TIMEFRAME_M1, start, start, NOW)
    ticks, _ = feed.ticks_range(symbol, start, start + 59_999)
    if len(bars) == 0:  # market closed that minute: no bar and no ticks
        assert len(ticks) == 0
        return
    (bar,) = bars
    assert _aggregate(ticks.bid) == (bar["open"], bar["high"], bar["low"], bar["close"])
    assert bar["tick_volume"] == len(ticks)
    assert bar["spread"] == round(float(np.min(ticks.ask - ticks.bid)) / 10.0 ** -feed.specs[symbol].digits)


@pytest.mark.parametrize("timeframe", sorted(TIMEFRAMES))
def test_every_timeframe_aggregates_m1_and_reaches_a_year_back(timeframe: int) -> None:
    _, rates, _ = feed_at()
    year_ago = NOW - 366 * 86_400_000
    oldest = rates.range("EURUSD", timeframe, year_ago, year_ago + 40 * 86_400_000, NOW)
    assert len(oldest) > 0 and oldest["time"][0] * 1000 < year_ago + 40 * 86_400_000
    recent = rates.back("EURUSD", timeframe, NOW - 86_400_000 * 3, 3, NOW)
    assert len(recent) == 3 and np.all(np.diff(recent["time"]) > 0)
    for bar in recent if timeframe != c.TIMEFRAME_MN1 else recent[-1:]:
        end = _bar_end(timeframe, int(bar["time"]))
        m1 = rates.range("EURUSD", c.TIMEFRAME_M1, int(bar["time"]) * 1000, end * 1000 - 1, NOW)
        assert (bar["open"], bar["high"], bar["low"], bar["close"]) == (
            m1["open"][0],
            m1["high"].max(),
            m1["low"].min(),
            m1["close"][-1],
        )
        assert bar["tick_volume"] == m1["tick_volume"].sum()


def _bar_end(timeframe: int, start: int) -> int:
    from app.mt5.sim.rates import bucket_end_ms

    return bucket_end_ms(timeframe, start * 1000) // 1000


def test_no_bars_or_ticks_while_the_market_is_closed_except_crypto() -> None:
    feed, rates, _ = feed_at(datetime(2025, 6, 9, 12, tzinfo=UTC))
    saturday = int(datetime(2025, 6, 7, tzinfo=UTC).timestamp() * 1000)
    assert (
        len(rates.range("EURUSD", c.TIMEFRAME_M1, saturday, saturday + 86_400_000, feed.clock.now_ms())) == 0
    )
    assert (
        len(rates.range("BTCUSD", c.TIMEFRAME_M1, saturday, saturday + 86_400_000 - 1, feed.clock.now_ms()))
        == 1440
    )
    d1 = rates.back("EURUSD", c.TIMEFRAME_D1, feed.clock.now_ms(), 10, feed.clock.now_ms())
    days = {datetime.fromtimestamp(int(t), UTC).weekday() for t in d1["time"]}
    assert 5 not in days  # no Saturday bar; Sunday's evening session makes a small Sunday bar


def test_the_live_bar_becomes_the_aggregation_of_its_ticks_when_the_minute_closes() -> None:
    feed, rates, clock = feed_at(WEDNESDAY_NOON + timedelta(seconds=20))
    live = rates.back("EURUSD", c.TIMEFRAME_M1, clock.now_ms(), 1, clock.now_ms())[0]
    ticks, _ = feed.ticks_range("EURUSD", NOW, clock.now_ms())
    assert live["tick_volume"] == len(ticks) and live["close"] == ticks.bid[-1]
    clock.advance(60)
    closed = rates.range("EURUSD", c.TIMEFRAME_M1, NOW, NOW, clock.now_ms())[0]
    ticks, _ = feed.ticks_range("EURUSD", NOW, NOW + 59_999)
    assert (closed["open"], closed["high"], closed["low"], closed["close"]) == _aggregate(ticks.bid)
    assert closed["open"] == live["open"] and closed["high"] >= live["high"] and closed["low"] <= live["low"]


def test_no_tick_from_the_future_and_a_last_tick_at_or_before_now() -> None:
    feed, _, clock = feed_at(WEDNESDAY_NOON + timedelta(seconds=30))
    ticks, _ = feed.ticks_from("EURUSD", NOW, 100_000)
    assert ticks.time_msc[-1] <= clock.now_ms()
    last = feed.last_tick("EURUSD")
    assert last is not None and last.time_msc == ticks.time_msc[-1] and last.bid == ticks.bid[-1]


def test_incremental_copy_ticks_from_sees_every_tick_exactly_once_even_in_a_storm() -> None:
    feed, _, clock = feed_at()
    feed.storm.set(clock.now_ms(), 3000.0, frozenset({"EURUSD"}))
    seen: list[tuple[int, float, float]] = []
    cursor, at_cursor = NOW, 0  # resume time and how many ticks at that millisecond were seen
    for step_ms in [7, 120, 1, 999, 0, 250, 3, 4000, 17]:
        clock.advance(ms=step_ms)
        ticks, _ = feed.ticks_from("EURUSD", cursor, 1_000_000)
        fresh = list(zip(ticks.time_msc.tolist(), ticks.bid.tolist(), ticks.ask.tolist(), strict=True))[
            at_cursor:
        ]
        seen.extend(fresh)
        if len(ticks):
            cursor = int(ticks.time_msc[-1])
            at_cursor = int(np.sum(ticks.time_msc == cursor))
    everything, _ = feed.ticks_range("EURUSD", NOW, clock.now_ms())
    assert len(everything) > 10_000  # a storm: thousands of ticks per second, many sharing a millisecond
    assert len(np.unique(everything.time_msc)) < len(everything)
    assert seen == list(
        zip(everything.time_msc.tolist(), everything.bid.tolist(), everything.ask.tolist(), strict=True)
    )


def test_a_storm_changes_tick_counts_but_never_a_bar() -> None:
    calm_feed, calm_rates, _ = feed_at(WEDNESDAY_NOON + timedelta(minutes=3))
    storm_feed, storm_rates, clock = feed_at(WEDNESDAY_NOON)
    storm_feed.storm.set(clock.now_ms(), 500.0)
    clock.advance(180)
    now = clock.now_ms()
    calm = calm_rates.range("EURUSD", c.TIMEFRAME_M1, NOW, now - 60_001, now)
    stormy = storm_rates.range("EURUSD", c.TIMEFRAME_M1, NOW, now - 60_001, now)
    for field in ("open", "high", "low", "close", "spread"):
        assert np.array_equal(calm[field], stormy[field])
    assert np.all(stormy["tick_volume"] > calm["tick_volume"] + 20_000)
    ticks, _ = storm_feed.ticks_range("EURUSD", NOW, NOW + 59_999)
    assert stormy["tick_volume"][0] == len(ticks)


def test_market_watch_columns_and_depth(terminal: SimTerminal) -> None:
    info = terminal.symbol_info("GBPUSD")
    tick = terminal.symbol_info_tick("GBPUSD")
    assert info is not None and tick is not None
    assert (info.bid, info.ask, info.digits, info.point) == (tick.bid, tick.ask, 5, 1e-05)
    assert info.bidlow <= info.bid <= info.bidhigh and info.session_close > 0
    assert info.spread == round((tick.ask - tick.bid) / info.point)
    assert terminal.market_book_get("GBPUSD") is None  # not subscribed
    assert terminal.market_book_add("GBPUSD")
    book = terminal.market_book_get("GBPUSD")
    assert book is not None and len(book) == 10
    sells = [level for level in book if level.type == c.BOOK_TYPE_SELL]
    buys = [level for level in book if level.type == c.BOOK_TYPE_BUY]
    assert [s.price for s in sells] == sorted((s.price for s in sells), reverse=True)
    assert sells[-1].price == tick.ask and buys[0].price == tick.bid
    assert terminal.market_book_release("GBPUSD")


def test_group_filters(terminal: SimTerminal) -> None:
    names = {s.name for s in terminal.symbols_get("*USD*,!EUR*") or ()}
    assert names == {"GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD", "XAUUSD", "BTCUSD"}
    assert {s.name for s in terminal.symbols_get(group="EUR*") or ()} == {"EURUSD", "EURGBP", "EURJPY"}
    assert terminal.symbols_total() == len(DEFAULT_SYMBOLS) == 12


def test_copy_functions_through_a_terminal(terminal: SimTerminal, sim: Listener, clock: ManualClock) -> None:
    clock.advance(1)  # at 12:00:00.000 the new hour has no tick yet, so no bar
    rates = terminal.copy_rates_from_pos("EURUSD", c.TIMEFRAME_H1, 0, 10)
    assert rates is not None and rates.dtype.names == (
        "time",
        "open",
        "high",
        "low",
        "close",
        "tick_volume",
        "spread",
        "real_volume",
    )
    assert len(rates) == 10 and rates["time"][-1] == NOW // 1000  # the live bar of 12:00
    before = terminal.copy_rates_from("EURUSD", c.TIMEFRAME_H1, datetime(2025, 6, 3, 12, tzinfo=UTC), 5)
    assert before is not None and before["time"][-1] == int(datetime(2025, 6, 3, 12, tzinfo=UTC).timestamp())
    span = terminal.copy_rates_range(
        "EURUSD", c.TIMEFRAME_M5, datetime(2025, 6, 3, 10, tzinfo=UTC), datetime(2025, 6, 3, 11, tzinfo=UTC)
    )
    assert span is not None and len(span) == 13
    clock.advance(4)
    ticks = terminal.copy_ticks_range("EURUSD", NOW // 1000, clock.now_ms() // 1000, c.COPY_TICKS_ALL)
    assert ticks is not None and len(ticks) > 0 and ticks["time_msc"][-1] <= clock.now_ms()
    assert (
        terminal.copy_ticks_range("EURUSD", NOW // 1000, clock.now_ms() // 1000, c.COPY_TICKS_TRADE).size == 0
    )
    assert terminal.copy_rates_from_pos("EURUSD", 12345, 0, 10) is None
    assert terminal.last_error()[0] == c.RES_E_INVALID_PARAMS
