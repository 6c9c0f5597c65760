"""Times to chart x (bar index) and back, for what is anchored to a time (drawings). Qt-free.

The chart plots bars by index, so a time maps to the index of the bar open at it plus how far into
that bar's span (up to the next bar's open) it is; before the first bar and after the last one it
goes on at one bar per timeframe. The two functions are inverse to each other, so a drawing made on
one timeframe comes back to the same time on any other, and prepended history (which renumbers the
bars) moves nothing.
"""

from __future__ import annotations

import math

import numpy as np

from app.ui.chart.buffer import BarBuffer


def x_of_time(buffer: BarBuffer, seconds: int, step: int) -> float | None:
    """The x of ``seconds`` on a chart of ``buffer`` (bars ``step`` seconds long); None: no bars."""
    times = buffer.time
    n = len(times)
    if not n:
        return None
    first, last = int(times[0]), int(times[-1])
    if seconds <= first:
        return (seconds - first) / step
    if seconds >= last:
        return n - 1 + (seconds - last) / step
    i = int(np.searchsorted(times, seconds, side="right")) - 1
    start, end = int(times[i]), int(times[i + 1])
    return i + (seconds - start) / (end - start)


def time_of_x(buffer: BarBuffer, x: float, step: int) -> int | None:
    """The time at ``x`` (the inverse of :func:`x_of_time`); None: no bars."""
    times = buffer.time
    n = len(times)
    if not n:
        return None
    if x <= 0:
        return round(int(times[0]) + x * step)
    if x >= n - 1:
        return round(int(times[-1]) + (x - (n - 1)) * step)
    i = math.floor(x)
    start, end = int(times[i]), int(times[i + 1])
    return round(start + (x - i) * (end - start))
