"""The Accounts and Exposure tabs and the carousel progress widget: async tests run on the qasync loop
of tests/ui/conftest.py (asyncio on the Qt event loop, as in the app); the registry is
real (a fresh database, an in-memory keyring), the carousel a small fake unless a test needs the real
one over the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from app.config import AccountsSettings
from app.core.accounts import AccountRegistry
from app.core.credentials import SERVICE_NAME, CredentialStore
from app.core.hub import EventHub, Topic
from app.core.storage import Database, database_path
from app.models import AccountSnapshot, CarouselStatus, ManagedAccount, NewAccount
from tests.support.keyrings import MemoryKeyring


@dataclass
class FakeCarousel:
    """The carousel's controls as the tab calls them; records the calls, answers with a status it
    also publishes on the hub (as the real one does)."""

    hub: EventHub
    calls: list[str] = field(default_factory=list)
    current: CarouselStatus = field(default_factory=lambda: CarouselStatus(terminals=("sim-2",)))
    sync_error: Exception | None = None
    synced: AccountSnapshot | None = None

    def _set(self, **changes: Any) -> CarouselStatus:
        self.current = replace(self.current, **changes)
        self.hub.publish(Topic.CAROUSEL, self.current)
        return self.current

    async def run(self, actor: str) -> CarouselStatus:
        self.calls.append(f"run {actor}")
        return self._set(running=True, cycle=self.current.cycle + 1)

    async def halt(self, actor: str) -> CarouselStatus:
        self.calls.append(f"halt {actor}")
        return self._set(running=False, paused=False)

    def pause(self) -> None:
        self.calls.append("pause")
        self._set(paused=True)

    def resume(self) -> None:
        self.calls.append("resume")
        self._set(paused=False)

    def status(self) -> CarouselStatus:
        return self.current

    async def sync_now(self, account_id: int) -> AccountSnapshot:
        self.calls.append(f"sync {account_id}")
        if self.sync_error is not None:
            raise self.sync_error
        assert self.synced is not None
        return self.synced


@dataclass
class Registry:
    registry: AccountRegistry
    keyring: MemoryKeyring
    hub: EventHub
    db: Database

    def password_of(self, account: ManagedAccount | str) -> str | None:
        key = account if isinstance(account, str) else account.key
        return self.keyring.entries.get((SERVICE_NAME, key))

    async def add(self, login: int, alias: str = "", **extra: Any) -> ManagedAccount:
        return await self.registry.add(NewAccount(login, "Broker-Demo", alias=alias, **extra), f"pw-{login}")


@pytest.fixture
async def accounts(data_dir: Path) -> AsyncIterator[Registry]:
    db = Database(database_path(data_dir))
    await db.start()
    hub = EventHub()
    keyring = MemoryKeyring()
    registry = AccountRegistry(db, CredentialStore(keyring), hub=hub, settings=AccountsSettings())
    yield Registry(registry, keyring, hub, db)
    await db.stop()


@pytest.fixture
def carousel(accounts: Registry) -> FakeCarousel:
    return FakeCarousel(accounts.hub)


@asynccontextmanager
async def emitted(signal: Any, within: float = 5.0) -> AsyncIterator[list[Any]]:
    """``async with emitted(widget.signal) as args:`` — the block, then wait for the signal."""
    future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()

    def slot(*args: Any) -> None:
        if not future.done():
            future.set_result(list(args))

    signal.connect(slot)
    found: list[Any] = []
    try:
        yield found
        async with asyncio.timeout(within):
            found.extend(await future)
    finally:
        signal.disconnect(slot)
