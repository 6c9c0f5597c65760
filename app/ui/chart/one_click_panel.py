"""The one-click trading panel on a chart (MT5's): SELL at the bid | volume | BUY at the ask, with
the spread between. A click says what the trader wants (``trade``: side and volume); the chart's
:class:`~app.ui.chart.chart_trading.ChartTrading` sends it through the services.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QFrame, QGridLayout, QLabel, QPushButton, QWidget

from app.models import Side, SymbolSpec
from app.ui import formatting

DEFAULT_VOLUME = 0.10


class OneClickPanel(QFrame):
    trade = Signal(object, float)  # Side, volume

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("OneClickPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.sell_button = QPushButton("SELL")
        self.sell_button.setObjectName("OneClickSell")
        self.buy_button = QPushButton("BUY")
        self.buy_button.setObjectName("OneClickBuy")
        for button in (self.sell_button, self.buy_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the chart keeps its keys
            button.setMinimumWidth(78)
        self.volume = QDoubleSpinBox()
        self.volume.setObjectName("OneClickVolume")
        self.volume.setDecimals(2)
        self.volume.setRange(0.01, 100.0)
        self.volume.setSingleStep(0.01)
        self.volume.setValue(DEFAULT_VOLUME)
        self.volume.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # wide enough for "100.00" whole (the theme's frame and spin-button space included)
        self.volume.setFixedWidth(self.volume.fontMetrics().horizontalAdvance("100.00") + 44)
        self.volume.setToolTip("Volume in lots of each one-click order")
        self.spread = QLabel("")
        self.spread.setObjectName("OneClickSpread")
        self.spread.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QGridLayout(self)
        layout.setContentsMargins(3, 3, 3, 3)
        layout.setHorizontalSpacing(3)
        layout.setVerticalSpacing(1)
        layout.addWidget(self.sell_button, 0, 0, 2, 1)
        layout.addWidget(self.volume, 0, 1)
        layout.addWidget(self.spread, 1, 1)
        layout.addWidget(self.buy_button, 0, 2, 2, 1)
        self.sell_button.clicked.connect(lambda: self.trade.emit(Side.SELL, self.volume.value()))
        self.buy_button.clicked.connect(lambda: self.trade.emit(Side.BUY, self.volume.value()))
        self._quote: tuple[float, float, int] = (0.0, 0.0, 0)

    def set_spec(self, spec: SymbolSpec) -> None:
        """Volumes on the symbol's step, within its limits."""
        step = spec.volume_step
        decimals = max(2, len(f"{step:.8f}".rstrip("0").split(".")[1]) if step < 1 else 0)
        self.volume.setDecimals(decimals)
        self.volume.setRange(spec.volume_min, spec.volume_max)
        self.volume.setSingleStep(step)
        self.volume.setValue(
            min(spec.volume_max, max(spec.volume_min, spec.floor_volume(self.volume.value())))
        )

    def show_quote(self, bid: float, ask: float, digits: int) -> None:
        if (bid, ask, digits) == self._quote or not bid:
            return
        self._quote = (bid, ask, digits)
        self.sell_button.setText(f"SELL\n{formatting.price(bid, digits)}")
        self.buy_button.setText(f"BUY\n{formatting.price(ask, digits)}")
        self.spread.setText(f"{round((ask - bid) * 10**digits)}")
        self.spread.setToolTip("Spread in points")
