"""Live bars built from ticks, so a chart moves with every tick and equals the terminal's bar once closed.

Bars are built from the bid (MT5's chart mode for FX/CFD symbols), aligned as MT5 aligns them:
intraday and daily bars on multiples of their length since midnight, weeks from Sunday 00:00 and
months from the 1st, all in terminal (server) time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from app.models import Bar, TickBatch, Timeframe

_SUNDAY_EPOCH_OFFSET = 3 * 86_400  # 1970-01-01 was a Thursday; the first Sunday came 3 days later


def bar_open_time(timeframe: Timeframe, seconds: int) -> int:
    """Open time of the bar of ``timeframe`` that contains ``seconds`` (epoch seconds)."""
    if timeframe is Timeframe.MN1:
        moment = datetime.fromtimestamp(seconds, tz=UTC)
        return int(datetime(moment.year, moment.month, 1, tzinfo=UTC).timestamp())
    if timeframe is Timeframe.W1:
        return seconds - (seconds - _SUNDAY_EPOCH_OFFSET) % Timeframe.W1.seconds
    return seconds - seconds % timeframe.seconds


def bar_open_times(timeframe: Timeframe, seconds: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Vectorised :func:`bar_open_time`."""
    if timeframe is Timeframe.MN1:
        months = seconds.astype("datetime64[s]").astype("datetime64[M]")
        return months.astype("datetime64[s]").astype(np.int64)
    if timeframe is Timeframe.W1:
        return seconds - (seconds - _SUNDAY_EPOCH_OFFSET) % Timeframe.W1.seconds
    return seconds - seconds % timeframe.seconds


@dataclass
class LiveBar:
    """The forming bar of one symbol and timeframe; ``closed`` collects bars that finished."""

    symbol: str
    timeframe: Timeframe
    point: float
    current: Bar | None = None

    def apply(self, batch: TickBatch) -> list[Bar]:
        """Fold ``batch`` into the live bar; return the bars that closed on the way (oldest first)."""
        if len(batch) == 0:
            return []
        closed: list[Bar] = []
        opens = bar_open_times(self.timeframe, batch.time_msc // 1000)
        # split the batch into runs of ticks that belong to the same bar
        boundaries = np.flatnonzero(np.diff(opens)) + 1
        starts = np.concatenate(([0], boundaries))
        ends = np.concatenate((boundaries, [len(batch)]))
        spreads = np.rint((batch.ask - batch.bid) / self.point).astype(np.int64) if self.point else None
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            open_time = int(opens[start])
            bids = batch.bid[start:end]
            high, low, close = float(bids.max()), float(bids.min()), float(bids[-1])
            count = end - start
            spread = int(spreads[start:end].min()) if spreads is not None else 0
            bar = self.current
            if bar is not None and open_time < bar.time:
                continue  # ticks older than the live bar (a late duplicate): already counted
            if bar is None or open_time > bar.time:
                if bar is not None:
                    closed.append(bar)
                self.current = Bar(open_time, float(bids[0]), high, low, close, count, spread, 0)
            else:
                self.current = replace(
                    bar,
                    high=max(bar.high, high),
                    low=min(bar.low, low),
                    close=close,
                    tick_volume=bar.tick_volume + count,
                    spread=min(bar.spread, spread) if bar.tick_volume else spread,
                )
        return closed
