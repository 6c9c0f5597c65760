"""Ticks of one minute: a deterministic bridge through the minute's bar, plus storm ticks.

Calm ticks of minute ``m`` are a pure function of (seed, symbol, m): the first is the bar's open (in
the first 200 ms), the last its close (in the last 300 ms), one touches the high and one the low,
and the rest wander between them. So a past minute's ticks always aggregate to its M1 bar, and the
live bar, built from the ticks revealed so far, becomes exactly that bar when the minute closes.

Storm ticks are extra ticks of one second at a given rate, a function of (seed, symbol, second,
rate). They fall strictly between the minute's first and last calm tick and stay within its high
and low, so a storm changes tick counts but never a bar's open, high, low or close.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from app.mt5.sim import constants as c
from app.mt5.sim.walk import DayBlock, _rng

_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float64)


class TickArrays(NamedTuple):
    """Parallel arrays of ticks in time order (time in ms since the epoch)."""

    time_msc: np.ndarray
    bid: np.ndarray
    ask: np.ndarray

    def __len__(self) -> int:
        return len(self.time_msc)

    def cut(self, start: int, stop: int) -> TickArrays:
        return TickArrays(self.time_msc[start:stop], self.bid[start:stop], self.ask[start:stop])


EMPTY = TickArrays(_EMPTY_I, _EMPTY_F, _EMPTY_F)


def concat(parts: list[TickArrays]) -> TickArrays:
    parts = [p for p in parts if len(p)]
    if not parts:
        return EMPTY
    if len(parts) == 1:
        return parts[0]
    return TickArrays(
        np.concatenate([p.time_msc for p in parts]),
        np.concatenate([p.bid for p in parts]),
        np.concatenate([p.ask for p in parts]),
    )


def _spread_extra(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mostly zero, sometimes a point or two wider than the minute's minimum spread."""
    return rng.geometric(0.7, n) - 1


def calm_minute(seed: int, key: int, block: DayBlock, minute: int, digits: int) -> TickArrays:
    """The calm ticks of ``minute`` (0..1439) of the day in ``block``."""
    rng = _rng(seed, key, 3, block.day, minute)
    n = int(block.ticks[minute])
    o, h, low, cl = block.open[minute], block.high[minute], block.low[minute], block.close[minute]
    first = int(rng.integers(0, 200))
    last = 60_000 - int(rng.integers(1, 300))
    inner = np.sort(rng.integers(first, last + 1, size=n - 2))
    base = block.day * 86_400_000 + minute * 60_000
    times = np.concatenate([[first], inner, [last]]) + base
    i_high, i_low = (int(x) for x in rng.choice(np.arange(1, n - 1), size=2, replace=False))
    anchors = sorted([(0, o), (i_high, h), (i_low, low), (n - 1, cl)])
    step = max(h - low, 10.0**-digits) / max(2.0, np.sqrt(n)) * 0.8
    walk = np.cumsum(rng.standard_normal(n)) * step
    bid = np.empty(n)
    for (a, pa), (b, pb) in zip(anchors, anchors[1:], strict=False):
        segment = walk[a : b + 1] - walk[a]
        fraction = np.arange(b - a + 1) / (b - a)
        bid[a : b + 1] = pa + segment - fraction * (segment[-1] - (pb - pa))
    bid = np.round(np.clip(bid, low, h), digits)
    for index, price in anchors:
        bid[index] = price
    extra = _spread_extra(rng, n)
    extra[0] = 0  # the open tick carries the minute's minimum spread: the bar's spread
    ask = np.round(bid + (block.spread[minute] + extra) * 10.0**-digits, digits)
    return TickArrays(times.astype(np.int64), bid, ask)


