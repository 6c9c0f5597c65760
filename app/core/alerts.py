"""Price alerts, checked in the core on every tick of the stream (never in a widget).

An alert watches one symbol's bid or ask against a price. Every tick of a batch is looked at, so a
spike that crosses the level and comes back between two screen refreshes still fires it. A one-shot
alert fires once and stays listed (with ``fired_at``) until deleted; a repeating one fires each time its
condition becomes true again, no more often than ``repeat_interval_s`` (judged on the ticks' own
times, so a sim clock drives it). Firing is stored, written to the Journal and published on the hub's
``alerts`` topic, which the window (toast, sound) and the server's ``alerts`` event read.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import numpy as np

from app.config import AlertsSettings
from app.core.hub import Delivery, EventHub, Subscription, Topic
from app.core.market_data import MarketData
from app.core.storage import Database
from app.core.times import utc_now
from app.models import Alert, AlertCondition, AlertEvent, RejectedError, TemporaryError, TickBatch
from app.retry import Backoff

log = logging.getLogger(__name__)

MAX_NOTE_LENGTH = 200
HOLDER = "alerts"  # what keeps the alerts' symbols in the quote stream (see MarketData.hold)


class AlertError(ValueError):
    """An alert that cannot be set as asked; ``field`` names what is wrong."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class AlertService:
    """The alerts: kept in the database, watched on the tick stream, fired into the hub."""

    name = "alerts"

    def __init__(
        self,
        db: Database,
        hub: EventHub,
        market_data: MarketData,
        settings: AlertsSettings,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self._hub = hub
        self._market = market_data
        self.settings = settings
        self._clock = clock
        self._alerts: dict[int, Alert] = {}
        self._watching: dict[str, list[int]] = {}  # symbol -> its active alerts' ids (the tick path)
        self._armed: dict[int, bool] = {}  # a repeating alert fires again once its condition was false
        self._last_fired_msc: dict[int, int] = {}
        self._subscription: Subscription | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._watcher: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        stored = await self._db.run(lambda tx: tx.alerts.all(), readonly=True)
        self._alerts = {a.id: a for a in stored}
        self._reindex()
        self._subscription = self._hub.subscribe(Topic.TICKS, Delivery.ALL, maxlen=10_000)
        self._watcher = asyncio.create_task(self._watch(self._subscription), name="alerts-watch")
        self._follow(sorted(self._watching))

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
            self._watcher = None
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
        pending = list(self._tasks)
        for task in pending:
            if task.get_name().startswith("alerts-follow"):
                task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)  # fired alerts' rows are written

    # ------------------------------------------------------------------ what callers do
    def alerts(self) -> list[Alert]:
        return sorted(self._alerts.values(), key=lambda a: a.id)

    def get(self, alert_id: int) -> Alert | None:
        return self._alerts.get(alert_id)

    async def create(
        self,
        symbol: str,
        condition: AlertCondition | str,
        price: float,
        *,
        repeat: bool = False,
        note: str = "",
        actor: str = "gui",
    ) -> Alert:
        """Set an alert; :class:`AlertError` (naming the field) if it cannot be, and nothing is stored."""
        symbol = symbol.strip()
        if not symbol:
            raise AlertError("an alert needs a symbol", "symbol")
        try:
            condition = AlertCondition(condition)
        except ValueError:
            choices = ", ".join(c.value for c in AlertCondition)
            raise AlertError(f"unknown condition {condition!r}: one of {choices}", "condition") from None
        if not (isinstance(price, int | float) and math.isfinite(price) and price > 0):
            raise AlertError(f"the price must be a positive number, not {price!r}", "price")
        if len(note) > MAX_NOTE_LENGTH:
            raise AlertError(f"the note is longer than {MAX_NOTE_LENGTH} characters", "note")
        if len(self._alerts) >= self.settings.max_alerts:
            raise AlertError(
                f"{self.settings.max_alerts} alerts are set already (alerts.max_alerts): delete some first",
                "symbol",
            )
        try:
            spec = await self._market.spec(symbol)
        except RejectedError:
            raise AlertError(
                f"unknown symbol {symbol!r}: the terminal has no such symbol", "symbol"
            ) from None
        price = round(float(price), spec.digits)
        if price <= 0:
            raise AlertError(
                f"the price rounds to 0 at {spec.name}'s {spec.digits} digits: give one the symbol can have",
                "price",
            )
        now = self._clock()
        alert = await self._db.run(
            lambda tx: tx.alerts.insert(spec.name, condition, price, repeat, now, note=note, created_by=actor)
        )
        self._alerts[alert.id] = alert
        self._reindex()
        log.info("alert #%d set: %s %s %s (%s)", alert.id, alert.symbol, condition.describe(),
                 _price(price, spec.digits), "every time" if repeat else "once")  # fmt: skip
        self._hub.publish(Topic.ALERTS, AlertEvent("created", alert), key=alert.id)
        self._follow([alert.symbol])
        return alert

    async def delete(self, alert_id: int, *, actor: str = "gui") -> bool:
        """Delete an alert; False if there is none with that id (nothing changes)."""
        alert = self._alerts.get(alert_id)
        if alert is None:
            return False
        await self._db.run(lambda tx: tx.alerts.delete(alert_id))
        self._alerts.pop(alert_id, None)
        self._armed.pop(alert_id, None)
        self._last_fired_msc.pop(alert_id, None)
        log.info("alert #%d deleted (%s %s)", alert_id, alert.symbol, alert.condition.describe())
        self._hub.publish(Topic.ALERTS, AlertEvent("deleted", alert), key=alert_id)
        self._reindex()
        return True

    # ------------------------------------------------------------------ watching the ticks
    async def _watch(self, subscription: Subscription) -> None:
        async for events in subscription:
            for event in events:
                batch: TickBatch = event.value
                try:
                    self.check(batch)
                except Exception:  # one bad batch must not end the watch
                    log.exception("alerts: checking %s's ticks failed", batch.symbol)

    def check(self, batch: TickBatch) -> list[Alert]:
        """Fire the alerts this batch of ticks meets; returns them as fired."""
        fired: list[Alert] = []
        for alert_id in self._watching.get(batch.symbol, ()):
            alert = self._alerts[alert_id]
            hit = self._first_hit(alert, batch)
            if hit is not None:
                fired.append(self._fire(alert, batch, hit))
        return fired

    def _first_hit(self, alert: Alert, batch: TickBatch) -> int | None:
        values = batch.bid if alert.condition.side == "bid" else batch.ask
        known = values > 0
        met = known & ((values >= alert.price) if alert.condition.above else (values <= alert.price))
        if not alert.repeat:
            hits = np.flatnonzero(met)
            return int(hits[0]) if len(hits) else None
        armed = self._armed.get(alert.id, True)
        before = np.concatenate(([not armed], met[:-1]))
        starts = np.flatnonzero(met & ~before)  # where the condition becomes true
        if len(met) and bool(known[-1]):
            self._armed[alert.id] = not bool(met[-1])
        last = self._last_fired_msc.get(alert.id)
        gap_ms = self.settings.repeat_interval_s * 1000
        for index in starts:
            if last is None or int(batch.time_msc[index]) - last >= gap_ms:
                return int(index)
        return None

    def _fire(self, alert: Alert, batch: TickBatch, index: int) -> Alert:
        value = float((batch.bid if alert.condition.side == "bid" else batch.ask)[index])
        self._last_fired_msc[alert.id] = int(batch.time_msc[index])
        now = self._clock()
        fired = replace(alert, fired_at=now, fired_price=value, fire_count=alert.fire_count + 1)
        self._alerts[alert.id] = fired
        self._write(lambda tx: tx.alerts.fired(alert.id, now, value))
        spec = self._market.cached_spec(alert.symbol)
        digits = spec.digits if spec else 5
        log.warning("Alert #%d: %s %s %s reached %s (%s %s)%s", alert.id, alert.symbol,
                    alert.condition.side, _price(value, digits), _price(alert.price, digits),
                    alert.condition.describe(), _price(alert.price, digits),
                    f": {alert.note}" if alert.note else "")  # fmt: skip
        self._hub.publish(Topic.ALERTS, AlertEvent("fired", fired), key=alert.id)
        if not fired.active:
            self._reindex()
        return fired

    # ------------------------------------------------------------------ plumbing
    def _write(self, fn: Callable[..., object]) -> None:
        """Store a firing without holding up the tick stream (stop() waits for it)."""

        async def write() -> None:
            try:
                await self._db.run(fn)
            except Exception:
                log.exception("alerts: a firing could not be stored")

        self._spawn(write(), "alerts-write")

    def _reindex(self) -> None:
        """Which alerts each symbol's ticks are checked against, and the symbols kept in the stream."""
        watching: dict[str, list[int]] = {}
        for alert in self._alerts.values():
            if alert.active:
                watching.setdefault(alert.symbol, []).append(alert.id)
        self._watching = watching
        self._market.hold(HOLDER, watching)

    def _follow(self, symbols: list[str]) -> None:
        """Subscribe the alerts' symbols as soon as the terminal allows."""
        if symbols:
            self._spawn(self._subscribe(symbols), "alerts-follow")

    async def _subscribe(self, symbols: list[str]) -> None:
        backoff = Backoff(initial=1.0, maximum=30.0)
        while True:
            try:
                await self._market.subscribe(symbols, strict=False)
                return
            except TemporaryError as exc:
                log.debug("alerts wait for the terminal to follow %s: %s", ", ".join(symbols), exc)
            await asyncio.sleep(backoff.next_delay())

    def _spawn(self, coro: object, name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro, name=name)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _price(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"
