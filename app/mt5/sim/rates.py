"""Bars for all 21 MT5 timeframes, aggregated from M1, and M1 from the ticks.

A closed M1 bar comes straight from the skeleton (its ticks are built through it); the live M1 bar
is the aggregation of the ticks revealed so far. Every higher timeframe aggregates M1 (W1 and MN1
aggregate D1), so an H1 bar always equals its 60 M1 bars. Bar time = bar open (server time); W1 bars
open on Sunday, MN1 bars on the 1st; there are no bars while a market is closed.
"""

from __future__ import annotations

import numpy as np

from app.mt5.sim import constants as c
from app.mt5.sim.feed import BAR_HISTORY_DAYS, PriceFeed
from app.mt5.sim.sessions import MINUTES_PER_DAY, MS_PER_DAY, MS_PER_MINUTE
from app.mt5.sim.structs import RATES_DTYPE

TIMEFRAMES = {
    value: name for name, value in vars(c).items() if name.startswith("TIMEFRAME_") and isinstance(value, int)
}
MAX_BARS = 100_000  # the terminal's "max bars in chart"
_EMPTY = np.zeros(0, dtype=RATES_DTYPE)


def minutes_per_bar(timeframe: int) -> int | None:
    """Bar length in minutes for M1..D1; None for W1 and MN1 (calendar bars)."""
    if timeframe in (c.TIMEFRAME_W1, c.TIMEFRAME_MN1):
        return None
    if timeframe & 0x4000:
        return (timeframe & 0xFF) * 60
    return timeframe


def _week_start_day(day: np.ndarray) -> np.ndarray:
    return day - (day + 4) % 7  # Sunday on or before (epoch day 3 was a Sunday)


def _month_start_day(day: np.ndarray) -> np.ndarray:
    months = day.astype("datetime64[D]").astype("datetime64[M]")
    return months.astype("datetime64[D]").astype(np.int64)


