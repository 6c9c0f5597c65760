"""A market that is closed (a weekend) still shows its last quote, as the terminal's Market Watch does,
while the tick stream rightly brings nothing for it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from app.core.hub import Delivery, Topic
from app.models import Quote
from app.mt5.sim.clock import ScaledClock
from tests.support.services import Services
from tests.support.sim_fixtures import wait_until

pytestmark = pytest.mark.slow

SATURDAY = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # forex closed since Friday 22:00; BTCUSD trades


@pytest.fixture
def sim_clock() -> ScaledClock:
    return ScaledClock(SATURDAY, speed=1.0)


async def test_a_closed_symbol_shows_its_last_quote_and_streams_nothing(services: Services) -> None:
    quotes = services.hub.subscribe(Topic.QUOTES)
    ticks = services.hub.subscribe(Topic.TICKS, Delivery.ALL)
    await services.market.subscribe(["EURUSD", "BTCUSD"])
    await wait_until(lambda: services.hub.latest(Topic.QUOTES, "EURUSD") is not None)
    eurusd: Quote = services.hub.latest(Topic.QUOTES, "EURUSD")
    assert eurusd.ask > eurusd.bid > 0 and eurusd.day_open > 0
    assert eurusd.time < SATURDAY  # Friday's last tick
    assert eurusd.time.weekday() == 4
    await wait_until(lambda: any(e.key == "BTCUSD" for e in ticks.drain()))  # the stream runs ...
    await asyncio.sleep(1.0)
    assert "EURUSD" not in {e.key for e in ticks.drain()}  # ... and nothing was made up for EURUSD
    assert services.hub.latest(Topic.QUOTES, "EURUSD") == eurusd
    assert {e.key for e in quotes.drain()} >= {"EURUSD", "BTCUSD"}
