"""Add an indicator: pick the kind, set its parameters (the form is built from the kind's info)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from app.core.indicators import KINDS, IndicatorKind, IndicatorSpec


class IndicatorDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, kind: IndicatorKind = IndicatorKind.SMA) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add indicator")
        self.kind_box = QComboBox()
        for each, info in KINDS.items():
            self.kind_box.addItem(info.title, each)
        self.form = QFormLayout(self)
        self.form.addRow("Indicator", self.kind_box)
        self.inputs: dict[str, QSpinBox | QDoubleSpinBox] = {}
        self.kind_box.setCurrentIndex(list(KINDS).index(kind))
        self._rebuild()
        self.kind_box.currentIndexChanged.connect(self._rebuild)

    def _rebuild(self) -> None:
        while self.form.rowCount() > 1:
            self.form.removeRow(1)
        self.inputs = {}
        kind = IndicatorKind(self.kind_box.currentData())  # Qt hands a StrEnum back as a plain str
        for param in KINDS[kind].params:
            box: QSpinBox | QDoubleSpinBox
            if param.integer:
                box = QSpinBox()
                box.setRange(int(param.minimum), int(param.maximum))
                box.setValue(int(param.default))
            else:
                box = QDoubleSpinBox()
                box.setRange(param.minimum, param.maximum)
                box.setSingleStep(0.1)
                box.setValue(param.default)
            self.inputs[param.name] = box
            self.form.addRow(param.name.capitalize(), box)
        self.error = QLabel()
        self.error.setProperty("role", "error")
        self.form.addRow(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.form.addRow(self.buttons)

    def spec(self) -> IndicatorSpec:
        kind = IndicatorKind(self.kind_box.currentData())  # Qt hands a StrEnum back as a plain str
        return IndicatorSpec(kind, {name: float(box.value()) for name, box in self.inputs.items()})

    def _accept(self) -> None:
        try:
            self.spec()
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.accept()
