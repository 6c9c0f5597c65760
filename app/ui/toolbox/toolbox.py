"""The toolbox: a tab widget others plug their tabs into with :meth:`Toolbox.add_tab`.

A tab asked for before it exists (the layout names the Audit tab, which comes once the database is
open) is shown as soon as it is added, unless the trader picked another tab meanwhile.
"""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QWidget


class Toolbox(QTabWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Toolbox")
        self.setDocumentMode(True)
        self.setTabPosition(QTabWidget.TabPosition.South)
        self._wanted: str | None = None  # a tab asked for that is not there yet
        self.tabBar().tabBarClicked.connect(self._picked)

    def _picked(self, _index: int) -> None:
        self._wanted = None  # the trader chose: a tab added later does not take over

    def add_tab(self, name: str, widget: QWidget) -> int:
        """Add (or replace) the tab called ``name``; returns its index. The seam for the Accounts,
        Exposure and Audit tabs built elsewhere."""
        widget.setObjectName(widget.objectName() or f"{name}Tab")
        existing = self.tab_index(name)
        if existing is not None:
            current = self.currentIndex() == existing
            self.removeTab(existing)
            index = self.insertTab(existing, widget, name)
            if current:
                self.setCurrentIndex(index)
        else:
            index = self.addTab(widget, name)
        if name == self._wanted:
            self._wanted = None
            self.setCurrentIndex(index)
        return index

    def tab_index(self, name: str) -> int | None:
        for index in range(self.count()):
            if self.tabText(index) == name:
                return index
        return None

    def show_tab(self, name: str) -> None:
        """Show the tab called ``name`` — now, or when it is added."""
        index = self.tab_index(name)
        if index is not None:
            self._wanted = None
            self.setCurrentIndex(index)
        else:
            self._wanted = name

    def current_name(self) -> str:
        """The tab shown, or the one asked for that is still to come (what a layout should keep)."""
        return self._wanted or self.tabText(self.currentIndex())
