"""The Journal tab: the app's log records (newest last), filtered by level; bounded in memory.

Each record is worded for a trader (:mod:`app.ui.toolbox.journal_text`): what part of the app it
comes from in the Source column, the message without a module's name.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.logs import LogEntry
from app.ui.table_model import HeaderedTableModel
from app.ui.table_view import data_table, fit_column
from app.ui.toolbox.journal_text import journal_line

Index = QModelIndex | QPersistentModelIndex
HEADERS = ("Time", "Level", "Source", "Message")
LEVELS = {
    "All": logging.NOTSET,
    "Info and above": logging.INFO,
    "Warnings and errors": logging.WARNING,
    "Errors": logging.ERROR,
}
LEVEL_COLOURS = {"WARNING": "#f0a04b", "ERROR": "#ef5350", "CRITICAL": "#ef5350", "DEBUG": "#6e7f93"}
LEVEL_ROLE = Qt.ItemDataRole.UserRole + 1


class JournalModel(HeaderedTableModel):
    HEADERS = HEADERS

    def __init__(self, capacity: int = 5_000) -> None:
        super().__init__()
        self.entries: deque[LogEntry] = deque(maxlen=capacity)

    def append(self, entries: Iterable[LogEntry]) -> None:
        new = list(entries)
        if not new:
            return
        capacity = self.entries.maxlen or len(new)
        new = new[-capacity:]
        overflow = len(self.entries) + len(new) - capacity
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            for _ in range(overflow):
                self.entries.popleft()
            self.endRemoveRows()
        first = len(self.entries)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        self.entries.extend(new)
        self.endInsertRows()

    def row_total(self) -> int:
        return len(self.entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == 0:
                return entry.time.strftime("%Y.%m.%d %H:%M:%S.%f")[:-3]
            if index.column() == 1:
                return entry.level
            return journal_line(entry)[index.column() - 2]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 3:
            return f"{entry.module}: {entry.message}"  # as the log file has it
        if role == Qt.ItemDataRole.ForegroundRole and entry.level in LEVEL_COLOURS:
            return QBrush(QColor(LEVEL_COLOURS[entry.level]))
        if role == LEVEL_ROLE:
            return logging.getLevelNamesMapping().get(entry.level, 0)
        return None


class LevelFilter(QSortFilterProxyModel):
    def __init__(self) -> None:
        super().__init__()
        self.min_level = logging.NOTSET

    def set_min_level(self, level: int) -> None:
        self.beginFilterChange()
        self.min_level = level
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:  # noqa: N802
        index = self.sourceModel().index(source_row, 0, source_parent)
        return int(self.sourceModel().data(index, LEVEL_ROLE) or 0) >= self.min_level


class JournalTab(QWidget):
    def __init__(self, model: JournalModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("JournalTab")
        self.model = model
        self.proxy = LevelFilter()
        self.proxy.setSourceModel(model)
        self.level = QComboBox()
        self.level.addItems(list(LEVELS))
        self.level.setCurrentIndex(1)
        self.level.currentTextChanged.connect(lambda text: self.proxy.set_min_level(LEVELS[text]))
        self.proxy.set_min_level(LEVELS[self.level.currentText()])
        self.table = data_table(self.proxy)
        fit_column(self.table, 0, "2026.12.28 23:58:58.888")
        fit_column(self.table, 1, "CRITICAL")
        fit_column(self.table, 2, "Terminal sim-10")
        controls = QHBoxLayout()
        controls.setContentsMargins(4, 2, 4, 2)
        controls.addWidget(QLabel("Show"))
        controls.addWidget(self.level)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(controls)
        layout.addWidget(self.table)
        model.rowsInserted.connect(self._follow)

    def _follow(self) -> None:
        bar = self.table.verticalScrollBar()
        if bar.value() >= bar.maximum() - 3:
            self.table.scrollToBottom()
