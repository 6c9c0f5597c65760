"""The Accounts tab on a real registry: rows with the latest figures and stale ages, updates from the
hub, add/edit/remove through dialogs (the password to the keyring, never shown), the carousel's
controls, sync now, the equity curve, and failures shown in the tab without a dialog."""

from __future__ import annotations

from datetime import timedelta

import pytest
import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from app.core.carousel import VisitFailed
from app.models import AccountStatus, Side
from app.ui.account_dialog import AccountDialog
from app.ui.accounts_model import (
    ACCOUNT,
    AGE,
    BALANCE,
    DAY,
    FLOATING,
    LEVEL,
    MONTH,
    REASON,
    STALE_BACKGROUND,
    STALE_ROLE,
    STATUS,
    TERMINAL,
    WEEK,
)
from app.ui.accounts_tab import AccountsTab
from tests.support.factories import position, snapshot, utc
from tests.support.sim_fixtures import wait_until
from tests.ui.carousel.conftest import FakeCarousel, Registry, emitted

pytestmark = pytest.mark.gui

NOW = utc(2026, 12, 1, 12)


def build(qtbot: QtBot, accounts: Registry, carousel: FakeCarousel, **options: object) -> AccountsTab:
    tab = AccountsTab(
        accounts.hub,
        accounts.registry,
        carousel,
        terminal_ids=["sim-1", "sim-2"],
        stale_after=timedelta(minutes=15),
        now=lambda: NOW,
        **options,  # type: ignore[arg-type]
    )
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    tab.show()
    return tab


def cell(tab: AccountsTab, account_id: int, column: int, role: int = Qt.ItemDataRole.DisplayRole) -> object:
    row = tab.model.row_of(account_id)
    assert row is not None
    return tab.model.data(tab.model.index(row, column), role)


async def visited(accounts: Registry, account_id: int, minutes_ago: float, **figures: object) -> None:
    account = await accounts.registry.get(account_id)
    taken = NOW - timedelta(minutes=minutes_ago)
    await accounts.registry.record_visit(account, snapshot(taken, **figures))  # type: ignore[arg-type]


async def test_every_account_shows_with_its_latest_figures_and_stale_ones_stand_out(
    qtbot: QtBot, accounts: Registry, carousel: FakeCarousel
) -> None:
    fresh = await accounts.add(5001, alias="main", terminal_id="sim-2")
    old = await accounts.add(5002)
    never = await accounts.add(5003)
    held = (position("EURUSD", Side.BUY, 0.1, 1.1, 12.5, swap=-0.5),)
    await visited(accounts, fresh.id, 2, balance=10_000.0, positions=held)
    await visited(accounts, old.id, 60, balance=2_500.0)
    await accounts.registry.set_status(never.id, AccountStatus.ERROR, "login refused (wrong password?)")

    tab = build(qtbot, accounts, carousel)
    await wait_until(lambda: tab.model.rowCount() == 3)

    assert [cell(tab, fresh.id, c) for c in (ACCOUNT, TERMINAL, STATUS)] == ["main", "sim-2", "ok"]
    assert cell(tab, fresh.id, BALANCE) == "10,000.00 USD"
    assert cell(tab, fresh.id, LEVEL) == "10,000%"  # equity / margin (100 per position in the fixture)
    assert cell(tab, fresh.id, FLOATING) == "+12.00 (1)"
    assert [cell(tab, fresh.id, c) for c in (DAY, WEEK, MONTH)] == ["+0.00"] * 3
    assert cell(tab, fresh.id, AGE) == "2m 00s" and cell(tab, fresh.id, AGE, STALE_ROLE) is False
    assert cell(tab, old.id, AGE) == "1h 00m" and cell(tab, old.id, AGE, STALE_ROLE) is True
    assert cell(tab, old.id, AGE, Qt.ItemDataRole.BackgroundRole).color() == STALE_BACKGROUND
    assert cell(tab, old.id, LEVEL) == "—"  # no margin in use
    assert cell(tab, never.id, AGE) == "never" and cell(tab, never.id, AGE, STALE_ROLE) is True
    assert cell(tab, never.id, REASON) == "login refused (wrong password?)"
    assert cell(tab, never.id, STATUS) == "error"


