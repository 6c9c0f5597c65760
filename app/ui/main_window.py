"""The main window: menus, dock area and status bar that the views plug into."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QWidget

from app import __version__
from app.config import APP_NAME
from app.mt5.backend import TerminalPlan


class MainWindow(QMainWindow):
    """Top-level window. Emits ``closed`` once when the user closes it (the app then shuts down)."""

    closed = Signal()

    def __init__(self, plan: TerminalPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowTitle(f"MT5 Trading Console {__version__}")
        self.resize(1400, 900)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowNestedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
        )
        placeholder = QLabel("No chart open")
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(placeholder)
        self._build_menus()
        self.terminal_label = QLabel(f"Terminal: {plan.kind}")
        self.terminal_label.setToolTip(plan.reason)
        self.statusBar().addWidget(self.terminal_label)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.view_menu = self.menuBar().addMenu("&View")
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _about(self) -> None:
        QMessageBox.about(self, APP_NAME, f"MT5 Trading Console {__version__}")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        super().closeEvent(event)
        if event.isAccepted():
            self.closed.emit()
