"""Small non-modal dialogs of the Trade tab: modify SL/TP (and price), partial-close volume."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QWidget

from app.models import Order, Position
from app.ui import formatting


def _price_box(value: float, digits: int) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, 100_000_000.0)
    box.setDecimals(digits)
    box.setSingleStep(10**-digits * 10)
    box.setSpecialValueText("—")
    box.setValue(value)
    return box


class ModifyDialog(QDialog):
    """New SL/TP for a position, or new price/SL/TP for a pending order (0 = none)."""

    def __init__(self, item: Position | Order, digits: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = item
        self.setWindowTitle(f"Modify #{item.ticket} {item.symbol}")
        form = QFormLayout(self)
        self.price: QDoubleSpinBox | None = None
        if isinstance(item, Order):
            self.price = _price_box(item.price_open, digits)
            form.addRow("Price", self.price)
        else:
            form.addRow("Open price", QLabel(formatting.price(item.price_open, digits)))
        self.sl = _price_box(item.sl, digits)
        self.tp = _price_box(item.tp, digits)
        form.addRow("Stop Loss", self.sl)
        form.addRow("Take Profit", self.tp)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class VolumeDialog(QDialog):
    """How much of a position to close."""

    def __init__(self, position: Position, step: float = 0.01, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Partial close #{position.ticket} {position.symbol}")
        form = QFormLayout(self)
        self.volume = QDoubleSpinBox()
        self.volume.setRange(0.0, position.volume)
        self.volume.setDecimals(2)
        self.volume.setSingleStep(step)
        self.volume.setValue(round(position.volume / 2, 2))
        form.addRow(f"Volume (of {formatting.volume(position.volume)})", self.volume)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
