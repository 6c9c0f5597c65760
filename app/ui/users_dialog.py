"""The server's users and API keys, in the window (opened from the settings; the window's operator is
the local administrator). The same operations as ``mt5-console server users|keys``: every call goes
through the directory off the GUI thread, is audited as ``gui``, and a change closes the sockets of
the user or key it concerns at once. A bad input is said under the form and changes nothing; a new
key is shown once, selectable, and never again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.audit import Actor
from app.core.users import UserDirectory
from app.models.users import AccessError, Role, Scope
from app.ui.tasks import TaskRunner

ROLES = [r.value for r in Role]


class UsersDialog(QDialog):
    def __init__(self, directory: UserDirectory, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("UsersDialog")
        self.setWindowTitle("Users and API keys")
        self.resize(760, 620)
        self._directory = directory
        self._tasks = tasks
        layout = QVBoxLayout(self)

        users = QGroupBox("Users")
        users_layout = QVBoxLayout(users)
        self.users_table = self._table(["User", "Role", "Accounts"])
        users_layout.addWidget(self.users_table)
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setPlaceholderText("user name")
        self.role = QComboBox()
        self.role.addItems(ROLES)
        self.role.setCurrentText(Role.VIEWER.value)
        self.accounts = QLineEdit("all")
        self.accounts.setToolTip("all, or managed account ids like 3,7")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        for label, widget in (
            ("Name", self.name),
            ("Role", self.role),
            ("Accounts", self.accounts),
            ("Password", self.password),
            ("Repeat", self.repeat),
        ):
            form.addRow(label, widget)
        users_layout.addLayout(form)
        row = QHBoxLayout()
        self.add_button = self._button(row, "Add", self.add_user)
        self.role_button = self._button(row, "Set role", self.set_role)
        self.accounts_button = self._button(row, "Set accounts", self.set_accounts)
        self.password_button = self._button(row, "Set password", self.set_password)
        self.remove_button = self._button(row, "Remove", self.remove_user)
        users_layout.addLayout(row)
        layout.addWidget(users)

        keys = QGroupBox("API keys")
        keys_layout = QVBoxLayout(keys)
        self.keys_table = self._table(
            ["Id", "Prefix", "Name", "Role", "Accounts", "Status", "Expires", "Last use"]
        )
        keys_layout.addWidget(self.keys_table)
        key_form = QFormLayout()
        self.key_name = QLineEdit()
        self.key_name.setPlaceholderText("what the key is for")
        self.key_role = QComboBox()
        self.key_role.addItems(ROLES)
        self.key_role.setCurrentText(Role.VIEWER.value)
        self.key_accounts = QLineEdit("all")
        self.key_days = QSpinBox()
        self.key_days.setRange(0, 36_500)
        self.key_days.setSpecialValueText("never")
        self.key_days.setSuffix(" days")
        key_fields: tuple[tuple[str, QWidget], ...] = (
            ("Name", self.key_name),
            ("Role", self.key_role),
            ("Accounts", self.key_accounts),
            ("Expires in", self.key_days),
        )
        for key_label, key_widget in key_fields:
            key_form.addRow(key_label, key_widget)
        keys_layout.addLayout(key_form)
        key_row = QHBoxLayout()
        self.create_button = self._button(key_row, "Create key", self.create_key)
        self.revoke_button = self._button(key_row, "Revoke selected", self.revoke_key)
        keys_layout.addLayout(key_row)
        self.new_key = QLineEdit()
        self.new_key.setObjectName("NewKey")
        self.new_key.setReadOnly(True)
        self.new_key.setPlaceholderText("a new key is shown here once")
        keys_layout.addWidget(self.new_key)
        layout.addWidget(keys)

        self.message = QLabel("")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.users_table.itemSelectionChanged.connect(self._picked_user)
        self.reload()

    # ------------------------------------------------------------------ building

    @staticmethod
    def _table(headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.horizontalHeader().setStretchLastSection(True)
        table.verticalHeader().setVisible(False)
        return table

    @staticmethod
    def _button(row: QHBoxLayout, text: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(slot)
        row.addWidget(button)
        return button

    # ------------------------------------------------------------------ showing

    def reload(self) -> None:
        async def read() -> tuple[Any, Any]:
            return await self._directory.users(), await self._directory.keys()

        self._tasks.run(read(), what="read users", owner=self, on_result=self._show, on_error=self._failed)

    def _show(self, found: tuple[Any, Any]) -> None:
        people, keys = found
        rows: list[tuple[str, str, str]] = [
            (self._directory.reserved, "admin", "all (built-in: server set-password)")
        ]
        rows += [(u.username, u.role.value, u.scope.describe()) for u in people]
        self._fill(self.users_table, rows)
        now = datetime.now(UTC)
        self._fill(
            self.keys_table,
            [
                (
                    str(k.id),
                    k.prefix,
                    k.name,
                    k.role.value,
                    k.scope.describe(),
                    k.status(now),
                    "never" if k.expires_at is None else f"{k.expires_at:%Y-%m-%d %H:%M}",
                    "never" if k.last_used_at is None else f"{k.last_used_at:%Y-%m-%d %H:%M}",
                )
                for k in keys
            ],
        )

    @staticmethod
    def _fill(table: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
        table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                table.setItem(r, c, QTableWidgetItem(value))

    @staticmethod
    def _cell(table: QTableWidget, row: int, column: int) -> str:
        item = table.item(row, column)
        return item.text() if item is not None else ""

    def _picked_user(self) -> None:
        row = self.users_table.currentRow()
        if row < 0:
            return
        self.name.setText(self._cell(self.users_table, row, 0))
        self.role.setCurrentText(self._cell(self.users_table, row, 1))
        scope = self._cell(self.users_table, row, 2)
        self.accounts.setText("all" if scope.startswith("all") else scope)

    def say(self, text: str, ok: bool) -> None:
        self.message.setText(text)
        self.message.setProperty("role", "ok" if ok else "error")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def _failed(self, error: BaseException) -> bool:
        if isinstance(error, AccessError):
            self.say(f"Not done: {error}", ok=False)
            return True
        self.say(f"Failed: {error}", ok=False)
        return False

    def _do(self, what: str, call: Any, done: str) -> None:
        def finished(result: Any) -> None:
            self.say(done, ok=True)
            self.reload()

        self._tasks.run(call, what=what, owner=self, on_result=finished, on_error=self._failed)

    def _input(self) -> tuple[str, Role, Scope] | None:
        """The form's name, role and scope, or None (said) when one is bad."""
        name = self.name.text().strip()
        if not name:
            self.say("Not done: enter a user name (or pick one in the table)", ok=False)
            return None
        try:
            return name, Role.parse(self.role.currentText()), Scope.parse(self.accounts.text())
        except AccessError as exc:
            self.say(f"Not done: {exc}", ok=False)
            return None

    def _new_password(self) -> str | None:
        if self.password.text() != self.repeat.text():
            self.say("Not done: the two passwords differ", ok=False)
            return None
        return self.password.text()

    # ------------------------------------------------------------------ users

    def add_user(self) -> None:
        given, password = self._input(), self._new_password()
        if given is None or password is None:
            return
        name, role, scope = given
        call = self._directory.add(name, role, scope, password, actor=Actor.GUI)
        self._do("add a user", call, f"Added user {name} ({role.value}, accounts {scope.describe()}).")
        self.password.clear()
        self.repeat.clear()

    def set_role(self) -> None:
        given = self._input()
        if given is not None:
            name, role, _ = given
            self._do(
                "set a role",
                self._directory.set_role(name, role, actor=Actor.GUI),
                f"{name} is {role.value} now.",
            )

    def set_accounts(self) -> None:
        given = self._input()
        if given is not None:
            name, _, scope = given
            call = self._directory.set_accounts(name, scope, actor=Actor.GUI)
            self._do("set the accounts", call, f"{name} sees accounts {scope.describe()} now.")

    def set_password(self) -> None:
        given, password = self._input(), self._new_password()
        if given is None or password is None:
            return
        call = self._directory.set_password(given[0], password, actor=Actor.GUI)
        self._do("set a password", call, f"Password of {given[0]} set: its sessions ended.")
        self.password.clear()
        self.repeat.clear()

    def remove_user(self) -> None:
        given = self._input()
        if given is not None:
            name = given[0]
            call = self._directory.remove(name, actor=Actor.GUI)
            self._do("remove a user", call, f"Removed {name}: its sessions ended.")

    # ------------------------------------------------------------------ keys

    def create_key(self) -> None:
        try:
            role, scope = Role.parse(self.key_role.currentText()), Scope.parse(self.key_accounts.text())
        except AccessError as exc:
            self.say(f"Not done: {exc}", ok=False)
            return
        days = self.key_days.value()
        expires = datetime.now(UTC) + timedelta(days=days) if days else None
        call = self._directory.create_key(self.key_name.text().strip(), role, scope, expires, actor=Actor.GUI)

        def made(result: Any) -> None:
            record, key = result
            self.new_key.setText(key)
            self.new_key.selectAll()
            self.say(f"Key {record.prefix} made: copy it now, it is not shown again.", ok=True)
            self.reload()

        self._tasks.run(call, what="create a key", owner=self, on_result=made, on_error=self._failed)

    def revoke_key(self) -> None:
        row = self.keys_table.currentRow()
        if row < 0:
            self.say("Not done: pick a key in the table", ok=False)
            return
        key_id = int(self._cell(self.keys_table, row, 0))
        self._do(
            "revoke a key", self._directory.revoke_key(key_id, actor=Actor.GUI), f"Key {key_id} revoked."
        )