async def test_hub_updates_change_rows_and_a_removed_account_goes(
    qtbot: QtBot, accounts: Registry, carousel: FakeCarousel
) -> None:
    tab = build(qtbot, accounts, carousel)
    await wait_until(lambda: tab.model.rowCount() == 0 and not tab.calls.pending)
    one = await accounts.add(6001, alias="one")
    await wait_until(lambda: tab.model.row_of(one.id) is not None, 2)
    assert cell(tab, one.id, STATUS) == "pending" and cell(tab, one.id, BALANCE) == ""

    await visited(accounts, one.id, 0, balance=4_321.0)
    await wait_until(lambda: cell(tab, one.id, BALANCE) == "4,321.00 USD", 2)
    await accounts.registry.set_status(one.id, AccountStatus.ERROR, "login timed out after 30 s")
    await wait_until(lambda: cell(tab, one.id, REASON) == "login timed out after 30 s", 2)
    assert cell(tab, one.id, BALANCE) == "4,321.00 USD"  # the last snapshot stays

    await accounts.registry.remove(one.id)
    await wait_until(lambda: tab.model.rowCount() == 0, 2)


def find_dialog(tab: AccountsTab) -> AccountDialog:
    assert tab.dialog is not None and tab.dialog.isVisible()
    return tab.dialog


async def test_adding_an_account_sends_the_password_to_the_keyring_only(
    qtbot: QtBot, accounts: Registry, carousel: FakeCarousel
) -> None:
    tab = build(qtbot, accounts, carousel)
    qtbot.mouseClick(tab.add_button, Qt.MouseButton.LeftButton)
    dialog = find_dialog(tab)
    assert dialog.password.echoMode() is QLineEdit.EchoMode.Password
    assert dialog.repeat.echoMode() is QLineEdit.EchoMode.Password
    dialog.login.setText("7001")
    dialog.server.setText("   ")  # the registry refuses it: shown next to the field
    dialog.password.setText("S3cret pass")
    dialog.repeat.setText("S3cret pass")
    dialog.submit()
    await wait_until(lambda: dialog.errors["server"].isVisible(), 2)
    assert dialog.errors["server"].text() == "server must not be empty" and dialog.isVisible()

    dialog.server.setText("Broker-Live")
    dialog.alias.setText("new one")
    dialog.terminal.setCurrentText("sim-2")
    dialog.repeat.setText("typo")
    dialog.submit()
    assert dialog.errors["repeat"].text() == "the two passwords differ"
    dialog.repeat.setText("S3cret pass")
    left: list[tuple[str, str]] = []
    dialog.finished.connect(lambda _: left.append((dialog.password.text(), dialog.repeat.text())))
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
    await wait_until(lambda: tab.dialog is None, 3)

    assert accounts.password_of("7001@Broker-Live") == "S3cret pass"
    added = await accounts.registry.find(7001, "Broker-Live")
    assert added is not None and (added.alias, added.terminal_id) == ("new one", "sim-2")
    assert left == [("", "")]  # the typed password is forgotten as the dialog closes ...
    await wait_until(lambda: not shiboken6.isValid(dialog))  # ... and the dialog goes
    await wait_until(lambda: tab.model.row_of(added.id) is not None, 2)
    assert tab.selected_account() is not None and tab.selected_account().id == added.id  # type: ignore[union-attr]
    shown = [str(tab.model.data(tab.model.index(0, c))) for c in range(tab.model.columnCount())]
    assert "S3cret pass" not in " ".join(shown) + tab.message.text()


async def test_editing_and_removing_an_account(
    qtbot: QtBot, accounts: Registry, carousel: FakeCarousel
) -> None:
    account = await accounts.add(8001, alias="before")
    tab = build(qtbot, accounts, carousel)
    await wait_until(lambda: tab.model.rowCount() == 1, 3)
    tab.select(account.id)
    qtbot.mouseClick(tab.edit_button, Qt.MouseButton.LeftButton)
    dialog = find_dialog(tab)
    assert dialog.login.isReadOnly() and dialog.server.isReadOnly() and dialog.password.text() == ""
    dialog.alias.setText("after")
    dialog.enabled.setChecked(False)
    dialog.password.setText("changed-pw")
    dialog.repeat.setText("changed-pw")
    dialog.submit()
    await wait_until(lambda: tab.dialog is None, 3)
    edited = await accounts.registry.get(account.id)
    assert (edited.alias, edited.enabled) == ("after", False)
    assert accounts.password_of(edited) == "changed-pw"
    await wait_until(lambda: cell(tab, account.id, STATUS) == "pending (disabled)", 2)

    tab.select(account.id)
    qtbot.mouseClick(tab.remove_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: tab.confirmation is not None, 2)
    box = tab.confirmation
    assert box is not None and "its password from the OS keyring, 0 snapshot(s) and 0 deal(s)" in box.text()
    box.button(QMessageBox.StandardButton.Yes).click()
    await wait_until(lambda: tab.model.rowCount() == 0, 3)
    assert accounts.password_of(edited) is None and await accounts.registry.list() == []


