"""The price feed: which ticks exist up to now, for every symbol, from the skeleton and the storm.

Ticks are revealed as the clock passes: a tick exists once ``clock.now_ms() >= time_msc``. Because
every tick is a pure function of the seed, the symbol, its minute and the storm schedule, the feed
keeps only caches: the live tick stream, the ticks of last month and the ticks a restarted server
shows are the same ticks.

``ticks_from(symbol, from_ms, count)`` includes the ticks AT ``from_ms`` (as MT5's copy_ticks_from
does); ticks share milliseconds, so an incremental reader re-reads from the last time it saw and
drops the ticks it already had at that millisecond. All ticks of one millisecond are revealed at
once, so that is exact: no tick is ever missed or seen twice.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple

import numpy as np

from app.mt5.sim.clock import Clock
from app.mt5.sim.sessions import MINUTES_PER_DAY, MS_PER_DAY, MS_PER_MINUTE
from app.mt5.sim.storm import StormSchedule
from app.mt5.sim.structs import TICKS_DTYPE
from app.mt5.sim.symbols import SymbolSpec
from app.mt5.sim.ticks import EMPTY, TickArrays, calm_minute, concat, distinct, flags_of, merge, storm_second
from app.mt5.sim.walk import Walk

HISTORY_DAYS = 3 * 366  # how far back the broker keeps ticks ...
BAR_HISTORY_DAYS = 10 * 366  # ... and bars (the documentation's examples ask for 2020)


class LastTick(NamedTuple):
    time_msc: int
    bid: float
    ask: float
    flags: int


class _Lru(OrderedDict[tuple[object, ...], object]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_or(self, key: tuple[object, ...]) -> object | None:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def put(self, key: tuple[object, ...], value: object) -> None:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)


class PriceFeed:
    """Ticks (and, through :mod:`app.mt5.sim.rates`, bars) of every symbol, up to the clock's now."""

    def __init__(
        self, specs: list[SymbolSpec], seed: int, clock: Clock, storm: StormSchedule | None = None
    ) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.seed = seed
        self.clock = clock
        self.storm = storm or StormSchedule()
        self.walks: dict[str, Walk] = {}
        for spec in sorted(specs, key=lambda s: bool(s.cross)):  # crosses after their legs
            legs = tuple((self.walks[name], sign) for name, sign in spec.cross)
            self.walks[spec.name] = Walk(spec, seed, legs)
        self._lock = threading.RLock()
        self._calm = _Lru(4096)
        self._finals = _Lru(512)
        self._minutes = _Lru(512)

    # ------------------------------------------------------------------ minutes
    def history_start_ms(self, now_ms: int | None = None, days: int = HISTORY_DAYS) -> int:
        """The first day of the tick history (of the bar history with ``days=BAR_HISTORY_DAYS``)."""
        now = self.clock.now_ms() if now_ms is None else now_ms
        return (now // MS_PER_DAY - days) * MS_PER_DAY

    def is_open_minute(self, symbol: str, minute: int) -> bool:
        block = self.walks[symbol].day_block(minute // MINUTES_PER_DAY)
        return bool(block.open_mask[minute % MINUTES_PER_DAY])

    def _calm_minute(self, symbol: str, minute: int) -> TickArrays:
        key = (symbol, minute)
        cached = self._calm.get_or(key)
        if cached is None:
            walk = self.walks[symbol]
            block = walk.day_block(minute // MINUTES_PER_DAY)
            cached = calm_minute(self.seed, walk.key, block, minute % MINUTES_PER_DAY, walk.spec.digits)
            self._calm.put(key, cached)
        return cached  # type: ignore[return-value]

    def _neighbour_open_minute(self, symbol: str, minute: int, step: int) -> int | None:
        """The open minute just before (``step`` -1) or after (+1) ``minute``, within a week."""
        walk = self.walks[symbol]
        day, offset = divmod(minute + step, MINUTES_PER_DAY)
        for _ in range(8):
            mask = walk.day_block(day).open_mask
            found = np.flatnonzero(mask[offset:] if step > 0 else mask[: offset + 1])
            if len(found):
                return day * MINUTES_PER_DAY + int(found[0] + offset if step > 0 else found[-1])
            day += step
            offset = 0 if step > 0 else MINUTES_PER_DAY - 1
        return None

    def _first_tick(self, symbol: str, minute: int) -> tuple[float, float]:
        """(bid, ask) of a minute's first tick, from its bar alone: the open, at the minimum spread."""
        walk = self.walks[symbol]
        block = walk.day_block(minute // MINUTES_PER_DAY)
        m = minute % MINUTES_PER_DAY
        digits = walk.spec.digits
        bid = float(block.open[m])
        return bid, float(np.round(bid + block.spread[m] * 10.0**-digits, digits))

    def _storm_seconds(self, symbol: str, minute: int, now_ms: int) -> list[tuple[int, float]]:
        """The storm's seconds of ``minute`` that have begun at ``now_ms`` (with their rates)."""
        first_second = minute * 60
        return self.storm.seconds(symbol, first_second, min(first_second + 60, now_ms // 1000 + 1))

    def _final_ticks(self, symbol: str, minute: int, now_ms: int) -> TickArrays:
        """Every tick of an open ``minute`` known at ``now_ms`` (calm ticks of the whole minute, storm
        ticks of the seconds begun), each changing the bid or the ask."""
        storm = self._storm_seconds(symbol, minute, now_ms)
        key = (symbol, minute, storm[-1][0] if storm else -1)
        cached = self._finals.get_or(key)
        if cached is None:
            calm = self._calm_minute(symbol, minute)
            ticks = calm
            if storm:
                ticks = merge(calm, self._storm_ticks(symbol, minute, calm, storm))
            following = self._neighbour_open_minute(symbol, minute, +1)
            after = self._first_tick(symbol, following) if following is not None else None
            cached = distinct(ticks, after, self.specs[symbol].digits)
            self._finals.put(key, cached)
        return cached  # type: ignore[return-value]

    def minute_ticks(self, symbol: str, minute: int, now_ms: int) -> tuple[TickArrays, np.ndarray]:
        """Every tick of ``minute`` known at ``now_ms`` (calm ticks of the whole minute, storm ticks of
        the seconds begun), with their flags. The caller cuts at ``now_ms``."""
        with self._lock:
            if not self.is_open_minute(symbol, minute):
                return EMPTY, np.zeros(0, dtype=np.uint32)
            storm = self._storm_seconds(symbol, minute, now_ms)
            key = (symbol, minute, storm[-1][0] if storm else -1)
            cached = self._minutes.get_or(key)
            if cached is None:
                ticks = self._final_ticks(symbol, minute, now_ms)
                before = self._neighbour_open_minute(symbol, minute, -1)
                previous = None
                if before is not None:
                    last = self._final_ticks(symbol, before, now_ms)
                    previous = (float(last.bid[-1]), float(last.ask[-1]))
                cached = (ticks, flags_of(ticks, previous))
                self._minutes.put(key, cached)
            return cached  # type: ignore[return-value]

    def _storm_ticks(
        self, symbol: str, minute: int, calm: TickArrays, seconds: list[tuple[int, float]]
    ) -> TickArrays:
        walk = self.walks[symbol]
        block = walk.day_block(minute // MINUTES_PER_DAY)
        m = minute % MINUTES_PER_DAY
        bounds = (float(block.low[m]), float(block.high[m]), int(block.spread[m]))
        return concat(
            [
                storm_second(self.seed, walk.key, s, rate, calm, bounds, walk.spec.digits)
                for s, rate in seconds
            ]
        )

    # ------------------------------------------------------------------ ticks
    def _open_minutes_between(self, symbol: str, first: int, last: int) -> list[int]:
        """Open minutes in [first, last], skipping closed days without visiting their minutes."""
        out: list[int] = []
        walk = self.walks[symbol]
        for day in range(first // MINUTES_PER_DAY, last // MINUTES_PER_DAY + 1):
            mask = walk.day_block(day).open_mask
            base = day * MINUTES_PER_DAY
            lo = max(first - base, 0)
            hi = min(last - base, MINUTES_PER_DAY - 1)
            out.extend(int(i) + base for i in np.flatnonzero(mask[lo : hi + 1]) + lo)
        return out

    def ticks_range(
        self, symbol: str, from_ms: int, to_ms: int, now_ms: int | None = None
    ) -> tuple[TickArrays, np.ndarray]:
        """Ticks with from_ms <= time_msc <= to_ms (never past now)."""
        now = self.clock.now_ms() if now_ms is None else now_ms
        to_ms = min(to_ms, now)
        from_ms = max(from_ms, self.history_start_ms(now))
        if to_ms < from_ms:
            return EMPTY, np.zeros(0, dtype=np.uint32)
        parts: list[TickArrays] = []
        flags: list[np.ndarray] = []
        for minute in self._open_minutes_between(symbol, from_ms // MS_PER_MINUTE, to_ms // MS_PER_MINUTE):
            ticks, f = self.minute_ticks(symbol, minute, now)
            lo = int(np.searchsorted(ticks.time_msc, from_ms, "left"))
            hi = int(np.searchsorted(ticks.time_msc, to_ms, "right"))
            if hi > lo:
                parts.append(ticks.cut(lo, hi))
                flags.append(f[lo:hi])
        if not parts:
            return EMPTY, np.zeros(0, dtype=np.uint32)
        return concat(parts), np.concatenate(flags)

    def ticks_from(
        self, symbol: str, from_ms: int, count: int, now_ms: int | None = None
    ) -> tuple[TickArrays, np.ndarray]:
        """The first ``count`` ticks with time_msc >= from_ms (never past now)."""
        now = self.clock.now_ms() if now_ms is None else now_ms
        from_ms = max(from_ms, self.history_start_ms(now))
        parts: list[TickArrays] = []
        flags: list[np.ndarray] = []
        have = 0
        minute = from_ms // MS_PER_MINUTE
        last_minute = now // MS_PER_MINUTE
        while have < count and minute <= last_minute:
            chunk_end = min(last_minute, minute + MINUTES_PER_DAY - 1)
            for m in self._open_minutes_between(symbol, minute, chunk_end):
                ticks, f = self.minute_ticks(symbol, m, now)
                lo = int(np.searchsorted(ticks.time_msc, from_ms, "left"))
                hi = int(np.searchsorted(ticks.time_msc, now, "right"))
                hi = min(hi, lo + count - have)
                if hi > lo:
                    parts.append(ticks.cut(lo, hi))
                    flags.append(f[lo:hi])
                    have += hi - lo
                if have >= count:
                    break
            minute = chunk_end + 1
        if not parts:
            return EMPTY, np.zeros(0, dtype=np.uint32)
        return concat(parts), np.concatenate(flags)

    def last_tick(self, symbol: str, now_ms: int | None = None) -> LastTick | None:
        """The newest tick at or before now (the Friday close while the market is shut)."""
        now = self.clock.now_ms() if now_ms is None else now_ms
        minute = now // MS_PER_MINUTE
        walk = self.walks[symbol]
        for day in range(minute // MINUTES_PER_DAY, minute // MINUTES_PER_DAY - 8, -1):
            mask = walk.day_block(day).open_mask
            base = day * MINUTES_PER_DAY
            upto = min(minute - base, MINUTES_PER_DAY - 1)
            candidates = np.flatnonzero(mask[: upto + 1])
            for m in candidates[::-1][:2]:
                ticks, flags = self.minute_ticks(symbol, base + int(m), now)
                index = int(np.searchsorted(ticks.time_msc, now, "right")) - 1
                if index >= 0:
                    return LastTick(
                        int(ticks.time_msc[index]),
                        float(ticks.bid[index]),
                        float(ticks.ask[index]),
                        int(flags[index]),
                    )
        return None


def to_structured(ticks: TickArrays, flags: np.ndarray) -> np.ndarray:
    """The numpy structured array copy_ticks_* returns (bid/ask ticks: last and volumes are 0)."""
    out = np.zeros(len(ticks), dtype=TICKS_DTYPE)
    out["time"] = ticks.time_msc // 1000
    out["bid"] = ticks.bid
    out["ask"] = ticks.ask
    out["time_msc"] = ticks.time_msc
    out["flags"] = flags
    return out
