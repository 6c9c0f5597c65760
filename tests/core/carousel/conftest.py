"""A carousel over real terminal workers and the simulated trade server, with its registry in a fresh
database and passwords in an in-memory keyring (the Secret Service path is tested on its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from app.config import AccountsSettings, CarouselSettings
from app.core.accounts import AccountRegistry
from app.core.carousel import Carousel
from app.core.credentials import CredentialStore
from app.core.hub import Delivery, EventHub, Subscription, Topic
from app.core.storage import Database, database_path
from app.core.times import utc_now
from app.models import (
    FillPolicy,
    ManagedAccount,
    NewAccount,
    OrderRequest,
    OrderResult,
    OrderType,
    Side,
    TerminalState,
    TradeAction,
)
from app.mt5.client import TerminalClient
from app.mt5.pool import TerminalPool
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.listener import Listener
from app.mt5.sim_service import SimTradeServer
from tests.support.keyrings import MemoryKeyring

SERVER = "SimBroker-Demo"
FAST = {
    "autostart": False,
    "cycle_interval_s": 0.0,
    "login_timeout_s": 5.0,
    "snapshot_timeout_s": 5.0,
    "deals_timeout_s": 5.0,
    "store_timeout_s": 5.0,
    "shared_pause_s": 0.0,
    "stop_grace_s": 5.0,
}


def fast_settings(**changes: Any) -> CarouselSettings:
    return CarouselSettings(**{**FAST, **changes})


@dataclass
class Harness:
    """The pieces a carousel test puts together: the sim's admin, a registry, terminals, a hub."""

    admin: SimAdmin
    address: str
    registry: AccountRegistry
    keyring: MemoryKeyring
    hub: EventHub
    make_client: Any
    db: Database
    next_login: int = 7_100_001
    clients: list[TerminalClient] = field(default_factory=list)
    live_logins: list[int | None] = field(default_factory=list)
    carousels: list[Carousel] = field(default_factory=list)

    async def account(
        self,
        *,
        password: str = "",
        registered_password: str | None = None,
        terminal: str | None = None,
        balance: float = 10_000.0,
        commission_per_lot: float = 0.0,
        alias: str = "",
        create: bool = True,
    ) -> ManagedAccount:
        """A broker account on the sim (unless ``create`` is false) registered with its password (or
        ``registered_password``, e.g. a wrong one)."""
        login = self.next_login
        self.next_login += 1
        password = password or f"Pw-{login}"
        if create:
            self.admin.create_account(login, password, balance=balance, commission_per_lot=commission_per_lot)
        new = NewAccount(login, SERVER, broker="Sim", alias=alias, terminal_id=terminal)
        return await self.registry.add(new, registered_password or password)

    async def terminals(self, *names: str) -> list[TerminalClient]:
        made = []
        for name in names:
            client, _ = await self.make_client(name)
            made.append(client)
        self.clients += made
        return made

    def pool(self, clients: list[TerminalClient]) -> TerminalPool:
        def on_state(state: TerminalState) -> None:
            self.hub.publish(Topic.TERMINAL, state, key=state.terminal_id)
            if state.terminal_id == clients[0].terminal_id:
                if not self.live_logins or self.live_logins[-1] != state.login:
                    self.live_logins.append(state.login)

        pool = TerminalPool(clients, on_state)
        self.live_logins[:] = [clients[0].state.login]
        return pool

    def carousel(
        self,
        pool: TerminalPool,
        audit: Any = None,
        home_passwords: Any = SimTradeServer.demo_password,
        clock: Callable[[], datetime] = utc_now,
        **settings: Any,
    ) -> Carousel:
        carousel = Carousel(
            self.registry,
            pool,
            self.hub,
            fast_settings(**settings),
            audit=audit,
            home_passwords=home_passwords,
            clock=clock,
        )
        self.carousels.append(carousel)
        return carousel

    def subscribe(self, *topics: Topic) -> Subscription:
        return self.hub.subscribe(topics, Delivery.ALL, maxlen=10_000)

    async def trade(
        self,
        client: TerminalClient,
        order: OrderType,
        volume: float = 0.01,
        symbol: str = "BTCUSD",
        **extra: Any,
    ) -> OrderResult:
        """A market order on whatever account ``client`` is on (BTCUSD trades every day), sent straight
        to the terminal: the broker's side of the story the carousel then reads."""
        tick = await client.call("tick", symbol)
        spec = await client.call("symbol", symbol)
        filling = next(
            f for f in (FillPolicy.FOK, FillPolicy.IOC, FillPolicy.RETURN) if f in spec.filling_modes
        )
        price = tick.ask if order.side is Side.BUY else tick.bid
        request = OrderRequest(
            TradeAction.DEAL, symbol, volume, order, price=price, filling=filling, deviation=100, **extra
        )
        result: OrderResult = await client.call("order_send", request)
        assert result.ok, result
        return result

    async def stored_deals(self, account_id: int) -> int:
        return await self.db.run(lambda tx: tx.deals.count(account_id), readonly=True)

    async def fresh(self, account: ManagedAccount) -> ManagedAccount:
        return await self.registry.get(account.id)


@pytest.fixture
def accounts_settings() -> AccountsSettings:
    """How P/L periods are cut (a test module may override this fixture)."""
    return AccountsSettings()


@pytest.fixture
async def harness(
    sim_server: Listener,
    admin: SimAdmin,
    client_factory: Callable[..., Any],
    data_dir: Path,
    accounts_settings: AccountsSettings,
) -> AsyncIterator[Harness]:
    db = Database(database_path(data_dir))
    await db.start()
    hub = EventHub()
    keyring = MemoryKeyring()
    registry = AccountRegistry(db, CredentialStore(keyring), hub=hub, settings=accounts_settings)
    found = Harness(admin, sim_server.address, registry, keyring, hub, client_factory, db)
    yield found
    for carousel in found.carousels:
        await carousel.stop()
    await db.stop()