async def test_carousel_controls_sync_now_and_failures_without_a_dialog(
    qtbot: QtBot, accounts: Registry, carousel: FakeCarousel
) -> None:
    account = await accounts.add(9001, alias="nine")
    tab = build(qtbot, accounts, carousel)
    await wait_until(lambda: tab.model.rowCount() == 1, 3)
    assert tab.run_button.text() == "Start carousel" and not tab.pause_button.isEnabled()
    assert not tab.sync_button.isEnabled()  # nothing selected

    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: tab.run_button.text() == "Stop carousel", 2)
    assert carousel.calls == ["run gui"] and tab.pause_button.isEnabled()
    qtbot.mouseClick(tab.pause_button, Qt.MouseButton.LeftButton)
    assert carousel.calls[-1] == "pause" and tab.pause_button.text() == "Resume"
    assert "paused" in tab.carousel_label.text()
    qtbot.mouseClick(tab.pause_button, Qt.MouseButton.LeftButton)
    assert carousel.calls[-1] == "resume"

    tab.select(account.id)
    carousel.synced = snapshot(NOW, balance=1_500.0)
    qtbot.mouseClick(tab.sync_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: "nine synced: balance 1,500.00 USD" in tab.message.text(), 2)
    assert carousel.calls[-1] == f"sync {account.id}"

    carousel.sync_error = VisitFailed(account.key, "login refused (wrong password, login or server?)")
    async with emitted(tab.failed) as failed:
        qtbot.mouseClick(tab.sync_button, Qt.MouseButton.LeftButton)
    assert failed[0] == "sync nine"
    assert tab.message.text() == (
        "Could not sync nine: visit to 9001@Broker-Demo failed: "
        "login refused (wrong password, login or server?)"
    )
    assert tab.message.property("role") == "error"
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]

    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: tab.run_button.text() == "Start carousel", 2)
    assert carousel.calls[-1] == "halt gui" and tab.carousel_label.text() == "Carousel stopped"


async def test_the_equity_curve_follows_the_selected_account(
    qtbot: QtBot, accounts: Registry, carousel: FakeCarousel
) -> None:
    account = await accounts.add(9101, alias="curve")
    other = await accounts.add(9102)
    for minutes, equity in ((30, 1_000.0), (20, 1_050.0), (10, 990.0)):
        await visited(accounts, account.id, minutes, balance=1_000.0, equity=equity)
    tab = build(qtbot, accounts, carousel)
    await wait_until(lambda: tab.model.rowCount() == 2, 3)
    async with emitted(tab.curve_loaded) as loaded:
        tab.select(account.id)
    assert loaded == [3]
    times, equity, balance = tab.curve.points()
    assert equity == [1_000.0, 1_050.0, 990.0] and balance == [1_000.0] * 3
    assert times == [(NOW - timedelta(minutes=m)).timestamp() for m in (30, 20, 10)]
    assert tab.curve.title.text() == "Equity of curve (USD, 3 snapshots)"

    await visited(accounts, account.id, 0, balance=1_000.0, equity=1_010.0)
    await wait_until(lambda: len(tab.curve.points()[0]) == 4, 2)
    assert tab.curve.points()[1][-1] == 1_010.0

    async with emitted(tab.curve_loaded) as loaded:
        tab.select(other.id)
    assert loaded == [0] and tab.curve.title.text().endswith("no snapshots yet")


async def test_a_slow_keyring_never_blocks_the_gui_thread(
    qtbot: QtBot, accounts: Registry, carousel: FakeCarousel
) -> None:
    tab = build(qtbot, accounts, carousel)
    accounts.keyring.delay_s = 1.0  # every keyring call takes a second (a locked keyring, say)
    qtbot.mouseClick(tab.add_button, Qt.MouseButton.LeftButton)
    dialog = find_dialog(tab)
    dialog.login.setText("9201")
    dialog.server.setText("Broker-Demo")
    dialog.password.setText("slow-pw")
    dialog.repeat.setText("slow-pw")
    dialog.submit()
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    await wait_until(lambda: tab.dialog is None, 10)
    timer.stop()
    assert len(ticks) > 20  # the GUI thread went on drawing while the keyring was busy
    assert accounts.password_of("9201@Broker-Demo") == "slow-pw"
