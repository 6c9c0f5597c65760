"""The Strategies tab: the strategies on the live bars, enabled or not, with a form to add one or change
the selected one's settings. Every change goes through the strategy book (checked, audited as
``gui``) and the running strategies follow it at once."""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.models import Timeframe
from app.models.signals import SignalMode, StrategyConfig
from app.ui.service_calls import ServiceCalls
from app.ui.table_model import HeaderedTableModel
from app.ui.table_view import data_table

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Id", "Kind", "Symbol", "Timeframe", "Parameters", "Mode", "Volume", "State")
TIMEFRAMES = ("M1", "M5", "M15", "M30", "H1", "H4", "D1")


class Book(Protocol):
    """What the tab asks of :class:`app.core.signals.strategy_runner.StrategyBook`."""

    @property
    def kinds(self) -> dict[str, type[Any]]: ...

    async def all(self) -> list[StrategyConfig]: ...

    async def put(self, config: StrategyConfig, *, actor: str) -> StrategyConfig: ...

    async def enable(self, sid: str, *, actor: str) -> StrategyConfig: ...

    async def disable(self, sid: str, *, actor: str) -> StrategyConfig: ...


def params_text(params: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in sorted(params.items()))


def parse_params(text: str) -> dict[str, float]:
    """``fast=10, slow=30`` -> {"fast": 10.0, "slow": 30.0}; a bad pair raises ValueError naming it."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        key, sep, value = part.partition("=")
        try:
            if not sep or not key.strip():
                raise ValueError
            out[key.strip()] = float(value)
        except ValueError:
            raise ValueError(f"parameter {part!r}: write it as name=number") from None
    return out


class StrategiesModel(HeaderedTableModel):
    HEADERS = COLUMNS

    def __init__(self) -> None:
        super().__init__()
        self.configs: list[StrategyConfig] = []

    def row_total(self) -> int:
        return len(self.configs)

    def set_configs(self, configs: list[StrategyConfig]) -> None:
        self.beginResetModel()
        self.configs = list(configs)
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        c = self.configs[index.row()]
        return (c.id, c.kind, c.symbol, c.timeframe, params_text(c.params), c.mode.value, f"{c.volume:g}",
                "enabled" if c.enabled else "disabled")[index.column()]  # fmt: skip


class StrategiesTab(QWidget):
    def __init__(self, book: Book, *, actor: str = "gui", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StrategiesTab")
        self._book = book
        self._actor = actor
        self.calls = ServiceCalls(self)
        self.model = StrategiesModel()
        self.table = data_table(self.model)
        self.sid = QLineEdit()
        self.sid.setPlaceholderText("id")
        self.kind = QComboBox()
        self.kind.addItems(sorted(book.kinds))
        self.symbol = QLineEdit("EURUSD")
        self.timeframe = QComboBox()
        self.timeframe.addItems([t for t in TIMEFRAMES if t in Timeframe.__members__])
        self.params = QLineEdit()
        self.params.setPlaceholderText("fast=10, slow=30")
        self.mode = QComboBox()
        self.mode.addItems([m.value for m in SignalMode])
        self.mode.setCurrentText(SignalMode.CONFIRM.value)
        self.volume = QDoubleSpinBox()
        self.volume.setDecimals(2)
        self.volume.setRange(0.01, 1000)
        self.volume.setValue(0.01)
        self.save = QPushButton("Save")
        self.toggle = QPushButton("Enable")
        self.note = QLabel("")
        self.note.setObjectName("StrategiesNote")
        self.save.clicked.connect(self._save)
        self.toggle.clicked.connect(self._toggle)
        form = QHBoxLayout()
        form.setContentsMargins(4, 2, 4, 2)
        for widget in (self.sid, self.kind, self.symbol, self.timeframe, self.params, self.mode, self.volume,
                       self.save, self.toggle):  # fmt: skip
            form.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.table)
        self.table.selectionModel().selectionChanged.connect(self._selected_changed)
        self.calls.failed.connect(lambda what, text: self.note.setText(f"{what}: {text}"))
        self._selected_changed()

    def start(self) -> None:
        self.refresh()

    def shutdown(self) -> None:
        self.calls.cancel_all()

    def refresh(self) -> None:
        self.calls.run(self._book.all(), what="load strategies", on_result=self._loaded)

    def _loaded(self, configs: list[StrategyConfig]) -> None:
        chosen = self.selected()
        self.model.set_configs(configs)
        if chosen is not None:
            for row, c in enumerate(configs):
                if c.id == chosen.id:
                    self.table.selectRow(row)
        self._selected_changed()

    def selected(self) -> StrategyConfig | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.model.configs):
            return None
        return self.model.configs[rows[0].row()]

    def _selected_changed(self, *_: Any) -> None:
        c = self.selected()
        self.toggle.setEnabled(c is not None)
        self.toggle.setText("Disable" if c is not None and c.enabled else "Enable")
        if c is None:
            return
        self.sid.setText(c.id)
        self.kind.setCurrentText(c.kind)
        self.symbol.setText(c.symbol)
        self.timeframe.setCurrentText(c.timeframe)
        self.params.setText(params_text(c.params))
        self.mode.setCurrentText(c.mode.value)
        self.volume.setValue(c.volume)

    def _save(self) -> None:
        sid = self.sid.text().strip()
        if not sid:
            self.note.setText("give the strategy an id")
            return
        try:
            params = parse_params(self.params.text())
        except ValueError as exc:
            self.note.setText(str(exc))
            return
        current = next((c for c in self.model.configs if c.id.casefold() == sid.casefold()), None)
        config = StrategyConfig(
            current.id if current else sid,
            self.kind.currentText(),
            self.symbol.text().strip(),
            self.timeframe.currentText(),
            params,
            current.enabled if current else False,
            SignalMode(self.mode.currentText()),
            self.volume.value(),
        )
        self.calls.run(
            self._book.put(config, actor=self._actor), what=f"save strategy {sid}", on_result=self._done
        )

    def _toggle(self) -> None:
        c = self.selected()
        if c is None:
            return
        call = (
            self._book.disable(c.id, actor=self._actor)
            if c.enabled
            else self._book.enable(c.id, actor=self._actor)
        )
        self.calls.run(
            call, what=f"{'disable' if c.enabled else 'enable'} strategy {c.id}", on_result=self._done
        )

    def _done(self, config: StrategyConfig) -> None:
        state = "enabled" if config.enabled else "disabled"
        self.note.setText(
            f"strategy {config.id}: {config.kind} on {config.symbol} {config.timeframe}, {state}"
        )
        self.refresh()
