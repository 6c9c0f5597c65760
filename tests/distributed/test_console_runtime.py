"""A whole console (the headless app with ``[distributed] enabled``) on the store of nodes: its
``accounts`` and ``carousel`` Socket.IO channels and ``/api/carousel`` show the nodes' visits live."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from app.config import load_settings
from app.core.credentials import CredentialStore
from app.distributed.console import DistributedCarousel
from app.logs import LogBus
from app.mt5.backend import plan_terminals
from app.runtime import Runtime
from app.server.auth import set_admin_password
from tests.distributed.conftest import FAST, Cluster
from tests.server.conftest import ADMIN, PASSWORD
from tests.support.keyrings import MemoryKeyring
from tests.support.sim_fixtures import WEDNESDAY, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


class Recorder:
    """A real Socket.IO client that keeps what it gets, by event."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: dict[str, list[Any]] = {}
        for name in ("subscribed", "accounts_update", "carousel_update"):
            self.sio.on(name, self._keep(name))

    def _keep(self, name: str) -> Any:
        async def keep(data: Any = None) -> None:
            self.events.setdefault(name, []).append(data)

        return keep

    def got(self, name: str) -> list[Any]:
        return self.events.get(name, [])

    async def connect_url(self, url: str, token: str) -> None:
        await self.sio.connect(url, auth={"token": token}, wait_timeout=10)


async def test_the_accounts_channel_of_a_console_carries_every_nodes_visits(
    cluster: Cluster, tmp_path: Path
) -> None:
    accounts = [await cluster.account() for _ in range(3)]
    cluster.give("n1", *accounts)
    data_dir = tmp_path / "console"
    data_dir.mkdir()
    (tmp_path / "config.toml").write_text("")
    settings = load_settings(
        {
            "data_dir": data_dir,
            "terminals": {"sim": True, **FAST["terminals"]},
            "sim": {"start": WEDNESDAY},
            "market": {"symbols": ["EURUSD"]},
            "server": {"enabled": True, "port": 0},
            "storage": {"url": cluster.url},
            "carousel": {**FAST["carousel"], "autostart": False},
            "distributed": FAST["distributed"],
        },
        config_file=tmp_path / "config.toml",
        env_file=None,
    )
    set_admin_password(data_dir, PASSWORD)
    log_bus = LogBus(100)
    runtime = Runtime(
        settings,
        log_bus,
        plan_terminals(settings.terminals),
        headless=True,
        credentials=CredentialStore(MemoryKeyring()),
    )
    await runtime.start()
    recorder = Recorder()
    try:
        assert isinstance(runtime.carousel, DistributedCarousel)
        await runtime.carousel.listener.connected.wait()
        async with httpx.AsyncClient(base_url=runtime.server.url or "", timeout=30) as http:
            token = (await http.post("/api/login", json={"username": ADMIN, "password": PASSWORD})).json()[
                "token"
            ]
            headers = {"Authorization": f"Bearer {token}"}
            await recorder.connect_url(runtime.server.url or "", token)
            await recorder.sio.emit("subscribe", {"channels": ["accounts", "carousel"]})
            await wait_until(lambda: recorder.got("subscribed"))

            await cluster.node("n1", terminals=2, carousel={"autostart": False})
            started = await http.post("/api/carousel/start", headers=headers)
            assert started.status_code == 200 and started.json()["running"] is True

            def visited() -> set[int]:
                return {u["id"] for u in recorder.got("accounts_update") if u.get("status") == "ok"}

            await wait_until(lambda: visited() == {a.id for a in accounts}, within_s=60)
            updates = [u for u in recorder.got("accounts_update") if u.get("status") == "ok"]
            assert all(u["balance"] == 10_000.0 and u["last_snapshot_at"] for u in updates)
            await wait_until(
                lambda: any(c.get("visited_in_cycle") == 3 for c in recorder.got("carousel_update"))
            )
            progress = (await http.get("/api/carousel", headers=headers)).json()
            assert progress["running"] is True and progress["cycle"] >= 1
            assert "n1 (2 terminal(s), 3 account(s))" in progress["note"]
    finally:
        if recorder.sio.connected:
            await recorder.sio.disconnect()
        await runtime.stop()
        logging.getLogger("app").removeHandler(log_bus)
