"""A symbol's specification (Market Watch › Specification, MT5's): what the terminal says about it —
contract size, digits, volumes, stops and freeze levels, swaps, margins, currencies, trade mode,
fillings and trading sessions. Read-only, from the symbol's :class:`SymbolDetails` (asked of the
terminal when the window opens: the margin one lot needs follows the price)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from app.core.sessions import session_lines
from app.models import SymbolDetails
from app.ui import formatting

NOT_GIVEN = "not given by the terminal"


def _margin_of_a_lot(margin: float | None, currency: str) -> str:
    return NOT_GIVEN if margin is None else f"{formatting.money(margin)} {currency}".rstrip()


def specification_rows(details: SymbolDetails) -> list[tuple[str, str]]:
    """(name, value) rows as MT5's Specification window lists them."""
    spec = details.spec
    sessions = "\n".join(session_lines(details.sessions)) if details.sessions is not None else NOT_GIVEN
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
        (
            "Initial margin",
            f"{spec.margin_initial:g}" + (" (from the contract size)" if not spec.margin_initial else ""),
        ),
        (
            "Maintenance margin",
            f"{spec.margin_maintenance:g}"
            + (" (the initial margin applies)" if not spec.margin_maintenance else ""),
        ),
        ("Hedged margin", f"{spec.margin_hedged:g}"),
        ("Margin of 1 lot, buy", _margin_of_a_lot(details.margin_buy, details.currency)),
        ("Margin of 1 lot, sell", _margin_of_a_lot(details.margin_sell, details.currency)),
        ("Base currency", spec.currency_base or "—"),
        ("Profit currency", spec.currency_profit or "—"),
        ("Margin currency", spec.currency_margin or "—"),
        ("Trade", spec.trade_mode.value.replace("_", " ")),
        ("Filling", fillings),
        ("Sessions (server time)", sessions),
    ]


class SpecificationDialog(QDialog):
    def __init__(self, details: SymbolDetails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SpecificationDialog")
        self.setWindowTitle(f"{details.spec.name} — Specification")
        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        for name, value in specification_rows(details):
            label = QLabel(value)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[name] = label
            form.addRow(name, label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
