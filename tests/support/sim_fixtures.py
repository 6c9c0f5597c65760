"""Fixtures (a pytest plugin, see tests/conftest.py): a trade server in this process, its clock on a
weekday so FX trades, and terminal clients whose workers are real processes connected to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from app.models import TerminalState, TerminalStatus, TickBatch
from app.mt5.client import TerminalClient
from app.mt5.protocol import WorkerSpec
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.clock import ManualClock, ScaledClock
from app.mt5.sim.listener import Listener
from app.mt5.sim.server import serve_in_thread
from app.mt5.terminal_ops import TerminalOps
from app.retry import Backoff

# A Wednesday morning: every symbol trades. The clock runs at wall speed from there.
WEDNESDAY = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


@pytest.fixture
def sim_clock() -> ScaledClock:
    return ScaledClock(WEDNESDAY, speed=1.0)


@pytest.fixture
def sim_server(sim_clock: ScaledClock) -> Iterator[Listener]:
    with serve_in_thread(clock=sim_clock, demo_history=False) as listener:
        yield listener


@pytest.fixture
def admin(sim_server: Listener) -> Iterator[SimAdmin]:
    with SimAdmin(sim_server.address) as client:
        yield client


@dataclass
class Recorder:
    """Collects what a client reports: its states and every tick it streams."""

    states: list[TerminalState] = field(default_factory=list)
    batches: list[TickBatch] = field(default_factory=list)

    def on_state(self, state: TerminalState) -> None:
        self.states.append(state)

    def on_ticks(self, batches: tuple[TickBatch, ...]) -> None:
        self.batches.extend(batches)

    def statuses(self) -> list[TerminalStatus]:
        return [s.status for s in self.states]

    def times(self, symbol: str) -> list[int]:
        return [t for b in self.batches if b.symbol == symbol for t in b.time_msc.tolist()]

    def ticks(self, symbol: str) -> list[tuple[int, float, float]]:
        return [
            (int(t), float(bid), float(ask))
            for b in self.batches
            if b.symbol == symbol
            for t, bid, ask in zip(b.time_msc, b.bid, b.ask, strict=True)
        ]


@contextmanager
def terminal_in_process(name: str) -> Iterator[TerminalOps]:
    """The simulator driven in this process on a manual clock (a Wednesday noon: prices hold still),
    logged in to the demo account, through the operations the worker runs."""
    import app.mt5.sim as sim_module

    clock = ManualClock(datetime(2026, 11, 18, 12, 0, tzinfo=UTC))
    with serve_in_thread(clock=clock, demo_history=False) as server:
        assert sim_module.initialize(f"sim://{server.address}/{name}", login=5001006, password="Demo-1006",
                                     server="SimBroker-Demo")  # fmt: skip
        try:
            yield TerminalOps(sim_module)
        finally:
            sim_module.shutdown()


async def wait_until(predicate: object, within_s: float = 20.0, interval: float = 0.05) -> None:
    """Poll ``predicate()`` on the loop until true (the client works in the background)."""
    deadline = asyncio.get_running_loop().time() + within_s
    while not predicate():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within_s}s")
        await asyncio.sleep(interval)


@pytest.fixture
async def client_factory(sim_server: Listener) -> AsyncIterator[object]:
    clients: list[TerminalClient] = []

    async def make(
        name: str = "t1", call_timeout: float = 5.0, **kwargs: object
    ) -> tuple[TerminalClient, Recorder]:
        recorder = Recorder()
        client = TerminalClient(
            WorkerSpec(name, "sim", path=f"sim://{sim_server.address}/{name}"),
            call_timeout=call_timeout,
            login_timeout=10.0,
            health_interval=0.3,
            backoff=kwargs.pop("backoff", None) or Backoff(initial=0.2, maximum=1.0, jitter=0.0),  # type: ignore[arg-type]
            on_state=recorder.on_state,
            on_ticks=recorder.on_ticks,
            **kwargs,  # type: ignore[arg-type]
        )
        clients.append(client)
        await client.start()
        assert await client.wait_ready(30), f"terminal {name} did not become ready"
        return client, recorder

    yield make
    await asyncio.gather(*(c.stop() for c in clients))