def bucket_start_ms(timeframe: int, time_ms: int) -> int:
    """Open time of the bar of ``timeframe`` that contains ``time_ms``."""
    length = minutes_per_bar(timeframe)
    if length is not None:
        return time_ms // (length * MS_PER_MINUTE) * length * MS_PER_MINUTE
    day = np.array([time_ms // MS_PER_DAY])
    start = _week_start_day(day) if timeframe == c.TIMEFRAME_W1 else _month_start_day(day)
    return int(start[0]) * MS_PER_DAY


def bucket_end_ms(timeframe: int, time_ms: int) -> int:
    """Close time (exclusive) of the bar of ``timeframe`` that contains ``time_ms``."""
    start = bucket_start_ms(timeframe, time_ms)
    length = minutes_per_bar(timeframe)
    if length is not None:
        return start + length * MS_PER_MINUTE
    if timeframe == c.TIMEFRAME_W1:
        return start + 7 * MS_PER_DAY
    return bucket_start_ms(timeframe, start + 32 * MS_PER_DAY)


def _aggregate(m1: np.ndarray, keys: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
    """Aggregate consecutive rows with equal ``keys`` (sorted) into bars opening at ``times`` or key."""
    if len(m1) == 0:
        return _EMPTY
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    ends = np.concatenate([starts[1:], [len(m1)]]) - 1
    out = np.zeros(len(starts), dtype=RATES_DTYPE)
    out["time"] = keys[starts] if times is None else times[starts]
    out["open"] = m1["open"][starts]
    out["close"] = m1["close"][ends]
    out["high"] = np.maximum.reduceat(m1["high"], starts)
    out["low"] = np.minimum.reduceat(m1["low"], starts)
    out["tick_volume"] = np.add.reduceat(m1["tick_volume"], starts)
    out["spread"] = np.minimum.reduceat(m1["spread"], starts)
    return out


class Rates:
    """copy_rates_* over a :class:`PriceFeed`."""

    def __init__(self, feed: PriceFeed) -> None:
        self.feed = feed
        self._days: dict[tuple[str, int, int], np.ndarray] = {}

    # ------------------------------------------------------------------ M1
    def m1_day(self, symbol: str, day: int, now_ms: int) -> np.ndarray:
        """M1 bars of epoch day ``day`` up to now (the current minute from its revealed ticks)."""
        now_minute = now_ms // MS_PER_MINUTE
        first_minute = day * MINUTES_PER_DAY
        if first_minute > now_minute:
            return _EMPTY
        block = self.feed.walks[symbol].day_block(day)
        upto = min(MINUTES_PER_DAY, now_minute - first_minute)  # complete minutes of the day
        index = np.flatnonzero(block.open_mask[:upto])
        out = np.zeros(len(index), dtype=RATES_DTYPE)
        out["time"] = (first_minute + index) * 60
        out["open"] = block.open[index]
        out["high"] = block.high[index]
        out["low"] = block.low[index]
        out["close"] = block.close[index]
        out["tick_volume"] = block.ticks[index]
        out["spread"] = block.spread[index]
        day_ms = day * MS_PER_DAY
        if len(index) and self.feed.storm.touches(symbol, day_ms, day_ms + MS_PER_DAY):
            for row, minute in enumerate(index):
                ticks, _ = self.feed.minute_ticks(symbol, first_minute + int(minute), now_ms)
                out["tick_volume"][row] = len(ticks)
        if upto < MINUTES_PER_DAY:
            live = self._live_bar(symbol, now_minute, now_ms)
            if live is not None:
                out = np.concatenate([out, live])
        return out

    def _live_bar(self, symbol: str, minute: int, now_ms: int) -> np.ndarray | None:
        ticks, _ = self.feed.minute_ticks(symbol, minute, now_ms)
        count = int(np.searchsorted(ticks.time_msc, now_ms, "right"))
        if count == 0:
            return None
        bid = ticks.bid[:count]
        bar = np.zeros(1, dtype=RATES_DTYPE)
        bar["time"] = minute * 60
        bar["open"], bar["close"] = bid[0], bid[-1]
        bar["high"], bar["low"] = bid.max(), bid.min()
        bar["tick_volume"] = count
        point = 10.0 ** -self.feed.specs[symbol].digits
        bar["spread"] = int(round(float(np.min(ticks.ask[:count] - bid) / point)))
        return bar

    # ------------------------------------------------------------------ any timeframe, per day
    def day_bars(self, symbol: str, timeframe: int, day: int, now_ms: int) -> np.ndarray:
        """Bars of an M1..D1 timeframe opening on ``day`` (complete past days are cached)."""
        complete = (day + 1) * MS_PER_DAY <= now_ms
        key = (symbol, timeframe, day)
        if complete and key in self._days:
            return self._days[key]
        m1 = self.m1_day(symbol, day, now_ms)
        length = minutes_per_bar(timeframe) or MINUTES_PER_DAY
        bars = m1 if length == 1 else _aggregate(m1, m1["time"] // (length * 60) * (length * 60))
        if complete and length >= 60:
            self._days[key] = bars
        return bars

    def bars_between(
        self, symbol: str, timeframe: int, start_ms: int, end_ms: int, now_ms: int
    ) -> np.ndarray:
        """Bars opening in [start_ms, end_ms), start aligned to a bar open."""
        first_day = start_ms // MS_PER_DAY
        last_day = min(bucket_end_ms(timeframe, end_ms - 1) - 1, now_ms) // MS_PER_DAY
        if timeframe in (c.TIMEFRAME_W1, c.TIMEFRAME_MN1):
            daily = [self.day_bars(symbol, c.TIMEFRAME_D1, d, now_ms) for d in range(first_day, last_day + 1)]
            d1 = np.concatenate(daily) if daily else _EMPTY
            days = d1["time"] // 86_400
            starts = _week_start_day(days) if timeframe == c.TIMEFRAME_W1 else _month_start_day(days)
            bars = _aggregate(d1, np.asarray(starts), np.asarray(starts) * 86_400)
        else:
            parts = [self.day_bars(symbol, timeframe, d, now_ms) for d in range(first_day, last_day + 1)]
            bars = np.concatenate(parts) if parts else _EMPTY
        keep = (bars["time"] * 1000 >= start_ms) & (bars["time"] * 1000 < end_ms)
        return bars[keep]

    # ------------------------------------------------------------------ the copy_rates_* trio
    def _history_start(self, timeframe: int, now_ms: int) -> int:
        return bucket_start_ms(timeframe, self.feed.history_start_ms(now_ms, BAR_HISTORY_DAYS))

    def range(self, symbol: str, timeframe: int, from_ms: int, to_ms: int, now_ms: int) -> np.ndarray:
        """Bars with from <= time <= to."""
        start = max(from_ms, self._history_start(timeframe, now_ms))
        if to_ms < start:
            return _EMPTY
        aligned = bucket_start_ms(timeframe, start)
        bars = self.bars_between(symbol, timeframe, aligned, to_ms + 1, now_ms)
        return bars[(bars["time"] >= from_ms // 1000) & (bars["time"] <= to_ms // 1000)]

    def back(
        self, symbol: str, timeframe: int, until_ms: int, count: int, now_ms: int, skip: int = 0
    ) -> np.ndarray:
        """The ``count`` bars before the ``skip`` newest bars opening at or before ``until_ms``."""
        count = min(count, MAX_BARS)
        until_ms = min(until_ms, now_ms)
        end = bucket_start_ms(timeframe, until_ms) + 1
        floor = self._history_start(timeframe, now_ms)
        length = (minutes_per_bar(timeframe) or MINUTES_PER_DAY * 31) * MS_PER_MINUTE
        span = max(MS_PER_DAY, int((count + skip) * length * 1.5))
        while True:
            start = max(floor, bucket_start_ms(timeframe, end - span))
            bars = self.bars_between(symbol, timeframe, start, end, now_ms)
            if len(bars) >= count + skip or start <= floor:
                stop = len(bars) - skip
                return bars[max(0, stop - count) : max(0, stop)]
            span *= 2
