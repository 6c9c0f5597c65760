"""The Accounts and Exposure tabs of a console pointed at a shared store (``[distributed] enabled``):
what another machine stores — a node's visit — shows in them at once, through the store's NOTIFY."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.config import CarouselSettings, DistributedSettings
from app.core.accounts import AccountRegistry
from app.core.credentials import CredentialStore
from app.core.hub import EventHub
from app.core.storage import Database
from app.core.times import utc_now
from app.distributed.console import DistributedCarousel
from app.models import NewAccount, Side
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.listener import Listener
from app.ui.accounts_model import REASON, STATUS
from app.ui.accounts_tab import AccountsTab
from app.ui.exposure_tab import ExposureTab
from tests.distributed.conftest import FAST, Cluster, running_cluster
from tests.support.factories import position, snapshot
from tests.support.keyrings import MemoryKeyring
from tests.support.sim_fixtures import wait_until
from tests.ui.carousel.test_exposure_tab import table

pytestmark = [pytest.mark.gui, pytest.mark.postgres]


@pytest.fixture
async def console(
    postgres_url: str,
) -> AsyncIterator[tuple[Database, EventHub, AccountRegistry, DistributedCarousel]]:
    db = Database(postgres_url)
    await db.start()
    hub = EventHub()
    registry = AccountRegistry(db, CredentialStore(MemoryKeyring()), hub=hub)
    carousel = DistributedCarousel(postgres_url, db, hub, CarouselSettings(), DistributedSettings())
    await carousel.start()
    await asyncio.wait_for(carousel.listener.connected.wait(), 30)
    try:
        yield db, hub, registry, carousel
    finally:
        await carousel.stop()
        await db.stop()


@pytest.fixture
async def cluster(
    postgres_url: str, sim_server: Listener, admin: SimAdmin, data_dir: Path
) -> AsyncIterator[Cluster]:
    """Nodes in this process (tests/distributed/conftest.py), on this package's qasync loop."""
    async with running_cluster(postgres_url, sim_server, admin, data_dir) as made:
        yield made


async def test_another_machines_visit_shows_in_the_accounts_and_exposure_tabs(
    qtbot: QtBot, console: tuple[Database, EventHub, AccountRegistry, DistributedCarousel], postgres_url: str
) -> None:
    _, hub, registry, carousel = console
    accounts_tab = AccountsTab(hub, registry, carousel, stale_after=timedelta(minutes=15))
    exposure_tab = ExposureTab(hub, registry, stale_after=timedelta(minutes=15))
    for tab in (accounts_tab, exposure_tab):
        qtbot.addWidget(tab)
        tab.show()

    node = Database(postgres_url)  # another machine, writing to the same store
    await node.start()
    try:
        account = await node.run(
            lambda tx: tx.accounts.insert(NewAccount(7001, "Broker-Live", alias="vps"), utc_now())
        )
        await wait_until(lambda: accounts_tab.model.row_of(account.id) is not None, within_s=20)
        seen = snapshot(
            utc_now(), balance=12_345.0, positions=(position("EURUSD", Side.BUY, 0.5, 1.1, 25.0),)
        )
        await node.run(lambda tx: tx.record_visit(account.id, seen))

        def shown() -> bool:
            row = accounts_tab.model.row_of(account.id)
            return row is not None and accounts_tab.model.row(row).account.status.value == "ok"

        await wait_until(shown, within_s=20)
        row = accounts_tab.model.row_of(account.id)
        assert row is not None
        cells = [
            str(accounts_tab.model.data(accounts_tab.model.index(row, c)))
            for c in range(accounts_tab.model.columnCount())
        ]
        assert "vps" in cells and any("12,345.00" in cell for cell in cells), cells
        await wait_until(lambda: exposure_tab.model.rowCount() == 1, within_s=20)
        assert table(exposure_tab)[0][:4] == ["EURUSD", "+0.50", "0.50", "0.00"]
    finally:
        await node.stop()


@pytest.mark.slow
async def test_an_account_no_node_can_log_in_to_is_shown_as_such_in_the_accounts_tab(
    qtbot: QtBot, cluster: Cluster
) -> None:
    """The console's own keyring is not the nodes': an account whose password no running node holds
    shows as an error saying so, beside one a node visited, and the carousel's line counts it."""
    served, orphan = await cluster.account(), await cluster.account()
    cluster.give("n1", served)
    hub = EventHub()
    console = DistributedCarousel(
        cluster.url,
        cluster.db,
        hub,
        CarouselSettings(**FAST["carousel"]),
        DistributedSettings(**FAST["distributed"]),
    )
    await console.start()
    registry = AccountRegistry(cluster.db, CredentialStore(MemoryKeyring()), hub=hub)
    tab = AccountsTab(hub, registry, console, stale_after=timedelta(minutes=15))
    qtbot.addWidget(tab)
    tab.show()
    try:
        await cluster.node("n1", terminals=1)

        def cells(account_id: int) -> tuple[str, str] | None:
            row = tab.model.row_of(account_id)
            if row is None:
                return None
            model = tab.model
            return str(model.data(model.index(row, STATUS))), str(model.data(model.index(row, REASON)))

        def shown() -> bool:
            return cells(served.id) == ("ok", "") and (cells(orphan.id) or ("", ""))[0] == "error"

        try:
            await wait_until(shown, within_s=60)
        except AssertionError:
            raise AssertionError(f"shown: {cells(served.id)}, {cells(orphan.id)}") from None
        reason = cells(orphan.id)[1]  # type: ignore[index]
        assert reason.startswith("no node can log in to it"), reason
        await wait_until(
            lambda: "1 account(s) no node can log in to" in tab.carousel_label.text(), within_s=30
        )
        assert "1 node(s): n1 (1 terminal(s), 1 account(s))" in tab.carousel_label.text()
    finally:
        await console.stop()
