"""A symbol's specification (Market Watch › Specification, MT5's): what the terminal says about it —
contract size, digits, volumes, stops and freeze levels, swaps, currencies, trade mode, fillings.
Read-only, from the symbol's :class:`SymbolSpec` (asked of the terminal once, then cached)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from app.models import SymbolSpec
from app.ui import formatting


def specification_rows(spec: SymbolSpec) -> list[tuple[str, str]]:
    """(name, value) rows as MT5's Specification window lists them."""
    fillings = ", ".join(sorted(f.name for f in spec.filling_modes)) or "—"
    return [
        ("Symbol", spec.name),
        ("Description", spec.description or "—"),
        ("Digits", str(spec.digits)),
        ("Point", formatting.price(spec.point, spec.digits)),
        ("Contract size", f"{spec.contract_size:g}"),
        ("Spread", f"{spec.spread} points" + (" (floating)" if spec.spread_float else "")),
        ("Stops level", f"{spec.stops_level} points"),
        ("Freeze level", f"{spec.freeze_level} points"),
        ("Tick size", formatting.price(spec.tick_size, spec.digits)),
        ("Tick value", f"{spec.tick_value:g}"),
        ("Minimal volume", formatting.volume(spec.volume_min)),
        ("Maximal volume", formatting.volume(spec.volume_max)),
        ("Volume step", f"{spec.volume_step:g}"),
        ("Swap long", f"{spec.swap_long:g}"),
        ("Swap short", f"{spec.swap_short:g}"),
        ("Base currency", spec.currency_base or "—"),
        ("Profit currency", spec.currency_profit or "—"),
        ("Margin currency", spec.currency_margin or "—"),
        ("Trade", spec.trade_mode.value.replace("_", " ")),
        ("Filling", fillings),
    ]


class SpecificationDialog(QDialog):
    def __init__(self, spec: SymbolSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SpecificationDialog")
        self.setWindowTitle(f"{spec.name} — Specification")
        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        for name, value in specification_rows(spec):
            label = QLabel(value)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[name] = label
            form.addRow(name, label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
