"""The toolbox: a tab widget others plug their tabs into with :meth:`Toolbox.add_tab`."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QWidget


class Toolbox(QTabWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Toolbox")
        self.setDocumentMode(True)
        self.setTabPosition(QTabWidget.TabPosition.South)

    def add_tab(self, name: str, widget: QWidget) -> int:
        """Add (or replace) the tab called ``name``; returns its index. The seam for the Accounts,
        Exposure and Audit tabs built elsewhere."""
        widget.setObjectName(widget.objectName() or f"{name}Tab")
        existing = self.tab_index(name)
        if existing is not None:
            self.removeTab(existing)
            return self.insertTab(existing, widget, name)
        return self.addTab(widget, name)

    def tab_index(self, name: str) -> int | None:
        for index in range(self.count()):
            if self.tabText(index) == name:
                return index
        return None

    def show_tab(self, name: str) -> None:
        index = self.tab_index(name)
        if index is not None:
            self.setCurrentIndex(index)
