"""The carousel borrows the window's only (live) terminal to visit another account: the status bar
says the terminal is visiting (which account, for how long) instead of "logged in", and an open
order ticket says why orders wait; both come back when the terminal is home again."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.config import CarouselSettings
from app.core.carousel import Carousel
from app.models import NewAccount
from app.mt5.sim.admin import SimAdmin
from tests.support.sim_fixtures import wait_until
from tests.ui.carousel.conftest import Registry
from tests.ui.conftest import TEST_ACCOUNT, SimServices
from tests.ui.test_main_window import window_on

pytestmark = [pytest.mark.gui, pytest.mark.slow]


async def test_a_visit_on_the_live_terminal_is_shown_and_orders_say_why_they_wait(
    sim_services: SimServices, accounts: Registry, admin: SimAdmin, data_dir: Path, qtbot: QtBot
) -> None:
    window = await window_on(sim_services, data_dir, qtbot)
    await wait_until(lambda: window.account is not None)
    ticket = window.open_ticket("EURUSD")
    qtbot.addWidget(ticket)
    await wait_until(lambda: ticket.check_label.text() == "Check: OK" and ticket.send_button.isEnabled())

    await accounts.registry.add(NewAccount(5001002, "SimBroker-Demo", alias="eur"), "Demo-1002")
    home = {(TEST_ACCOUNT[0], TEST_ACCOUNT[2]): TEST_ACCOUNT[1]}
    settings = CarouselSettings(
        autostart=False, share_live_terminal=True, shared_pause_s=30, login_timeout_s=20, cycle_interval_s=600
    )
    carousel = Carousel(
        accounts.registry,
        sim_services.pool,
        sim_services.hub,
        settings,
        home_passwords=lambda login, server: home.get((login, server)),
    )
    admin.set_login_latency(1.5)  # a visit lasts long enough to be seen
    try:
        await carousel.run("gui")
        label = window.status.terminal_label
        await wait_until(lambda: "visiting 5001002@SimBroker-Demo" in label.text(), within_s=30)
        assert "logged in" not in label.text()
        assert "orders are refused" in label.toolTip()
        await wait_until(lambda: "visiting 5001002@SimBroker-Demo · 1 s" in label.text(), within_s=10)
        assert ticket.check_label.text().startswith("Orders wait: the live terminal is visiting 5001002@")
        assert not ticket.send_button.isEnabled()
        later = window.open_ticket("USDJPY")  # one opened during the visit says so too
        qtbot.addWidget(later)
        assert later.check_label.text().startswith("Orders wait:") and not later.send_button.isEnabled()

        await wait_until(lambda: "logged in" in label.text() and "visiting" not in label.text(), within_s=30)
        await wait_until(lambda: ticket.check_label.text() == "Check: OK" and ticket.send_button.isEnabled())
    finally:
        admin.set_login_latency(0)
        await carousel.halt("gui")
        await carousel.stop()
    await window.shutdown()
