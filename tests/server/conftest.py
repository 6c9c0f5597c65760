"""A real app runtime (sim trade server and terminal worker processes, audit trail, database) with the
API server on a free loopback port, shared by a test module; real clients talk to it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from app.audit import AuditQuery, AuditReader, audit_dir
from app.config import load_settings
from app.core.credentials import CredentialStore
from app.logs import LogBus
from app.mt5.backend import plan_terminals
from app.runtime import Runtime
from app.server.auth import set_admin_password
from tests.support.keyrings import MemoryKeyring
from tests.support.sim_fixtures import WEDNESDAY, wait_until

ADMIN = "admin"
PASSWORD = "correct horse battery"  # noqa: S105 - the tests' own


@dataclass
class Running:
    runtime: Runtime
    url: str
    data_dir: Path
    keyring: MemoryKeyring
    log_bus: LogBus

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30, **kwargs)

    async def login(self) -> str:
        async with self.client() as http:
            answer = await http.post("/api/login", json={"username": ADMIN, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["token"]
        return token

    def sent(self, client_id: str) -> dict[str, Any]:
        """What the order with this client id was sent as: its intent in the audit trail (price, SL,
        TP, deviation), the reference its points-given stops are measured from."""
        entries = AuditReader(audit_dir(self.data_dir)).query(AuditQuery(action="order.intent"))
        (payload,) = [e.payload for e in entries if e.payload.get("client_id") == client_id]
        return dict(payload)


def server_settings(
    data_dir: Path,
    config_dir: Path,
    sim: dict[str, Any] | None = None,
    *,
    sections: dict[str, Any] | None = None,
    **server: Any,
) -> Any:
    """Settings for a sim run on a Wednesday (FX trades), the server on a free port (``sim``: more
    simulator settings, e.g. a faster clock; ``sections``: more settings, e.g. ``{"signals": {...}}``)."""
    config = config_dir / "config.toml"
    config.write_text("", encoding="utf-8")
    overrides = {
        "data_dir": data_dir,
        "terminals": {"sim": True, "call_timeout_s": 10},
        "sim": {"start": WEDNESDAY, **(sim or {})},
        "market": {"symbols": ["EURUSD", "GBPUSD", "USDJPY"], "account_refresh_s": 0.2},
        "server": {"enabled": True, "port": 0, **server},
        **(sections or {}),
    }
    return load_settings(overrides, config_file=config, env_file=None)


async def start_runtime(
    tmp: Path,
    *,
    password: bool = True,
    sim: dict[str, Any] | None = None,
    sections: dict[str, Any] | None = None,
    **server: Any,
) -> Running:
    data_dir = tmp / "data"
    data_dir.mkdir()
    settings = server_settings(data_dir, tmp, sim, sections=sections, **server)
    if password:
        set_admin_password(data_dir, PASSWORD)
    keyring = MemoryKeyring()
    log_bus = LogBus(500)
    logging.getLogger("app").addHandler(log_bus)
    runtime = Runtime(
        settings,
        log_bus,
        plan_terminals(settings.terminals),
        headless=True,
        credentials=CredentialStore(keyring),
    )
    try:
        await runtime.start()
    except BaseException:
        logging.getLogger("app").removeHandler(log_bus)
        raise
    assert runtime.server.url is not None
    await wait_until(lambda: runtime.account_state.account is not None, within_s=60)
    return Running(runtime, runtime.server.url, data_dir, keyring, log_bus)


async def stop_runtime(running: Running) -> None:
    logging.getLogger("app").removeHandler(running.log_bus)
    await running.runtime.stop()


class Captured(logging.Handler):
    """Every log record of the process while a test runs (the server runs in it)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(r.getMessage() + ("\nTraceback" if r.exc_info else "") for r in self.records)

    def noise(self) -> list[logging.LogRecord]:
        """Warnings, errors and tracebacks of the server side: the Socket.IO and Engine.IO layers,
        uvicorn, asyncio (lost task errors) and the app's server package. (Not the INFO line a
        connection makes.)"""
        sources = ("engineio", "socketio", "uvicorn", "asyncio", "app.server")
        return [
            r
            for r in self.records
            if r.name.startswith(sources) and (r.levelno >= logging.WARNING or r.exc_info)
        ]


@pytest.fixture
def server_log() -> Iterator[Captured]:
    handler = Captured()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    started = await start_runtime(tmp_path_factory.mktemp("server"))
    yield started
    await stop_runtime(started)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def token(running: Running) -> str:
    return await running.login()
