"""The live account changes under the window (the terminal is logged in to another account): nothing
of the previous one stays on screen — its kill-switch badge, its history, a ticket's verdict."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.support.sim_fixtures import wait_until
from tests.ui.conftest import SimServices
from tests.ui.test_main_window import window_on

pytestmark = [pytest.mark.gui, pytest.mark.slow]


async def test_another_live_account_leaves_nothing_of_the_previous_one(
    sim_services: SimServices, data_dir: Path, qtbot: QtBot
) -> None:
    window = await window_on(sim_services, data_dir, qtbot)
    await wait_until(lambda: window.account is not None)
    assert window.account is not None
    first = window.account.key
    await sim_services.trading.risk.trip(first, 250.0, "daily loss 250.00 USD reached the limit 200")
    await wait_until(lambda: window.status.risk_label.isVisible())
    ticket = window.open_ticket("EURUSD")
    qtbot.addWidget(ticket)
    await wait_until(lambda: ticket.check_label.text().startswith("Check:") and ticket.last_check is None)
    refused = ticket.check_label.text()  # the kill switch refuses this account's orders

    await sim_services.pool.live.login(5001002, "Demo-1002", "SimBroker-Demo")  # EUR, netting
    await wait_until(lambda: window.account is not None and window.account.login == 5001002)
    await wait_until(lambda: not window.status.risk_label.isVisible())
    assert not window.reset_kill_switch_action.isEnabled()
    assert window.status.account_label.text().startswith("5001002")
    await wait_until(lambda: ticket.check_label.text() == "Check: OK", within_s=20)  # judged anew
    assert refused != "Check: OK"
    await window.shutdown()
