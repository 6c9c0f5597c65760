"""Add or edit a managed account. The password field never shows what is typed and its text goes
straight to the registry (which puts it in the OS keyring); nothing else keeps it.

The dialog only gathers input: validation is the registry's. Its errors come back through
:meth:`AccountDialog.show_error`, next to the field they name, and the dialog stays open.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.credentials import Secret
from app.models import AccountEdit, ManagedAccount, NewAccount

ANY_TERMINAL = "any terminal"


class AccountDialog(QDialog):
    """Emits ``submitted(request, password)``: a :class:`NewAccount` (add) or :class:`AccountEdit`
    (edit), and a :class:`Secret` or None (edit, password unchanged)."""

    submitted = Signal(object, object)

    def __init__(
        self,
        terminal_ids: Sequence[str],
        account: ManagedAccount | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.account = account
        self.setObjectName("AccountDialog")
        self.setWindowTitle(f"Edit account {account.key}" if account else "Add account")
        self.login = QLineEdit(str(account.login) if account else "", placeholderText="e.g. 5001234")
        self.server = QLineEdit(account.server if account else "", placeholderText="e.g. Broker-Live")
        self.broker = QLineEdit(account.broker if account else "")
        self.alias = QLineEdit(account.alias if account else "")
        self.terminal = QComboBox(editable=True)
        self.terminal.addItems([ANY_TERMINAL, *terminal_ids])
        self.terminal.setCurrentText(account.terminal_id or ANY_TERMINAL if account else ANY_TERMINAL)
        self.enabled = QCheckBox("visited by the carousel")
        self.enabled.setChecked(account.enabled if account else True)
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        if account is not None:
            self.login.setReadOnly(True)
            self.server.setReadOnly(True)
            self.login.setToolTip("login and server are the account's identity: remove and add to change")
            self.password.setPlaceholderText("leave empty to keep the current password")
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        for name, label, field in (
            ("login", "Login", self.login),
            ("server", "Server", self.server),
            ("broker", "Broker", self.broker),
            ("alias", "Alias", self.alias),
            ("terminal", "Terminal", self.terminal),
            ("enabled", "Enabled", self.enabled),
            ("password", "Password", self.password),
            ("repeat", "Repeat password", self.repeat),
        ):
            form.addRow(label, field)
            error = QLabel("")
            error.setProperty("role", "error")
            error.setVisible(False)
            form.addRow("", error)
            self.errors[name] = error
        note = QLabel("The password goes to the OS keyring only; it is never shown or stored elsewhere.")
        note.setWordWrap(True)
        self.general = QLabel("")
        self.general.setProperty("role", "error")
        self.general.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.general)
        layout.addWidget(self.buttons)

    @property
    def editing(self) -> bool:
        return self.account is not None

    def submit(self) -> None:
        """Check what only the dialog can (the two passwords agree), then hand the request over."""
        self.clear_errors()
        password, repeat = self.password.text(), self.repeat.text()
        if password != repeat:
            self.show_error("repeat", "the two passwords differ")
            return
        if not self.editing and not password:
            self.show_error("password", "the password is empty")
            return
        terminal = self.terminal.currentText().strip()
        terminal = "" if terminal == ANY_TERMINAL else terminal
        secret = Secret(password) if password else None
        request: NewAccount | AccountEdit
        if self.account is None:
            login_text = self.login.text().strip()
            if not login_text.isascii() or not login_text.isdigit():
                self.show_error("login", f"login must be a positive whole number, not {login_text!r}")
                return
            request = NewAccount(
                login=int(login_text),
                server=self.server.text(),
                broker=self.broker.text(),
                alias=self.alias.text(),
                terminal_id=terminal or None,
                enabled=self.enabled.isChecked(),
            )
        else:
            current = self.account
            request = AccountEdit(
                broker=None if self.broker.text() == current.broker else self.broker.text(),
                alias=None if self.alias.text() == current.alias else self.alias.text(),
                terminal_id=None if terminal == (current.terminal_id or "") else terminal,
                enabled=None if self.enabled.isChecked() == current.enabled else self.enabled.isChecked(),
            )
            if request.empty and secret is None:
                self.show_error("general", "nothing to change")
                return
        self.set_busy(True)
        self.submitted.emit(request, secret)

    def set_busy(self, busy: bool) -> None:
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(not busy)
        save.setText("Saving…" if busy else "Save")

    def show_error(self, field: str, message: str) -> None:
        """Show ``message`` next to ``field`` (login, server, broker, alias, terminal, password, ...);
        under the form when no field of that name is here."""
        self.set_busy(False)
        label = self.errors.get("repeat" if field == "repeat" else field)
        if label is None:
            self.general.setText(message)
            return
        label.setText(message)
        label.setVisible(True)

    def clear_errors(self) -> None:
        self.general.setText("")
        for label in self.errors.values():
            label.setText("")
            label.setVisible(False)

    def done(self, result: int) -> None:  # noqa: D102 - Qt override: forget the typed password
        self.password.clear()
        self.repeat.clear()
        super().done(result)
