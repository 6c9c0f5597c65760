"""The time axis of a bar chart: x is the bar index, labels are the bars' dates.

Plotting against the index (not the time) leaves no gap for weekends and nights; the axis turns
each tick position back into the open time of the bar at that index, in a format that suits the
timeframe.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyqtgraph as pg

from app.models import Timeframe
from app.ui.chart.buffer import BarBuffer


def time_format(timeframe: Timeframe) -> str:
    if timeframe >= Timeframe.MN1:
        return "%b %Y"
    if timeframe >= Timeframe.D1:
        return "%d %b %Y"
    return "%d %b %H:%M"


class BarIndexAxis(pg.AxisItem):
    def __init__(self, buffer: BarBuffer, timeframe: Timeframe) -> None:
        super().__init__(orientation="bottom")
        self.buffer = buffer
        self.timeframe = timeframe
        self.setStyle(autoExpandTextSpace=False)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N802, N803
        """pyqtgraph's ticks, but only on whole bars and never closer than one bar apart."""
        levels = super().tickValues(minVal, maxVal, size)
        result = []
        for spacing, values in levels:
            if spacing < 1:
                continue
            result.append((spacing, [v for v in values if float(v).is_integer()]))
        return result or [(1.0, [float(round(minVal))])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        times = self.buffer.time
        fmt = time_format(self.timeframe)
        labels = []
        for value in values:
            index = int(round(value))
            if 0 <= index < len(times):
                labels.append(datetime.fromtimestamp(int(times[index]), tz=UTC).strftime(fmt))
            else:
                labels.append("")
        return labels
