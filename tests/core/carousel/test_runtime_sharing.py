"""The whole runtime on the simulator with one terminal: the carousel shares the live terminal, an order
attempted while it is on another account is refused, and the live account comes back after the visit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.config import load_settings
from app.core.credentials import CredentialStore
from app.core.hub import Topic
from app.logs import LogBus
from app.models import CarouselStatus, NewAccount, OrderRequest, OrderType, TradeAction, TradingDisabledError
from app.mt5.backend import plan_terminals
from app.mt5.sim.admin import SimAdmin
from app.runtime import Runtime
from tests.support.keyrings import MemoryKeyring
from tests.support.sim_fixtures import wait_until

pytestmark = pytest.mark.slow

LIVE, OTHER = (5001001, "Demo-1001"), (5001002, "Demo-1002")
SERVER = "SimBroker-Demo"


@pytest.fixture
async def runtime(data_dir: Path) -> AsyncIterator[Runtime]:
    settings = load_settings(
        {
            "data_dir": data_dir,
            "terminals": {"sim": True, "sim_terminals": 1, "login_timeout_s": 20},
            "sim": {"start": "2026-11-18T09:00:00Z"},  # a Wednesday: EURUSD trades
            "carousel": {"autostart": False, "shared_pause_s": 0},
        },
        env_file=None,
    )
    found = Runtime(
        settings, LogBus(), plan_terminals(settings.terminals), credentials=CredentialStore(MemoryKeyring())
    )
    await found.start()
    try:
        yield found
    finally:
        await found.stop()


async def test_an_order_while_the_carousel_is_on_another_account_is_refused(runtime: Runtime) -> None:
    live = runtime.pool.live
    await wait_until(lambda: live.home_account == (LIVE[0], SERVER))
    other = await runtime.accounts.add(NewAccount(OTHER[0], SERVER), OTHER[1], actor="gui")
    assert runtime.sim_server is not None
    with SimAdmin(runtime.sim_server.address) as admin:
        admin.set_login_latency(1.5)  # the visit stays on the other account long enough to try
    visit = asyncio.create_task(runtime.carousel.sync_now(other.id))
    try:
        await wait_until(lambda: live.state.login == OTHER[0])
        with pytest.raises(TradingDisabledError, match="carousel"):
            await runtime.trading.place(OrderRequest(TradeAction.DEAL, "EURUSD", 0.01, OrderType.BUY))
    finally:
        await visit
    assert (await live.call("account")).login == LIVE[0] and runtime.pool.live_lent_to is None


async def test_the_runtime_shares_its_one_terminal_and_comes_back(runtime: Runtime) -> None:
    live = runtime.pool.live
    await wait_until(lambda: live.home_account == (LIVE[0], SERVER))
    other = await runtime.accounts.add(NewAccount(OTHER[0], SERVER), OTHER[1], actor="gui")
    logins: list[int | None] = []
    live.add_state_listener(lambda state: logins.append(state.login))

    status = await runtime.carousel.run("gui")
    assert status.running and status.terminals == (live.terminal_id,)
    await wait_until(lambda: runtime.carousel.status().cycle >= 1 and not runtime.carousel.status().current)
    await wait_until(lambda: runtime.carousel.status().visited_in_cycle == 1)
    await runtime.carousel.halt("gui")

    assert OTHER[0] in logins and logins[-1] == LIVE[0]
    assert (await runtime.accounts.get(other.id)).last_snapshot_at is not None
    assert runtime.pool.live_lent_to is None and (await live.call("account")).login == LIVE[0]
    published: CarouselStatus = runtime.hub.latest(Topic.CAROUSEL)
    assert published == runtime.carousel.status() and not published.running
    # The account state refreshes the live account again once the terminal is home.
    await wait_until(lambda: runtime.account_state.account is not None)
    assert runtime.account_state.account is not None and runtime.account_state.account.login == LIVE[0]
