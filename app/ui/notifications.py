"""Non-modal notifications: a small stack of toasts in the window's corner, mirrored to the log.

Errors from the terminal or a service must be seen without stopping the trader: no modal dialog, no
traceback. A toast fades out by itself (errors stay longer), repeats of the same message are counted
instead of stacked, and at most a few are shown. Each notification is also logged, so the Journal
keeps it after the toast is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from app.logs import LogEntry
from app.models import TerminalError

log = logging.getLogger("app.ui.notifications")

MAX_TOASTS = 4
NOTIFIED = "notified"  # extra flag on log records that already made a toast


def describe_error(error: BaseException) -> str:
    """A line a trader can read: the terminal's own message, never a traceback."""
    if isinstance(error, TerminalError):
        return error.message
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class Toast(QFrame):
    clicked = Signal()

    def __init__(self, level: int, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Toast")
        self.setProperty("level", logging.getLevelName(level).lower())
        self.text = text
        self.count = 1
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setMaximumWidth(380)
        layout.addWidget(self.label)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(12_000 if level >= logging.ERROR else 6_000)
        self.timer.start()

    def repeat(self) -> None:
        self.count += 1
        self.label.setText(f"{self.text} (×{self.count})")
        self.timer.start()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self.clicked.emit()
        event.accept()


class NotificationArea(QWidget):
    """Toasts stacked in the bottom-right corner of ``host`` (it follows the host's size)."""

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self.setObjectName("NotificationArea")
        self._host = host
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._toasts: list[Toast] = []
        host.installEventFilter(self)
        self.hide()

    @property
    def messages(self) -> list[str]:
        return [t.label.text() for t in self._toasts]

    def notify(self, level: int, text: str) -> None:
        """Show ``text`` (and log it once, flagged so the log does not echo it back as a toast)."""
        log.log(level, "%s", text, extra={NOTIFIED: True})
        self.show_toast(level, text)

    def show_toast(self, level: int, text: str) -> None:
        for toast in self._toasts:
            if toast.text == text:
                toast.repeat()
                return
        toast = Toast(level, text, self)
        toast.timer.timeout.connect(lambda: self._dismiss(toast))
        toast.clicked.connect(lambda: self._dismiss(toast))
        self._toasts.append(toast)
        self._layout.addWidget(toast)
        while len(self._toasts) > MAX_TOASTS:
            self._dismiss(self._toasts[0])
        self._place()
        self.show()
        self.raise_()

    def notify_error(self, what: str, error: BaseException) -> None:
        self.notify(logging.ERROR, f"{what}: {describe_error(error)}")

    def on_log_entries(self, entries: Iterable[LogEntry]) -> None:
        """Errors logged anywhere in the app (terminal, services) become toasts too."""
        for entry in entries:
            if entry.level in ("ERROR", "CRITICAL") and not entry.extra.get(NOTIFIED):
                self.show_toast(logging.ERROR, entry.message)

    def _dismiss(self, toast: Toast) -> None:
        if toast not in self._toasts:
            return
        self._toasts.remove(toast)
        self._layout.removeWidget(toast)
        toast.deleteLater()
        if not self._toasts:
            self.hide()
        else:
            self._place()

    def _place(self) -> None:
        self.adjustSize()
        margin = 12
        bottom_reserved = 36  # keep clear of the status bar
        x = self._host.width() - self.width() - margin
        y = self._host.height() - self.height() - bottom_reserved
        self.move(max(0, x), max(0, y))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self._host and event.type() == QEvent.Type.Resize and self._toasts:
            self._place()
        return False
