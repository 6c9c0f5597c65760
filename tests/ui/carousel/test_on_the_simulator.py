"""The Accounts tab and the progress widget over the real carousel, real terminal workers and the
simulated trade server: start, rows filling in (a wrong password shows its reason), sync now, stop."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config import CarouselSettings
from app.core.carousel import Carousel
from app.models import AccountStatus, NewAccount
from app.mt5.pool import TerminalPool
from app.mt5.sim.admin import SimAdmin
from app.ui.accounts_model import REASON, STATUS
from app.ui.accounts_tab import AccountsTab
from app.ui.carousel_progress import CarouselProgress
from tests.support.sim_fixtures import wait_until
from tests.ui.carousel.conftest import Registry

pytestmark = [pytest.mark.gui, pytest.mark.slow]


async def test_the_tab_drives_the_real_carousel(
    qtbot: QtBot, accounts: Registry, client_factory: Any, admin: SimAdmin
) -> None:
    admin.create_account(7_300_001, "Tab-Good-1", balance=3_000.0)
    admin.create_account(7_300_002, "Tab-Good-2")
    good = await accounts.registry.add(NewAccount(7_300_001, "SimBroker-Demo", alias="good"), "Tab-Good-1")
    bad = await accounts.registry.add(NewAccount(7_300_002, "SimBroker-Demo", alias="bad"), "nope")
    clients = [(await client_factory(name))[0] for name in ("t1", "t2")]
    settings = CarouselSettings(autostart=False, cycle_interval_s=0.5, shared_pause_s=0, login_timeout_s=5)
    carousel = Carousel(accounts.registry, TerminalPool(clients), accounts.hub, settings)
    tab = AccountsTab(accounts.hub, accounts.registry, carousel, terminal_ids=["t1", "t2"])
    progress = CarouselProgress(accounts.hub)
    for widget in (tab, progress):
        qtbot.addWidget(widget)
        widget.show()
    await wait_until(lambda: tab.model.rowCount() == 2)

    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    try:
        await wait_until(lambda: tab.run_button.text() == "Stop carousel")
        row = tab.model.row_of
        await wait_until(lambda: tab.model.row(row(good.id) or 0).account.status is AccountStatus.OK, 20)
        await wait_until(lambda: tab.model.row(row(bad.id) or 0).account.status is AccountStatus.ERROR, 20)
        reason = tab.model.data(tab.model.index(row(bad.id) or 0, REASON))
        assert str(reason).startswith("login refused (wrong password, login or server?)")
        assert tab.model.data(tab.model.index(row(good.id) or 0, STATUS)) == "ok"
        await wait_until(lambda: progress.status.cycle >= 1)
        assert progress.label.text().startswith("Carousel: cycle")

        tab.select(good.id)
        await wait_until(lambda: len(tab.curve.points()[0]) >= 1, 10)
        qtbot.mouseClick(tab.sync_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: "good synced: balance 3,000.00 USD" in tab.message.text(), 20)
    finally:
        qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: tab.run_button.text() == "Start carousel", 20)
        await carousel.stop()
    await wait_until(lambda: progress.label.text() == "Carousel: stopped")
    tab.shutdown()
    progress.shutdown()
