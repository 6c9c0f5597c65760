"""Live bars from ticks: alignment like MT5's, and folding ticks gives the aggregate of the ticks."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.bars import LiveBar, bar_open_time, bar_open_times
from app.models import Bar, TickBatch, Timeframe


def ts(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


def test_alignment() -> None:
    t = ts(2026, 11, 19, 13, 47, 31)  # a Thursday
    assert bar_open_time(Timeframe.M1, t) == ts(2026, 11, 19, 13, 47)
    assert bar_open_time(Timeframe.M15, t) == ts(2026, 11, 19, 13, 45)
    assert bar_open_time(Timeframe.H4, t) == ts(2026, 11, 19, 12, 0)
    assert bar_open_time(Timeframe.D1, t) == ts(2026, 11, 19)
    assert bar_open_time(Timeframe.W1, t) == ts(2026, 11, 15)  # the Sunday before
    assert bar_open_time(Timeframe.MN1, t) == ts(2026, 11, 1)
    times = np.array([t, ts(2026, 2, 28, 23, 59), ts(2026, 11, 15)], dtype=np.int64)
    for tf in Timeframe:
        assert bar_open_times(tf, times).tolist() == [bar_open_time(tf, int(x)) for x in times]


def batch(times_msc: list[int], bids: list[float], spread: float = 0.0002) -> TickBatch:
    bid = np.array(bids, dtype=np.float64)
    n = len(bids)
    return TickBatch(
        "EURUSD", np.array(times_msc, dtype=np.int64), bid, bid + spread, np.zeros(n), np.zeros(n),
        np.full(n, 6, dtype=np.int64),
    )  # fmt: skip


def aggregate(times_msc: list[int], bids: list[float], tf: Timeframe) -> list[Bar]:
    bars: dict[int, list[float]] = {}
    for t, b in zip(times_msc, bids, strict=True):
        bars.setdefault(bar_open_time(tf, t // 1000), []).append(b)
    return [Bar(k, v[0], max(v), min(v), v[-1], len(v), 20, 0) for k, v in sorted(bars.items())]


@settings(deadline=None)  # no timing here: a loaded machine must not fail a correctness property
@given(
    st.lists(
        st.tuples(st.integers(0, 400_000), st.floats(1.0, 1.2, allow_nan=False)), min_size=1, max_size=200
    ),
    st.integers(1, 7),
)
def test_folding_ticks_in_any_batches_equals_aggregating_them(
    ticks: list[tuple[int, float]], pieces: int
) -> None:
    ticks.sort(key=lambda x: x[0])
    times = [t for t, _ in ticks]
    bids = [b for _, b in ticks]
    live = LiveBar("EURUSD", Timeframe.M1, 0.00001)
    closed: list[Bar] = []
    cuts = sorted({0, len(ticks), *[len(ticks) * i // pieces for i in range(pieces)]})
    for start, end in zip(cuts, cuts[1:], strict=False):
        closed += live.apply(batch(times[start:end], bids[start:end]))
    assert live.current is not None
    assert closed + [live.current] == aggregate(times, bids, Timeframe.M1)


def test_ticks_older_than_the_live_bar_are_ignored() -> None:
    live = LiveBar("EURUSD", Timeframe.M1, 0.00001, current=Bar(120, 1.0, 1.0, 1.0, 1.0, 1, 20, 0))
    assert live.apply(batch([60_000], [5.0])) == []
    assert live.current == Bar(120, 1.0, 1.0, 1.0, 1.0, 1, 20, 0)
