"""The settings' Users page, driven as a person does (typing, clicking): add a user, change its role,
scope and password, remove it; make a key (shown once) and revoke it; bad input is said under the form
and changes nothing. A real database and audit trail behind it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.audit import AuditQuery, AuditReader, AuditTrail, audit_dir
from app.core.storage import Database, database_path
from app.core.users import UserDirectory
from app.models import NewAccount
from app.ui.tasks import TaskRunner
from app.ui.users_dialog import UsersDialog
from tests.support.factories import utc
from tests.support.sim_fixtures import wait_until


@pytest_asyncio.fixture
async def directory(tmp_path: Path) -> AsyncIterator[UserDirectory]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db = Database(database_path(data_dir))
    db.open()
    await db.run(lambda tx: tx.accounts.insert(NewAccount(7001, "Demo"), utc(2026, 1, 1)))
    trail = AuditTrail.for_data_dir(data_dir)
    await trail.start()
    yield UserDirectory(db, trail, "admin")
    await trail.stop()
    db.close()


def _cells(dialog: UsersDialog, keys: bool = False) -> list[list[str]]:
    table = dialog.keys_table if keys else dialog.users_table
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]  # type: ignore[union-attr]
        for r in range(table.rowCount())
    ]


def _type(qtbot: QtBot, field: object, text: str) -> None:
    field.clear()  # type: ignore[attr-defined]
    qtbot.keyClicks(field, text)


async def test_users_are_added_changed_and_removed_from_the_window(
    qtbot: QtBot, tasks: TaskRunner, directory: UserDirectory
) -> None:
    dialog = UsersDialog(directory, tasks)
    qtbot.addWidget(dialog)
    await wait_until(lambda: dialog.users_table.rowCount() == 1)
    assert _cells(dialog)[0][:2] == ["admin", "admin"]

    _type(qtbot, dialog.name, "ann")
    dialog.role.setCurrentText("viewer")
    _type(qtbot, dialog.accounts, "1")
    _type(qtbot, dialog.password, "ann's password 1")
    _type(qtbot, dialog.repeat, "ann's password 1")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: len(_cells(dialog)) == 2)
    assert _cells(dialog)[1] == ["ann", "viewer", "1"] and "Added user ann" in dialog.message.text()

    dialog.role.setCurrentText("trader")
    qtbot.mouseClick(dialog.role_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: _cells(dialog)[1][1] == "trader")
    _type(qtbot, dialog.accounts, "all")
    qtbot.mouseClick(dialog.accounts_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: _cells(dialog)[1][2] == "all")

    # Bad input: said, and nothing changes.
    _type(qtbot, dialog.accounts, "1,x")
    qtbot.mouseClick(dialog.accounts_button, Qt.MouseButton.LeftButton)
    assert "--accounts takes `all`" in dialog.message.text()
    _type(qtbot, dialog.accounts, "99")
    qtbot.mouseClick(dialog.accounts_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: "no managed account with id 99" in dialog.message.text())
    _type(qtbot, dialog.password, "one password 1")
    _type(qtbot, dialog.repeat, "another one 1")
    qtbot.mouseClick(dialog.password_button, Qt.MouseButton.LeftButton)
    assert "the two passwords differ" in dialog.message.text()
    _type(qtbot, dialog.name, "admin")
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: "built-in administrator" in dialog.message.text())
    assert [(u.username, u.role.value, u.scope.describe()) for u in await directory.users()] == [
        ("ann", "trader", "all")
    ]

    _type(qtbot, dialog.name, "ann")
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: len(_cells(dialog)) == 1)
    actions = [
        e.action for e in AuditReader(audit_dir(directory_dir(directory))).query(AuditQuery(actor="gui"))
    ]
    assert actions == ["user.add", "user.set_role", "user.set_accounts", "user.remove"]


def directory_dir(directory: UserDirectory) -> Path:
    path = directory._db.path  # noqa: SLF001 - the test's own database file
    assert path is not None
    return path.parent


async def test_a_key_is_made_shown_once_and_revoked(
    qtbot: QtBot, tasks: TaskRunner, directory: UserDirectory
) -> None:
    dialog = UsersDialog(directory, tasks)
    qtbot.addWidget(dialog)
    _type(qtbot, dialog.key_name, "grafana")
    dialog.key_days.setValue(30)
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: dialog.new_key.text().startswith("mt5c_"))
    key = dialog.new_key.text()
    await wait_until(lambda: len(_cells(dialog, keys=True)) == 1)
    row = _cells(dialog, keys=True)[0]
    assert row[1] == key[:13] and row[2:6] == ["grafana", "viewer", "all", "active"]
    assert key not in " ".join(row)
    dialog.keys_table.selectRow(0)
    qtbot.mouseClick(dialog.revoke_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: _cells(dialog, keys=True)[0][5] == "revoked")


async def test_the_settings_open_the_users_page(
    qtbot: QtBot, tasks: TaskRunner, directory: UserDirectory, tmp_path: Path
) -> None:
    from app.config import load_settings
    from app.ui.settings_dialog import SettingsDialog

    path = tmp_path / "config.toml"
    path.write_text("", encoding="utf-8")
    settings = SettingsDialog(
        path, load_settings({"data_dir": tmp_path}, env_file=None), tasks, users=directory
    )
    qtbot.addWidget(settings)
    qtbot.mouseClick(settings.users_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: settings.users_dialog.users_table.rowCount() == 1)
    assert settings.users_dialog.isVisible()
    settings.users_dialog.close()