def storm_second(
    seed: int,
    key: int,
    second: int,
    rate: float,
    calm: TickArrays,
    bounds: tuple[float, float, int],
    digits: int,
) -> TickArrays:
    """Storm ticks of epoch second ``second`` at ``rate`` ticks/s, woven into the calm ticks ``calm``.

    ``bounds`` = (low, high, min spread) of the minute's bar.
    """
    rng = _rng(seed, key, 4, second, int(rate * 1000))
    count = int(rng.poisson(rate))
    if count == 0 or len(calm) < 2:
        return EMPTY
    times = np.sort(rng.integers(0, 1000, size=count)) + second * 1000
    keep = (times > calm.time_msc[0]) & (times < calm.time_msc[-1])
    times = times[keep]
    if len(times) == 0:
        return EMPTY
    low, high, spread = bounds
    step = max(high - low, 10.0**-digits) * 0.05
    bid = np.interp(times, calm.time_msc, calm.bid) + rng.standard_normal(len(times)) * step
    bid = np.round(np.clip(bid, low, high), digits)
    ask = np.round(bid + (spread + _spread_extra(rng, len(times))) * 10.0**-digits, digits)
    return TickArrays(times.astype(np.int64), bid, ask)


def merge(calm: TickArrays, storm: TickArrays) -> TickArrays:
    """Calm and storm ticks in time order; on equal milliseconds the calm tick comes first."""
    if len(storm) == 0:
        return calm
    merged = concat([calm, storm])
    order = np.argsort(merged.time_msc, kind="stable")
    return TickArrays(merged.time_msc[order], merged.bid[order], merged.ask[order])


MAX_VECTOR_PASSES = 8  # then the few duplicates left (if any) are settled one by one


def distinct(ticks: TickArrays, following: tuple[float, float] | None, digits: int) -> TickArrays:
    """The ticks with every one changing the bid or the ask (or both) from the tick before it, and the
    last one differing from ``following`` (bid, ask), the first tick of the next open minute.

    A tick of the raw bridge may repeat its predecessor's prices; MT5 has no such tick (its flags say
    what changed). Such a tick keeps its bid — bars, which are bids, stay as they are — and its ask
    moves up a point (a spread a point wider; two for the last tick if one would repeat its
    predecessor). The first tick is never touched: it carries the bar's open and the minute's minimum
    spread. Each change looks only at the ticks before it, so a tick already revealed never changes
    when later ones (a storm's) come.
    """
    n = len(ticks)
    if n < 2 and following is None:
        return ticks
    point = 10.0**-digits
    bid, ask = ticks.bid, ticks.ask.copy()
    for _ in range(MAX_VECTOR_PASSES):
        repeat = np.flatnonzero((bid[1:] == bid[:-1]) & (ask[1:] == ask[:-1])) + 1
        if len(repeat) == 0:
            break
        # In a run of repeats every tick equals the one before the run: raise every other one.
        run_start = np.ones(len(repeat), dtype=bool)
        run_start[1:] = repeat[1:] != repeat[:-1] + 1
        starts = np.flatnonzero(run_start)
        position = np.arange(len(repeat)) - np.repeat(starts, np.diff(np.append(starts, len(repeat))))
        raise_it = repeat[position % 2 == 0]
        ask[raise_it] = np.round(ask[raise_it] + point, digits)
    else:
        for i in range(1, n):
            if bid[i] == bid[i - 1] and ask[i] == ask[i - 1]:
                ask[i] = round(ask[i] + point, digits)
    if following is not None and n >= 2 and (bid[-1], ask[-1]) == following:
        bumped = round(ask[-1] + point, digits)
        if (bid[-1], bumped) == (bid[-2], ask[-2]):
            bumped = round(ask[-1] + 2 * point, digits)
        ask[-1] = bumped
    return TickArrays(ticks.time_msc, bid, ask)


def flags_of(ticks: TickArrays, previous: tuple[float, float] | None = None) -> np.ndarray:
    """TICK_FLAG_BID / TICK_FLAG_ASK for what changed since the tick before (for the first tick:
    ``previous``, the last tick of the open minute before; both flags when there is none)."""
    n = len(ticks)
    flags = np.zeros(n, dtype=np.uint32)
    if n == 0:
        return flags
    prior_bid = np.empty(n)
    prior_ask = np.empty(n)
    prior_bid[1:], prior_ask[1:] = ticks.bid[:-1], ticks.ask[:-1]
    prior_bid[0], prior_ask[0] = previous if previous is not None else (np.nan, np.nan)
    flags |= np.where(ticks.bid != prior_bid, c.TICK_FLAG_BID, 0).astype(np.uint32)
    flags |= np.where(ticks.ask != prior_ask, c.TICK_FLAG_ASK, 0).astype(np.uint32)
    return flags
