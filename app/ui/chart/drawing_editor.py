"""The mouse gestures that make and change drawings (MT5's): take a line and drag it, drag a trend
line's end, place a trend line by two clicks or one drag, select one (Delete removes it).

It works on points the view hands it (scene pixels and chart coordinates) and changes the
:class:`ChartModel` only when a gesture ends, so a drag in progress is a preview and the saved
drawings (the layout's) change once per gesture. Times are snapped to bars, as MT5 snaps anchors.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF

from app.core.drawings import Anchor, Drawing, DrawingKind, trend
from app.ui.chart.bar_time import time_of_x, x_of_time
from app.ui.chart.drawings_item import HIT_PX, DrawingsItem
from app.ui.chart.model import ChartModel


@dataclass
class _Drag:
    original: Drawing
    end: int | None  # a trend line's end taken alone (None: the whole drawing)
    start: QPointF  # where the mouse took it, in chart coordinates (x = bar, y = price)
    moved: bool = False


class DrawingEditor:
    def __init__(self, model: ChartModel, item: DrawingsItem) -> None:
        self.model = model
        self.item = item
        self.placing = False  # the next click (or drag) starts a trend line
        self._first: Anchor | None = None  # a trend line's first end, waiting for the second
        self._first_scene: QPointF | None = None
        self._drag: _Drag | None = None

    @property
    def selected(self) -> str | None:
        return self.item.selected

    @property
    def hint(self) -> str:
        """What the chart's title tells the trader while a trend line is being placed."""
        if self.placing:
            return "Trend line: click its first point (or drag it out); Esc cancels"
        if self._first is not None:
            return "Trend line: click its second point; Esc cancels"
        return ""

    @property
    def busy(self) -> bool:
        """A gesture is in progress: the mouse belongs to the drawings, not to panning."""
        return self._drag is not None or self._first is not None

    def x_of(self, time: int) -> float | None:
        return x_of_time(self.model.buffer, time, self.model.timeframe.seconds)

    def anchor_at(self, point: QPointF) -> Anchor | None:
        """The (time, price) at chart point ``point``, its time snapped to the nearest bar."""
        time = time_of_x(self.model.buffer, round(point.x()), self.model.timeframe.seconds)
        return None if time is None else Anchor(time, float(point.y()))

    def _moved(self, anchor: Anchor, bars: int, price: float) -> Anchor:
        x = self.x_of(anchor.time)
        time = (
            anchor.time
            if x is None or not bars
            else time_of_x(self.model.buffer, x + bars, self.model.timeframe.seconds)
        )
        return Anchor(anchor.time if time is None else time, anchor.price + price)

    # ------------------------------------------------------------------ gestures
    def start_trend(self) -> None:
        """The chart menu's Trend Line: the next two clicks, or a drag, place it."""
        self.cancel()
        self.placing = True

    def cancel(self) -> None:
        """Esc: no trend line being placed, no drag (a dragged line goes back), nothing selected."""
        self.placing = False
        self._first = self._first_scene = None
        self._drag = None
        self.item.preview = None
        self.item.selected = None
        self.item.update()

    def press(self, scene: QPointF, point: QPointF) -> bool:
        """A left press at ``scene`` (chart ``point``); True: the drawings took it."""
        if self.placing or self._first is not None:
            anchor = self.anchor_at(point)
            if anchor is None:
                return True
            if self._first is None:
                self._first, self._first_scene = anchor, scene
                self.placing = False
                self.item.preview = trend(anchor, anchor)
            else:
                self._finish_trend(anchor)
            self.item.update()
            return True
        hit = self.item.hit(scene)
        self.item.selected = None if hit is None else hit[0].id
        self.item.update()
        if hit is None:
            return False
        self._drag = _Drag(hit[0], hit[1], point)
        return True

    def move(self, scene: QPointF, point: QPointF) -> bool:
        if self._first is not None:
            anchor = self.anchor_at(point)
            if anchor is not None:
                self.item.preview = trend(self._first, anchor)
                self.item.update()
            return True
        drag = self._drag
        if drag is None:
            return False
        drag.moved = True
        self.item.preview = self._dragged(drag, point)
        self.item.update()
        return True

    def release(self, scene: QPointF, point: QPointF) -> bool:
        first_scene = self._first_scene
        if self._first is not None and first_scene is not None:
            far = abs(scene.x() - first_scene.x()) + abs(scene.y() - first_scene.y()) > HIT_PX
            anchor = self.anchor_at(point)
            if far and anchor is not None:  # placed by one drag
                self._finish_trend(anchor)
            return True  # else: the first click, the second one ends it
        drag = self._drag
        if drag is None:
            return False
        self._drag = None
        self.item.preview = None
        if drag.moved:
            self.model.replace_drawing(self._dragged(drag, point))
        self.item.update()
        return True

    def delete_selected(self) -> bool:
        selected = self.item.selected
        if selected is None:
            return False
        self.model.remove_drawing(selected)
        self.item.selected = None
        self.item.update()
        return True

    # ------------------------------------------------------------------ helpers
    def _finish_trend(self, anchor: Anchor) -> None:
        first = self._first
        self._first = self._first_scene = None
        self.item.preview = None
        if first is None or first == anchor:
            return
        drawing = trend(first, anchor)
        self.model.add_drawing(drawing)
        self.item.selected = drawing.id

    def _dragged(self, drag: _Drag, point: QPointF) -> Drawing:
        original = drag.original
        bars = round(point.x() - drag.start.x())
        price = point.y() - drag.start.y()
        if original.kind is DrawingKind.HORIZONTAL:
            return original.with_anchors(Anchor(original.a.time, original.a.price + price))
        if original.kind is DrawingKind.VERTICAL:
            return original.with_anchors(self._moved(original.a, bars, 0.0))
        if drag.end is not None:
            anchor = self.anchor_at(point) or original.anchors[drag.end]
            ends = list(original.anchors)
            ends[drag.end] = anchor
            return original.with_anchors(*ends)
        return original.with_anchors(*(self._moved(a, bars, price) for a in original.anchors))
