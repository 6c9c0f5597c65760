"""The settings dialog: edits the TOML settings file; every change applies at the next start.

The file is read and written off the GUI thread (through the task runner). The dialog checks the
values with the app's settings model before saving and names the first bad one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.audit import Action, Actor, AuditTrail, setting_change
from app.config import Settings
from app.core.users import UserDirectory
from app.ui import settings_file
from app.ui.tasks import TaskRunner

RESTART_NOTE = "Saved to {path}. Restart the app for the changes to take effect."


class SettingsDialog(QDialog):
    """Edits the TOML settings file; every changed setting is recorded in the audit trail (if given)."""

    def __init__(
        self,
        path: Path,
        current: Settings,
        tasks: TaskRunner,
        parent: QWidget | None = None,
        *,
        audit: AuditTrail | None = None,
        users: UserDirectory | None = None,
    ) -> None:
        super().__init__(parent)
        self._audit = audit
        self._users = users
        self.setObjectName("SettingsDialog")
        self.setWindowTitle("Settings")
        self.path = path
        self._tasks = tasks
        self._file: dict[str, Any] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"File: {path}\nAll settings are read at start: changes need a restart."))

        self.symbols = QLineEdit(", ".join(current.market.symbols))
        self.poll_ms = QSpinBox()
        self.poll_ms.setRange(1, 5000)
        self.poll_ms.setValue(current.market.tick_poll_interval_ms)
        self.refresh_s = QDoubleSpinBox()
        self.refresh_s.setRange(0.05, 60)
        self.refresh_s.setValue(current.market.account_refresh_s)
        self.sim = QCheckBox("always use the simulator")
        self.sim.setChecked(current.terminals.sim)
        self.paths = QLineEdit("; ".join(current.terminals.paths))
        self.call_timeout = QDoubleSpinBox()
        self.call_timeout.setRange(0.5, 600)
        self.call_timeout.setValue(current.terminals.call_timeout_s)
        self.server_enabled = QCheckBox("run the REST + Socket.IO server in the window too")
        self.server_enabled.setChecked(current.server.enabled)
        self.host = QLineEdit(current.server.host)
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        self.port.setValue(current.server.port)
        self.log_level = QComboBox()
        self.log_level.addItems(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
        self.log_level.setCurrentText(current.logging.level)

        for title, rows in (
            (
                "Market",
                (
                    ("Symbols", self.symbols),
                    ("Tick poll (ms)", self.poll_ms),
                    ("Account refresh (s)", self.refresh_s),
                ),
            ),
            (
                "Terminals",
                (("", self.sim), ("Terminal paths", self.paths), ("Call timeout (s)", self.call_timeout)),
            ),
            ("Server", (("", self.server_enabled), ("Host", self.host), ("Port", self.port))),
            ("Logging", (("Level", self.log_level),)),
        ):
            group = QGroupBox(title)
            form = QFormLayout(group)
            for label, widget in rows:
                form.addRow(label, widget)
            layout.addWidget(group)
        if users is not None:
            self.users_button = QPushButton("Users and API keys…")
            self.users_button.clicked.connect(self.open_users)
            layout.addWidget(self.users_button)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        tasks.run(
            asyncio.to_thread(settings_file.read, path),
            what="read settings",
            owner=self,
            on_result=self._loaded,
        )

    def open_users(self) -> None:
        """The server's users and keys (they apply at once: no restart)."""
        from PySide6.QtCore import Qt

        from app.ui.users_dialog import UsersDialog

        if self._users is None:
            return
        dialog = UsersDialog(self._users, self._tasks, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.users_dialog = dialog

    def _loaded(self, data: dict[str, Any]) -> None:
        self._file = data

    def changes(self) -> dict[str, Any]:
        return {
            "market": {
                "symbols": [s.strip().upper() for s in self.symbols.text().split(",") if s.strip()],
                "tick_poll_interval_ms": self.poll_ms.value(),
                "account_refresh_s": round(self.refresh_s.value(), 3),
            },
            "terminals": {
                "sim": self.sim.isChecked(),
                "paths": [p.strip() for p in self.paths.text().split(";") if p.strip()],
                "call_timeout_s": round(self.call_timeout.value(), 3),
            },
            "server": {
                "enabled": self.server_enabled.isChecked(),
                "host": self.host.text().strip(),
                "port": self.port.value(),
            },
            "logging": {"level": self.log_level.currentText()},
        }

    def save(self) -> None:
        data = settings_file.merge(self._file, self.changes())
        try:
            settings_file.validate(data)
        except ValueError as exc:
            self._say(f"Not saved: {exc}", ok=False)
            return
        self.buttons.setEnabled(False)

        def saved(_: None) -> None:
            self.buttons.setEnabled(True)
            self._file = data
            self._say(RESTART_NOTE.format(path=self.path), ok=True)

        def failed(error: BaseException) -> bool:
            self.buttons.setEnabled(True)
            self._say(f"Not saved: {error}", ok=False)
            return True

        before = self._file

        async def persist() -> None:
            await asyncio.to_thread(settings_file.write, self.path, data)
            if self._audit is not None:
                for key, old, new in settings_file.changed_keys(before, data):
                    await self._audit.append(
                        Actor.GUI, Action.SETTING_CHANGE, payload=setting_change(key, old, new)
                    )

        self._tasks.run(
            persist(),
            what="save settings",
            owner=self,
            on_result=saved,
            on_error=failed,
        )

    def _say(self, text: str, ok: bool) -> None:
        self.message.setText(text)
        self.message.setProperty("role", "ok" if ok else "error")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
