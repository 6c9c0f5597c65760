"""Dark theme and app icon, applied once to the QApplication."""

from __future__ import annotations

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app.resources import resource_path, resources_dir

UP_COLOUR = "#26a69a"
DOWN_COLOUR = "#ef5350"
ACCENT_COLOUR = "#4fc3f7"


def app_icon() -> QIcon:
    return QIcon(str(resource_path("icon.svg")))


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    # url() in a style sheet is relative to the working directory: name the resources folder
    sheet = resource_path("dark.qss").read_text(encoding="utf-8")
    app.setStyleSheet(sheet.replace("{resources}", resources_dir().as_posix()))
    app.setWindowIcon(app_icon())
