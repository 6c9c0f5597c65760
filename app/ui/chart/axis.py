"""The time axis of a bar chart: x is the bar index, labels are the bars' dates.

Plotting against the index (not the time) leaves no gap for weekends and nights; the axis turns
each tick position back into the open time of the bar at that index, in a format that suits the
timeframe. Labels sit on round times (the hour, the day, the month, as MT5 puts them), as many as
fit the axis's width without touching: a narrow chart gets fewer, never overlapping ones.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont, QFontMetricsF, QPainter

from app.models import Timeframe
from app.ui.chart.buffer import BarBuffer

LABEL_GAP_PX = 14  # free space between two time labels
MINUTE, HOUR, DAY = 60, 3600, 86_400
# Round steps between two labels, in seconds (months and years are calendar steps, below).
TIME_STEPS = (
    MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
    HOUR, 2 * HOUR, 3 * HOUR, 4 * HOUR, 6 * HOUR, 12 * HOUR,
    DAY, 2 * DAY, 7 * DAY, 14 * DAY,
)  # fmt: skip
MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60)
MONTH = 30 * DAY  # for comparing a calendar step with the timeframe


def time_format(timeframe: Timeframe) -> str:
    if timeframe >= Timeframe.MN1:
        return "%b %Y"
    if timeframe >= Timeframe.D1:
        return "%d %b %Y"
    return "%d %b %H:%M"


def label_starts(times: np.ndarray, step: int, months: int) -> np.ndarray:
    """Indices (into ``times``) of the bars that open a round period — ``step`` seconds, or
    ``months`` calendar months when ``months`` > 0 — other than the first bar (whose period may
    have begun before it)."""
    if months:
        stamps = times.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
        bucket = stamps // months
    else:
        bucket = times // step
    return np.flatnonzero(np.diff(bucket)) + 1


class BarIndexAxis(pg.AxisItem):
    def __init__(self, buffer: BarBuffer, timeframe: Timeframe) -> None:
        super().__init__(orientation="bottom")
        self.buffer = buffer
        self.timeframe = timeframe
        self.setStyle(autoExpandTextSpace=False, hideOverlappingLabels=False)
        self.drawn: list[str] = []  # the labels of the last paint, as the trader reads them
        self.drawn_rects: list[QRectF] = []  # ... and where they were drawn (item coordinates)
        self._label_width: tuple[str, float] | None = None

    def set_timeframe(self, timeframe: Timeframe) -> None:
        """Another timeframe (new bars under the same indices): labels are made anew."""
        self.timeframe = timeframe
        self.picture = None  # the cached drawing holds the old labels
        self.update()

    def refresh(self) -> None:
        """The bars under the indices changed (new history): draw the labels again."""
        self.picture = None
        self.update()

    def _label_px(self) -> float:
        """How wide a label is, with the gap to the next (measured once per timeframe's format)."""
        fmt = time_format(self.timeframe)
        if self._label_width is None or self._label_width[0] != fmt:
            font = self.style["tickFont"] or QFont()
            sample = datetime(2026, 12, 28, 23, 58, tzinfo=UTC).strftime(fmt)
            self._label_width = (fmt, QFontMetricsF(font).horizontalAdvance(sample) + LABEL_GAP_PX)
        return self._label_width[1]

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N802, N803
        """Bars that open a round period (hour, day, month ...), spaced so their labels never touch."""
        times = self.buffer.time
        n = len(times)
        lo, hi = max(0, int(np.ceil(minVal))), min(n - 1, int(np.floor(maxVal)))
        if hi < lo or size <= 0 or maxVal <= minVal:
            return []
        px_per_bar = size / (maxVal - minVal)
        min_px = self._label_px()
        seconds = max(int(self.timeframe.seconds), MINUTE)
        need = min_px / px_per_bar * seconds  # seconds that one label's width covers
        first = max(0, lo - 1)  # the bar before the view tells whether the first one opens a period
        visible = times[first : hi + 1]
        starts: np.ndarray | None = None
        for step in TIME_STEPS:
            if step >= seconds and step >= need:
                starts = label_starts(visible, step, 0)
                break
        if starts is None:
            months = next((m for m in MONTH_STEPS if m * MONTH >= max(need, seconds)), MONTH_STEPS[-1])
            starts = label_starts(visible, 0, months)
        kept: list[float] = []
        for index in (starts + first).tolist():
            # a gap in the bars (a weekend) can bring two round times closer than a label's width
            if kept and (index - kept[-1]) * px_per_bar < min_px:
                continue
            if (index - minVal) * px_per_bar < min_px / 2 or (maxVal - index) * px_per_bar < min_px / 2:
                continue  # half the label would stick out of the axis
            kept.append(float(index))
        return [(float(max(1, round(need / seconds))), kept)]

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

    def generateDrawSpecs(self, p: QPainter):  # type: ignore[no-untyped-def]  # noqa: N802 - pyqtgraph hook
        specs = super().generateDrawSpecs(p)
        texts = specs[2] if specs else []
        self.drawn = [text for _rect, _flags, text in texts]
        self.drawn_rects = [QRectF(rect) for rect, _flags, _text in texts]
        return specs


class ValueAxis(pg.AxisItem):
    """The price (or indicator value) axis on the right: pyqtgraph's round values, but no more of
    them than fit the pane's height with their labels apart (a thin indicator pane in a small tile
    shows two or three values, not a pile of overlapping ones)."""

    def __init__(self) -> None:
        super().__init__(orientation="right")

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N802, N803
        levels = super().tickValues(minVal, maxVal, size)
        font = self.style["tickFont"] or QFont()
        line = QFontMetricsF(font).height()
        room = max(1, int(size // (line * 1.5)))
        if size > 0 and maxVal > minVal:
            # a value whose label would stick out of the pane (and touch the next pane's) is left out
            edge = line / 2 / size * (maxVal - minVal)
            levels = [(sp, [v for v in vs if minVal + edge <= v <= maxVal - edge]) for sp, vs in levels]
        thinned: list[tuple[float, list[float]]] = []
        for spacing, values in levels:
            if len(values) <= room:
                thinned.append((spacing, values))
                continue
            every = int(np.ceil(len(values) / room))
            kept = [v for v in values if round(v / spacing) % every == 0] if spacing else values[::every]
            thinned.append((spacing * every, kept[:room] if len(kept) > room else kept))
            break  # finer levels would only crowd what is kept
        return thinned
