"""The chart's title line (symbol, timeframe, the OHLC readout, indicators, status) that wraps.

pyqtgraph's LabelItem asks for the width of its whole text as its minimum: in a narrow tile the
layout then grows wider than the chart, and the price axis on the right is pushed out of sight. This
label asks for no width at all and wraps its text onto a second line instead.
"""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsSceneResizeEvent


class ChartTitle(pg.LabelItem):
    def __init__(self, color: str, size: str, on_height: Callable[[], None] | None = None) -> None:
        """``on_height`` is called when the wrapped text needs another height (the rows below
        are then given theirs again)."""
        super().__init__(justify="left", size=size, color=color)
        self.on_height = on_height

    def setText(self, text: str, **args: object) -> None:  # noqa: N802 - pyqtgraph override
        if text == getattr(self, "text", None) and not args:
            return
        super().setText(text, **args)

    @property
    def plain_text(self) -> str:
        """What the title says, without its markup (what a trader reads)."""
        return self.item.toPlainText()

    def resizeEvent(self, ev: QGraphicsSceneResizeEvent | None) -> None:  # noqa: N802 - Qt override
        width = self.size().width()
        if width > 0 and width != getattr(self, "_wrap_width", -1.0):
            self._wrap_width = width
            self.item.setTextWidth(width)
        super().resizeEvent(ev)

    def updateMin(self) -> None:  # noqa: N802 - pyqtgraph override
        height = self.itemRect().height()
        changed = height != self.minimumHeight()
        self.setMinimumWidth(0)
        self.setMinimumHeight(height)
        self._sizeHint = {
            Qt.SizeHint.MinimumSize: (0, height),
            Qt.SizeHint.PreferredSize: (0, height),
            Qt.SizeHint.MaximumSize: (-1, -1),
            Qt.SizeHint.MinimumDescent: (0, 0),
        }
        self.updateGeometry()
        callback = getattr(self, "on_height", None)
        if changed and callback is not None:
            callback()
