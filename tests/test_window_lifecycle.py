"""Closing the main window ends the run: services stop and ``run_window`` returns 0."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.config import load_settings
from app.logs import LogBus
from app.ui.launch import run_window
from app.ui.main_window import MainWindow

pytestmark = pytest.mark.gui


def test_closing_the_window_stops_and_returns_0(qapp: QApplication, data_dir: Path) -> None:
    settings = load_settings({"data_dir": data_dir, "terminals": {"sim": True}}, env_file=None)
    bus = LogBus()
    seen: list[str] = []

    def close_main_window() -> None:
        windows = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen.extend(w.windowTitle() for w in windows)
        for window in windows:
            window.close()

    QTimer.singleShot(500, close_main_window)
    root = logging.getLogger()
    level = root.level
    root.addHandler(bus)
    root.setLevel(logging.INFO)
    try:
        assert run_window(settings, bus) == 0
    finally:
        root.removeHandler(bus)
        root.setLevel(level)
    assert seen and seen[0].startswith("MT5 Trading Console")
    assert any("window mode running" in e.message for e in bus.recent())
