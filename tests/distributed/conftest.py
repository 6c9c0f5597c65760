"""Nodes in this process over the simulated trade server and a private PostgreSQL store (the
multi-process tests start nodes as processes of their own: test_processes.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.config import Settings
from app.core.credentials import CredentialStore
from app.core.storage import Database
from app.distributed.node import Node
from app.models import ManagedAccount, NewAccount
from app.mt5.client import TerminalClient
from app.mt5.protocol import WorkerSpec
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.listener import Listener
from tests.support.keyrings import MemoryKeyring
from tests.support.sim_fixtures import wait_until

SERVER = "SimBroker-Demo"
FAST: dict[str, Any] = {
    "carousel": {
        "autostart": True,
        "cycle_interval_s": 0.0,
        "login_timeout_s": 5.0,
        "snapshot_timeout_s": 5.0,
        "deals_timeout_s": 5.0,
        "store_timeout_s": 10.0,
        "stop_grace_s": 5.0,
        "retry_initial_s": 60.0,
    },
    "terminals": {"call_timeout_s": 5.0, "login_timeout_s": 5.0},
    "distributed": {
        "enabled": True,
        "heartbeat_interval_s": 1.0,
        "heartbeat_timeout_s": 6.0,
        "planner_interval_s": 0.2,
    },
}


def node_settings(url: str, data_dir: Any, **sections: dict[str, Any]) -> Settings:
    data: dict[str, Any] = {key: dict(value) for key, value in FAST.items()}
    for section, values in sections.items():
        data[section] = {**data.get(section, {}), **values}
    data["storage"] = {"url": url}
    data["data_dir"] = data_dir
    return Settings.model_validate(data)


@dataclass
class Cluster:
    """A store, the sim trade server, and nodes made in this process."""

    url: str
    data_dir: Any
    admin: SimAdmin
    address: str
    db: Database
    nodes: list[Node] = field(default_factory=list)
    keyrings: dict[str, MemoryKeyring] = field(default_factory=dict)
    next_login: int = 7_300_001

    async def account(self, *, password: str | None = None, terminal: str | None = None) -> ManagedAccount:
        login = self.next_login
        self.next_login += 1
        secret = password or f"Pw-{login}"
        self.admin.create_account(login, secret, server=SERVER, balance=10_000.0)
        return await self.db.run(
            lambda tx: tx.accounts.insert(NewAccount(login, SERVER, terminal_id=terminal), _now())
        )

    def password(self, account: ManagedAccount) -> str:
        return f"Pw-{account.login}"

    def keyring(self, name: str) -> MemoryKeyring:
        return self.keyrings.setdefault(name, MemoryKeyring())

    def give(self, node: str, *accounts: ManagedAccount) -> None:
        """Put the accounts' passwords in node ``node``'s keyring (as `accounts set-password` does)."""
        store = CredentialStore(self.keyring(node))
        for account in accounts:
            store.store(account.login, account.server, self.password(account))

    async def node(self, name: str, terminals: int = 2, **sections: dict[str, Any]) -> Node:
        settings = node_settings(self.url, self.data_dir, **sections)
        clients = [
            TerminalClient(
                WorkerSpec(f"sim-{n}", "sim", path=f"sim://{self.address}/{name}-sim-{n}"),
                call_timeout=5,
                login_timeout=5,
            )
            for n in range(1, terminals + 1)
        ]
        node = Node(settings, clients, credentials=CredentialStore(self.keyring(name)), node_name=name)
        await node.start()
        self.nodes.append(node)
        await wait_until(lambda: all(c.state.connected for c in clients), within_s=60)
        return node

    async def stop(self, node: Node) -> None:
        self.nodes.remove(node)
        await node.stop()


def _now() -> Any:
    from app.core.times import utc_now

    return utc_now()


@asynccontextmanager
async def running_cluster(
    postgres_url: str, sim_server: Listener, admin: SimAdmin, data_dir: Any
) -> AsyncIterator[Cluster]:
    """A :class:`Cluster` whose nodes are stopped at the end (the fixture ``cluster``; other test
    packages make their own fixture of it)."""
    db = Database(postgres_url)
    await db.start()
    made = Cluster(postgres_url, data_dir, admin, sim_server.address, db)
    try:
        yield made
    finally:
        for node in list(made.nodes):
            await made.stop(node)
        await db.stop()


@pytest.fixture
async def cluster(
    postgres_url: str, sim_server: Listener, admin: SimAdmin, data_dir: Any
) -> AsyncIterator[Cluster]:
    async with running_cluster(postgres_url, sim_server, admin, data_dir) as made:
        yield made


Wait = Callable[..., Any]
