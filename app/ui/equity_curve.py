"""The equity curve of one account: equity and balance of its snapshots over time (pyqtgraph)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.models import AccountSnapshot

EQUITY_PEN = pg.mkPen("#4fc3f7", width=1)
BALANCE_PEN = pg.mkPen("#9fb0c3", width=1, style=pg.QtCore.Qt.PenStyle.DashLine)
MAX_POINTS = 20_000  # a curve keeps the newest this many snapshots


class EquityCurve(QWidget):
    """``set_history`` replaces the curve; ``append`` adds a newer snapshot; ``clear`` empties it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("EquityCurve")
        self.title = QLabel("Select an account to see its equity curve")
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot.setBackground("#11161d")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setClipToView(True)
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.addLegend(offset=(10, 5))
        self.equity = self.plot.plot([], [], pen=EQUITY_PEN, name="equity")
        self.balance = self.plot.plot([], [], pen=BALANCE_PEN, name="balance")
        self._times = np.empty(0)
        self._equity = np.empty(0)
        self._balance = np.empty(0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot, 1)

    def set_history(self, label: str, snapshots: Sequence[AccountSnapshot]) -> None:
        newest = list(snapshots)[-MAX_POINTS:]
        self._times = np.array([s.taken_at.timestamp() for s in newest], dtype=np.float64)
        self._equity = np.array([s.equity for s in newest], dtype=np.float64)
        self._balance = np.array([s.balance for s in newest], dtype=np.float64)
        currency = newest[-1].currency if newest else ""
        suffix = f" ({currency}, {len(newest)} snapshots)" if newest else ": no snapshots yet"
        self.title.setText(f"Equity of {label}{suffix}")
        self._redraw()

    def append(self, snapshot: AccountSnapshot) -> None:
        moment = snapshot.taken_at.timestamp()
        if len(self._times) and moment <= self._times[-1]:
            return
        self._times = np.append(self._times, moment)[-MAX_POINTS:]
        self._equity = np.append(self._equity, snapshot.equity)[-MAX_POINTS:]
        self._balance = np.append(self._balance, snapshot.balance)[-MAX_POINTS:]
        self._redraw()

    def clear(self, message: str = "Select an account to see its equity curve") -> None:
        self._times = self._equity = self._balance = np.empty(0)
        self.title.setText(message)
        self._redraw()

    def points(self) -> tuple[list[float], list[float], list[float]]:
        """The times (epoch seconds), equity and balance drawn now."""
        return self._times.tolist(), self._equity.tolist(), self._balance.tolist()

    def _redraw(self) -> None:
        self.equity.setData(self._times, self._equity, skipFiniteCheck=True)
        self.balance.setData(self._times, self._balance, skipFiniteCheck=True)
        view = self.plot.getPlotItem().getViewBox()
        if len(self._times) == 1:  # one snapshot: show the day around it, not a second's width
            moment = float(self._times[0])
            view.setXRange(moment - 12 * 3600, moment + 12 * 3600, padding=0)
        else:
            view.enableAutoRange(x=True)
