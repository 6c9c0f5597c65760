"""The conformance suite's targets: the simulator (always) and a real MetaTrader 5 terminal (with
``--real-terminal PATH`` on Windows and a demo account from the environment; see
tests/support/real_terminal.py). Every test runs once per target through the app's terminal layer —
a :class:`TerminalClient` over a real worker process — and records what it saw in ``facts``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import pytest

from app.models import AccountTradeMode, TerminalStatus
from app.mt5.client import TerminalClient
from app.mt5.protocol import WorkerSpec
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.clock import ScaledClock
from app.mt5.sim.listener import Listener
from app.mt5.sim.server import serve_in_thread
from app.retry import Backoff
from tests.support.real_terminal import RealTerminal, facts_of, real_terminal

SIM_ACCOUNT = (5_900_001, "Conformance-5900001")  # opened on the suite's own trade server
WEDNESDAY = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # the sim's markets are open


@dataclass(frozen=True)
class Target:
    """A terminal the suite runs against."""

    name: Literal["sim", "real"]
    path: str
    login: int
    password: str = field(repr=False)
    server: str
    symbol: str
    module: str = "app.mt5.sim"  # the MetaTrader5-compatible module the worker drives


@pytest.fixture(scope="session")
def sim_broker() -> Iterator[Listener]:
    """The simulator's trade server for the whole session, its clock on a weekday at wall speed."""
    with serve_in_thread(clock=ScaledClock(WEDNESDAY, 1.0), demo_history=False) as listener:
        with SimAdmin(listener.address) as admin:
            admin.create_account(*SIM_ACCOUNT, balance=100_000.0, leverage=100, hedging=True)
        yield listener


@pytest.fixture(scope="session", params=["sim", "real"])
def target(request: pytest.FixtureRequest) -> Target:
    if request.param == "sim":
        broker: Listener = request.getfixturevalue("sim_broker")
        login, password = SIM_ACCOUNT
        return Target(
            "sim", f"sim://{broker.address}/conformance", login, password, "SimBroker-Demo", "EURUSD"
        )
    found = real_terminal(request.config)
    if not isinstance(found, RealTerminal):
        pytest.skip(found)
    return Target("real", found.path, found.login, found.password, found.server, found.symbol, found.module)


class Observed:
    """Records facts for the target under test (see tests/support/real_terminal.Facts)."""

    def __init__(self, config: pytest.Config, target: Target) -> None:
        self._facts = facts_of(config)
        self._target = target.name

    def __call__(self, key: str, value: Any) -> Any:
        self._facts.record(self._target, key, value)
        return value

    def seen(self, key: str) -> Any:
        """What was recorded under ``key`` for this target."""
        return self._facts.by_target[self._target][key]


@pytest.fixture
def fact(request: pytest.FixtureRequest, target: Target) -> Observed:
    return Observed(request.config, target)


def worker_spec(target: Target, name: str = "conformance") -> WorkerSpec:
    kind: Literal["sim", "real"] = "sim" if target.name == "sim" else "real"
    return WorkerSpec(name, kind, path=target.path, module=target.module)


@pytest.fixture
async def terminal(target: Target) -> AsyncIterator[TerminalClient]:
    """The app's client for the target's terminal, logged in to the suite's demo account."""
    client = TerminalClient(
        worker_spec(target),
        call_timeout=30.0,
        login_timeout=90.0,
        health_interval=0.5,
        backoff=Backoff(initial=0.2, maximum=2.0, jitter=0.0),
    )
    await client.start()
    try:
        assert await client.wait_ready(120), f"the {target.name} terminal did not connect: {client.state}"
        await client.login(target.login, target.password, target.server)
        assert client.state.status is TerminalStatus.LOGGED_IN
        yield client
    finally:
        await client.stop()


@pytest.fixture
async def demo(terminal: TerminalClient, target: Target) -> TerminalClient:
    """The terminal, for a test that trades: only ever on a demo account."""
    account = await terminal.call("account")
    if account.trade_mode is not AccountTradeMode.DEMO:
        pytest.fail(
            f"{target.name}: account {account.login} is not a demo account; the suite trades only on one"
        )
    return terminal
