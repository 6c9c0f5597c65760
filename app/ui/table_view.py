"""How every table of the window looks and behaves, set in one place: whole rows selected one at a
time, read-only cells, no grid and no row numbers, compact rows, the last column taking what is left."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

ROW_HEIGHT = 21


def data_table(
    model: QAbstractItemModel, *, fit_contents: bool = False, parent: QWidget | None = None
) -> QTableView:
    """A table view on ``model``. Columns keep the widths they are given (the user may drag them), or
    with ``fit_contents`` follow their contents."""
    table = QTableView(parent)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)  # a long text is elided; its tooltip, where it has one, holds it whole
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    header = table.horizontalHeader()
    fit = QHeaderView.ResizeMode.ResizeToContents
    header.setSectionResizeMode(fit if fit_contents else QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    return table


CELL_PADDING = 18  # a cell's margins
HEADER_PADDING = 26  # a header section's padding (the theme's 6 px a side) and the sort arrow's room


def fit_column(table: QTableView, column: int, widest: str) -> None:
    """Make ``column`` as wide as its widest text (a sample, e.g. a time) and its header (with the
    sort arrow, if the table sorts) need, so neither is cut."""
    width = table.fontMetrics().horizontalAdvance(widest) + CELL_PADDING
    header = table.horizontalHeader()
    title = str(table.model().headerData(column, Qt.Orientation.Horizontal) or "")
    titled = header.fontMetrics().horizontalAdvance(title) + HEADER_PADDING if title else 0
    table.setColumnWidth(column, max(width, titled))
