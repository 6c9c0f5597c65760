"""Price alerts in the core: set on a symbol the terminal has, watched on every tick of the stream,
fired once (or every time, no more often than the interval), stored, and announced on the hub."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest

from app.config import AlertsSettings
from app.core.alerts import AlertError, AlertService
from app.core.hub import Delivery, Topic
from app.models import AlertCondition, Quote, TickBatch
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.clock import ManualClock
from tests.support.services import Services
from tests.support.sim_fixtures import WEDNESDAY, wait_until

pytestmark = pytest.mark.asyncio


@pytest.fixture
def sim_clock() -> ManualClock:
    """Time moves only when a test says so: ticks come exactly when it advances the clock."""
    return ManualClock(WEDNESDAY)


@pytest.fixture
async def alerts(services: Services) -> AsyncIterator[AlertService]:
    service = AlertService(services.db, services.hub, services.market, AlertsSettings(repeat_interval_s=60))
    await service.start()
    yield service
    await service.stop()


def batch(symbol: str, times_s: list[float], bids: list[float], spread: float = 0.0001) -> TickBatch:
    """Ticks at WEDNESDAY + ``times_s`` with these bids (the ask ``spread`` above)."""
    base = int(WEDNESDAY.timestamp() * 1000)
    bid = np.array(bids, dtype=np.float64)
    return TickBatch(
        symbol,
        np.array([base + int(t * 1000) for t in times_s], dtype=np.int64),
        bid,
        bid + spread,
        np.zeros(len(bids)),
        np.zeros(len(bids)),
        np.full(len(bids), 6, dtype=np.int64),
    )


async def _quote(services: Services, symbol: str) -> Quote:
    await services.market.subscribe([symbol])
    await wait_until(lambda: services.market.quote(symbol) is not None)
    quote = services.market.quote(symbol)
    assert quote is not None
    return quote


async def test_a_one_shot_alert_fires_once_on_the_stream_and_is_stored(
    services: Services, alerts: AlertService, admin: SimAdmin
) -> None:
    quote = await _quote(services, "EURUSD")
    events = services.hub.subscribe(Topic.ALERTS, Delivery.ALL)
    alert = await alerts.create("EURUSD", "bid_below", quote.bid + 0.01, note="under the moon")
    assert alert.price == round(quote.bid + 0.01, 5) and alert.fired_at is None and alert.active
    assert [e.value.kind for e in events.drain()] == ["created"]

    admin.advance(5)  # the clock moves: ticks, every one of them under the alert's price
    await wait_until(lambda: alerts.get(alert.id).fire_count > 0)  # type: ignore[union-attr]
    admin.advance(30)
    await wait_until(lambda: services.market.quote("EURUSD").time_msc > quote.time_msc + 30_000)  # type: ignore[union-attr]
    await asyncio.sleep(0.2)
    fired = alerts.get(alert.id)
    assert fired is not None and fired.fire_count == 1 and not fired.active
    assert fired.fired_price is not None and fired.fired_price <= fired.price
    assert [e.value.kind for e in events.drain()] == ["fired"]

    stored = await services.db.run(lambda tx: tx.alerts.all(), readonly=True)
    assert [(a.id, a.fire_count, a.note, a.fired_at is not None) for a in stored] == [
        (alert.id, 1, "under the moon", True)
    ]


async def test_alerts_come_back_after_a_restart_and_a_fired_one_stays_quiet(
    services: Services, alerts: AlertService
) -> None:
    await _quote(services, "EURUSD")
    once = await alerts.create("EURUSD", "bid_above", 1.2)
    every = await alerts.create("EURUSD", "ask_below", 1.0, repeat=True)
    alerts.check(batch("EURUSD", [0], [1.25]))
    await alerts.stop()  # waits for the firing's row

    again = AlertService(services.db, services.hub, services.market, AlertsSettings())
    await again.start()
    try:
        assert [(a.id, a.fire_count, a.active) for a in again.alerts()] == [
            (once.id, 1, False),
            (every.id, 0, True),
        ]
        assert again.check(batch("EURUSD", [10], [1.3])) == []  # fired already: it does not again
    finally:
        await again.stop()


async def test_every_tick_counts_a_spike_between_two_quotes_fires(
    services: Services, alerts: AlertService
) -> None:
    await _quote(services, "EURUSD")
    alert = await alerts.create("EURUSD", AlertCondition.BID_ABOVE, 1.1)
    # The batch's last tick (what a conflated quote would show) is back under the level.
    fired = alerts.check(batch("EURUSD", [0, 0.1, 0.2], [1.09, 1.1003, 1.0998]))
    assert [(a.id, a.fired_price) for a in fired] == [(alert.id, 1.1003)]


async def test_a_repeating_alert_fires_each_time_the_condition_comes_back_and_not_oftener(
    services: Services, alerts: AlertService
) -> None:
    await _quote(services, "EURUSD")
    alert = await alerts.create("EURUSD", "bid_above", 1.1, repeat=True)
    assert len(alerts.check(batch("EURUSD", [0, 1], [1.11, 1.12]))) == 1  # true twice: one firing
    assert alerts.check(batch("EURUSD", [2], [1.13])) == []  # still true: not a new crossing
    assert alerts.check(batch("EURUSD", [3, 4], [1.09, 1.11])) == []  # again, but within 60 s
    assert len(alerts.check(batch("EURUSD", [70, 80], [1.09, 1.11]))) == 1  # again, after 60 s
    assert alerts.get(alert.id).fire_count == 2  # type: ignore[union-attr]
    assert alerts.check(batch("EURUSD", [200], [1.2])) == []  # never fell back under: no crossing


@pytest.mark.parametrize(
    ("condition", "price", "bids", "fires"),
    [
        ("bid_above", 1.1, [1.1], True),  # a touch counts
        ("bid_above", 1.1, [1.0999], False),
        ("bid_below", 1.1, [1.1], True),
        ("bid_below", 1.1, [1.1001], False),
        ("ask_above", 1.1, [1.0999], True),  # the ask is the bid + 0.0001
        ("ask_below", 1.1, [1.0999], True),
        ("ask_below", 1.1, [1.1], False),
    ],
)
async def test_each_condition_watches_its_own_price(
    services: Services, alerts: AlertService, condition: str, price: float, bids: list[float], fires: bool
) -> None:
    await _quote(services, "EURUSD")
    await alerts.create("EURUSD", condition, price)
    assert bool(alerts.check(batch("EURUSD", [0], bids))) is fires


async def test_another_symbols_ticks_and_an_empty_side_fire_nothing(
    services: Services, alerts: AlertService
) -> None:
    await _quote(services, "EURUSD")
    await alerts.create("EURUSD", "bid_below", 1.5)
    assert alerts.check(batch("GBPUSD", [0], [1.2])) == []
    assert alerts.check(batch("EURUSD", [0], [0.0], spread=0.0)) == []  # no bid yet is no price


@pytest.mark.parametrize(
    ("args", "field", "words"),
    [
        (("NOSUCH", "bid_above", 1.0), "symbol", "unknown symbol 'NOSUCH'"),
        (("", "bid_above", 1.0), "symbol", "needs a symbol"),
        (("EURUSD", "bid_over", 1.0), "condition", "unknown condition"),
        (("EURUSD", "bid_above", 0.0), "price", "positive number"),
        (("EURUSD", "bid_above", float("nan")), "price", "positive number"),
        (("EURUSD", "bid_above", -1.0), "price", "positive number"),
        (("EURUSD", "bid_above", 1e-300), "price", "rounds to 0 at EURUSD's 5 digits"),
    ],
)
async def test_a_bad_alert_is_refused_naming_the_field_and_nothing_is_stored(
    services: Services, alerts: AlertService, args: tuple[Any, ...], field: str, words: str
) -> None:
    with pytest.raises(AlertError) as refused:
        await alerts.create(*args)
    assert refused.value.field == field and words in refused.value.message
    assert alerts.alerts() == []
    assert await services.db.run(lambda tx: tx.alerts.count(), readonly=True) == 0


async def test_the_limit_on_alerts_is_a_setting(services: Services) -> None:
    service = AlertService(services.db, services.hub, services.market, AlertsSettings(max_alerts=2))
    await service.start()
    try:
        await service.create("EURUSD", "bid_above", 2.0)
        await service.create("EURUSD", "bid_above", 2.1)
        with pytest.raises(AlertError, match="alerts.max_alerts"):
            await service.create("EURUSD", "bid_above", 2.2)
        assert len(service.alerts()) == 2
    finally:
        await service.stop()


async def test_deleting_an_alert_stops_it_and_an_unknown_id_changes_nothing(
    services: Services, alerts: AlertService
) -> None:
    await _quote(services, "EURUSD")
    alert = await alerts.create("EURUSD", "bid_above", 1.1)
    assert await alerts.delete(999) is False and len(alerts.alerts()) == 1
    assert await alerts.delete(alert.id) is True
    assert alerts.alerts() == [] and alerts.check(batch("EURUSD", [0], [1.2])) == []
    assert await services.db.run(lambda tx: tx.alerts.count(), readonly=True) == 0


async def test_an_alerts_symbol_stays_in_the_stream_when_market_watch_drops_it(
    services: Services, alerts: AlertService
) -> None:
    await _quote(services, "GBPUSD")
    await alerts.create("GBPUSD", "bid_above", 5.0)
    assert "GBPUSD" in await services.market.unsubscribe(["GBPUSD"])
    await alerts.delete(alerts.alerts()[0].id)
    assert "GBPUSD" not in await services.market.unsubscribe(["GBPUSD"])
