"""Drawings as data: their JSON round trip, clear errors for a bad saved one, and the time <-> bar x
mapping that keeps them on the same time in every timeframe and after history is prepended."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.core.drawings import Anchor, ChartType, Drawing, DrawingKind, horizontal, trend, vertical
from app.models import Bar, BarSeries, Timeframe
from app.ui.chart.bar_time import time_of_x, x_of_time
from app.ui.chart.buffer import BarBuffer

T0 = 1_795_000_000 - 1_795_000_000 % 3600


def buffer_of(times: list[int]) -> BarBuffer:
    buffer = BarBuffer()
    bars = [Bar(t, 1.0, 1.1, 0.9, 1.05) for t in times]
    buffer.reset(BarSeries.from_bars("EURUSD", Timeframe.M1, bars))
    return buffer


def test_drawings_round_trip_through_json() -> None:
    drawings = [horizontal(T0, 1.2345), vertical(T0 + 60), trend(Anchor(T0, 1.1), Anchor(T0 + 600, 1.2))]
    back = [Drawing.from_json(json.loads(json.dumps(d.to_json()))) for d in drawings]
    assert [(d.kind, d.anchors) for d in back] == [(d.kind, d.anchors) for d in drawings]
    assert back[2].kind is DrawingKind.TREND and back[2].b == Anchor(T0 + 600, 1.2)
    assert ChartType("line") is ChartType.LINE and ChartType.BARS.label == "Bar Chart"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"kind": "circle", "points": [[T0, 1.0]]}, ValueError),
        ({"kind": "trend", "points": [[T0, 1.0]]}, ValueError),  # a trend line needs two points
        ({"kind": "horizontal", "points": [[T0, 1.0], [T0, 2.0]]}, ValueError),
        ({"kind": "horizontal", "points": [["noon", 1.0]]}, TypeError),
        ({"kind": "horizontal", "points": []}, ValueError),
        ({"kind": "vertical"}, KeyError),
    ],
)
def test_a_bad_saved_drawing_says_what_is_wrong(data: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        Drawing.from_json(data)


def test_time_and_bar_x_are_inverse_and_follow_the_bars_times() -> None:
    # M1 bars with a gap (a closed market) between the 4th and 5th
    times = [T0, T0 + 60, T0 + 120, T0 + 180, T0 + 3600, T0 + 3660]
    buffer = buffer_of(times)
    assert x_of_time(buffer, T0 + 120, 60) == 2.0
    assert x_of_time(buffer, T0 + 90, 60) == 1.5
    assert x_of_time(buffer, T0 + 3660 + 600, 60) == 15.0  # after the live bar: one bar a minute
    assert x_of_time(buffer, T0 - 120, 60) == -2.0
    for t in (T0 - 300, T0, T0 + 30, T0 + 1000, T0 + 3600, T0 + 9999):
        x = x_of_time(buffer, t, 60)
        assert x is not None and time_of_x(buffer, x, 60) == t
    assert x_of_time(BarBuffer(), T0, 60) is None and time_of_x(BarBuffer(), 1.0, 60) is None


def test_prepending_history_moves_the_x_not_the_time() -> None:
    buffer = buffer_of([T0 + 60 * i for i in range(100)])
    x = x_of_time(buffer, T0 + 60 * 40, 60)
    older = BarSeries.from_bars(
        "EURUSD", Timeframe.M1, [Bar(T0 - 60 * (i + 1), 1, 1, 1, 1) for i in range(25)][::-1]
    )
    assert buffer.prepend(older) == 25
    assert x is not None and x_of_time(buffer, T0 + 60 * 40, 60) == x + 25
    assert np.all(np.diff(buffer.time) > 0)
