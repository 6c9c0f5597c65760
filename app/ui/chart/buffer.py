"""A chart's bars in preallocated numpy arrays (Qt-free): history grows left, the live bar is last.

Candles and indicators read the same arrays by bar index, so x = index and weekends leave no gap.
Appending a closed bar writes in place (capacity doubles when full, amortised); prepending older
history (panning left) is the rare case that copies. ``history_version`` changes whenever finished
bars change, so the candle item knows when its cached drawing is stale.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from app.models import Bar, BarSeries

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class BarBuffer:
    FIELDS = ("open", "high", "low", "close")

    def __init__(self, capacity: int = 1024, max_bars: int = 200_000) -> None:
        self.max_bars = max_bars
        self._n = 0
        self._time: IntArray = np.zeros(capacity, dtype=np.int64)
        self._ohlc: FloatArray = np.zeros((4, capacity), dtype=np.float64)
        self.history_version = 0

    def __len__(self) -> int:
        return self._n

    @property
    def capacity(self) -> int:
        return int(self._time.shape[0])

    # views over the filled part (no copies)
    @property
    def time(self) -> IntArray:
        return self._time[: self._n]

    @property
    def open(self) -> FloatArray:
        return self._ohlc[0, : self._n]

    @property
    def high(self) -> FloatArray:
        return self._ohlc[1, : self._n]

    @property
    def low(self) -> FloatArray:
        return self._ohlc[2, : self._n]

    @property
    def close(self) -> FloatArray:
        return self._ohlc[3, : self._n]

    def bar(self, index: int) -> Bar:
        o, h, low, c = self._ohlc[:, index]
        return Bar(int(self._time[index]), float(o), float(h), float(low), float(c))

    @property
    def last_time(self) -> int | None:
        return int(self._time[self._n - 1]) if self._n else None

    @property
    def full(self) -> bool:
        return self._n >= self.max_bars

    # ------------------------------------------------------------------ changes
    def reset(self, series: BarSeries) -> None:
        """Replace everything with ``series`` (a new symbol or timeframe)."""
        n = min(len(series), self.max_bars)
        self._n = 0
        self._ensure(max(n, 1))
        self._time[:n] = series.time[-n:]
        for row, name in enumerate(self.FIELDS):
            self._ohlc[row, :n] = getattr(series, name)[-n:]
        self._n = n
        self.history_version += 1

    def clear(self) -> None:
        """No bars (the history of another timeframe is on its way)."""
        self._n = 0
        self.history_version += 1

    def prepend(self, series: BarSeries) -> int:
        """Put older bars in front; returns how many were added (indices shift right by that)."""
        first = self.last_time if self._n == 0 else int(self._time[0])
        keep = series.time < first if first is not None else np.ones(len(series), dtype=bool)
        count = int(min(int(keep.sum()), self.max_bars - self._n))
        if count <= 0:
            return 0
        start = int(np.flatnonzero(keep)[-count])
        times = series.time[start : start + count]
        total = self._n + count
        capacity = max(self.capacity, total)
        new_time = np.zeros(capacity, dtype=np.int64)
        new_ohlc = np.zeros((4, capacity), dtype=np.float64)
        new_time[:count] = times
        new_time[count:total] = self._time[: self._n]
        for row, name in enumerate(self.FIELDS):
            new_ohlc[row, :count] = getattr(series, name)[start : start + count]
            new_ohlc[row, count:total] = self._ohlc[row, : self._n]
        self._time, self._ohlc, self._n = new_time, new_ohlc, total
        self.history_version += 1
        return count

    def apply(self, closed: list[Bar] | tuple[Bar, ...], live: Bar) -> int:
        """Fold closed bars and the live bar in; returns how many new bars were appended."""
        appended = 0
        for bar in (*closed, live):
            last = self.last_time
            if last is None or bar.time > last:
                self._ensure(self._n + 1)
                self._set(self._n, bar)
                self._n += 1
                appended += 1
            elif bar.time == last:
                self._set(self._n - 1, bar)
            # an older bar (a late update) is already in history: ignore it
        if appended:
            self.history_version += 1  # the former live bar is now a finished one
        return appended

    def _set(self, index: int, bar: Bar) -> None:
        self._time[index] = bar.time
        self._ohlc[:, index] = (bar.open, bar.high, bar.low, bar.close)

    def _ensure(self, size: int) -> None:
        if size <= self.capacity:
            return
        capacity = max(size, self.capacity * 2)
        time = np.zeros(capacity, dtype=np.int64)
        ohlc = np.zeros((4, capacity), dtype=np.float64)
        time[: self._n] = self._time[: self._n]
        ohlc[:, : self._n] = self._ohlc[:, : self._n]
        self._time, self._ohlc = time, ohlc

    def index_of_time(self, seconds: int) -> int:
        """Index of the bar open at ``seconds`` (the one containing it), clamped to the buffer."""
        if not self._n:
            return 0
        index = int(np.searchsorted(self.time, seconds, side="right")) - 1
        return max(0, min(index, self._n - 1))

    def visible_range(self, x0: float, x1: float) -> tuple[float, float] | None:
        """Low and high over the bars between indices ``x0`` and ``x1`` (for the y auto-range)."""
        lo = max(0, int(np.floor(x0)))
        hi = min(self._n, int(np.ceil(x1)) + 1)
        if hi <= lo:
            return None
        return float(self.low[lo:hi].min()), float(self.high[lo:hi].max())
