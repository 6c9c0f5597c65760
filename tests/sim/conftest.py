"""Fixtures for the simulator: a trade server in a thread with a manual clock, and terminals on it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.clock import ManualClock
from app.mt5.sim.listener import Listener
from app.mt5.sim.server import serve_in_thread
from app.mt5.sim.terminal import SimTerminal

# A Wednesday at noon: every market is open, the London/New York overlap is an hour away.
WEDNESDAY_NOON = datetime(2025, 6, 4, 12, 0, 0, tzinfo=UTC)
SEED = 4242
FRESH_LOGIN, FRESH_PASSWORD = 5001006, "Demo-1006"  # the demo account without positions


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(WEDNESDAY_NOON)


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[Listener]:
    """A trade server in this process (demo accounts without months of history: fast to start)."""
    listener = serve_in_thread(seed=SEED, clock=clock, demo_history=False)
    yield listener
    listener.stop()


@pytest.fixture
def admin(sim: Listener) -> Iterator[SimAdmin]:
    with SimAdmin(sim.address) as client:
        yield client


_accounts = iter(range(7_000_000, 8_000_000))


def new_account(admin: SimAdmin, **options: object) -> tuple[int, str]:
    """A fresh account on the server (USD, hedging, 1:100, 10,000 unless told otherwise)."""
    login = next(_accounts)
    password = f"pw-{login}"
    admin.create_account(login, password, **options)
    return login, password


def connect(
    sim: Listener,
    name: str = "t1",
    login: int = FRESH_LOGIN,
    password: str = FRESH_PASSWORD,
    timeout: int | None = None,
) -> SimTerminal:
    terminal = SimTerminal()
    ok = terminal.initialize(f"{sim.url}/{name}", login=login, password=password, timeout=timeout)
    assert ok, terminal.last_error()
    return terminal


@pytest.fixture
def terminal(sim: Listener) -> Iterator[SimTerminal]:
    """A terminal logged in to the fresh demo account (USD, hedging, 1:30, 100,000)."""
    term = connect(sim)
    yield term
    term.shutdown()
