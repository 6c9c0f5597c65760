"""Strategies kept (:class:`StrategyBook`: the ``strategies`` table, every change audited) and run
(:class:`StrategyRunner`: each enabled strategy on the hub's live bars, one signal per closed bar,
handed to the signals service like any other signal — validated, decided by its mode, never around
the trading service)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.audit import Action, AuditTrail
from app.core.hub import Delivery, EventHub, Subscription, Topic
from app.core.signals.strategies import HISTORY_BARS, Bars, Strategy, discover, make
from app.core.storage import Database
from app.core.times import utc_now
from app.models import Bar, BarUpdate, TerminalError, Timeframe
from app.models.signals import Signal, SignalAction, StrategyConfig

log = logging.getLogger(__name__)

RELOAD_S = 5.0  # changes made elsewhere (the command line) are picked up this soon


class StrategyError(ValueError):
    """A strategy change that cannot be made; ``field`` names the culprit."""

    def __init__(self, message: str, field: str = "", status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


class StrategyBook:
    """The configured strategies (shared by the window, REST and ``mt5-console strategies``)."""

    def __init__(
        self, db: Database, audit: AuditTrail, *, folder: Path | None = None,
        kinds: Mapping[str, type[Any]] | None = None,
    ) -> None:  # fmt: skip
        self._db = db
        self._audit = audit
        self._folder = folder
        self._kinds = dict(kinds) if kinds is not None else None
        self.on_change: Callable[[], None] | None = None

    @property
    def kinds(self) -> dict[str, type[Any]]:
        """The built-in and plugin kinds (plugins are loaded at the first use, not at construction)."""
        if self._kinds is None:
            self._kinds = discover(self._folder)
        return self._kinds

    async def all(self) -> list[StrategyConfig]:
        return await self._db.run(lambda tx: tx.strategies.all(), readonly=True)

    async def get(self, sid: str) -> StrategyConfig:
        found = await self._db.run(lambda tx: tx.strategies.get(sid), readonly=True)
        if found is None:
            raise StrategyError(f"no strategy {sid}", "id", 404)
        return found

    def check(self, config: StrategyConfig) -> None:
        kind = self.kinds.get(config.kind)
        if kind is None:
            known = ", ".join(sorted(self.kinds))
            raise StrategyError(f"kind: no strategy kind {config.kind!r} (known: {known})", "kind")
        if config.timeframe not in Timeframe.__members__:
            raise StrategyError(
                f"timeframe: {config.timeframe!r} is not a timeframe (M1, H1, D1...)", "timeframe"
            )
        try:
            make(kind, config.params)
        except (TypeError, ValueError) as exc:
            raise StrategyError(f"params: {exc}", "params") from None

    async def put(self, config: StrategyConfig, *, actor: str) -> StrategyConfig:
        """Add or replace a strategy (checked: its kind exists and takes these parameters)."""
        self.check(config)
        config = config.with_changes(updated_at=utc_now())
        before = await self._db.run(lambda tx: tx.strategies.get(config.id), readonly=True)
        await self._db.run(lambda tx: tx.strategies.put(config))
        await self._audit.append(
            actor,
            Action.STRATEGY_CHANGE,
            payload={"id": config.id, "old": before.to_json() if before else None, "new": config.to_json()},
        )
        if self.on_change is not None:
            self.on_change()
        return config

    async def change(self, sid: str, *, actor: str, **changes: Any) -> StrategyConfig:
        current = await self.get(sid)
        return await self.put(current.with_changes(**changes), actor=actor)

    async def enable(self, sid: str, *, actor: str) -> StrategyConfig:
        return await self.change(sid, actor=actor, enabled=True)

    async def disable(self, sid: str, *, actor: str) -> StrategyConfig:
        return await self.change(sid, actor=actor, enabled=False)


@dataclass
class _Running:
    config: StrategyConfig
    strategy: Strategy
    history: deque[Bar] = field(default_factory=lambda: deque(maxlen=HISTORY_BARS))

    @property
    def key(self) -> tuple[str, Timeframe]:
        return self.config.symbol, Timeframe[self.config.timeframe]


class StrategyRunner:
    """Runs the enabled strategies on the live bars (a service of the runtime)."""

    name = "strategies"

    def __init__(
        self, book: StrategyBook, hub: EventHub, market_data: Any, submit: Callable[..., Any]
    ) -> None:
        self.book = book
        self._hub = hub
        self._market = market_data
        self._submit = submit
        self._running: dict[str, _Running] = {}
        self._subscription: Subscription | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._changed = asyncio.Event()
        self.emitted = 0
        book.on_change = self._changed.set

    async def start(self) -> None:
        self._subscription = self._hub.subscribe(Topic.BARS, Delivery.ALL, maxlen=10_000)
        self._tasks = [
            asyncio.create_task(self._pump(self._subscription), name="strategies-bars"),
            asyncio.create_task(self._keep_in_sync(), name="strategies-sync"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._subscription is not None:
            self._subscription.close()
        for sid in list(self._running):
            self._deactivate(sid)

    @property
    def running(self) -> list[StrategyConfig]:
        return [r.config for r in self._running.values()]

    # ------------------------------------------------------------------ which run
    async def _keep_in_sync(self) -> None:
        while True:
            try:
                await self.sync()
            except Exception:
                log.exception("strategies could not be brought in line with their settings")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), RELOAD_S)
            except TimeoutError:
                pass

    async def sync(self) -> None:
        """Run exactly the enabled strategies, each as configured now."""
        wanted = {c.id: c for c in await self.book.all() if c.enabled}
        for sid, running in list(self._running.items()):
            if sid not in wanted or wanted[sid] != running.config:
                self._deactivate(sid)
        for sid, config in wanted.items():
            if sid not in self._running:
                await self._activate(config)

    async def _activate(self, config: StrategyConfig) -> None:
        try:
            strategy = make(self.book.kinds[config.kind], config.params)
        except (KeyError, TypeError, ValueError) as exc:
            log.error("strategy %s not started: %s", config.id, exc)
            return
        running = _Running(config, strategy)
        symbol, timeframe = running.key
        try:
            await self._market.watch_bars(symbol, timeframe)
            series = await self._market.bars(symbol, timeframe, HISTORY_BARS + 1)
        except TerminalError as exc:
            log.warning("strategy %s waits for the terminal: %s", config.id, exc)
            return
        live = self._market.live_bar(symbol, timeframe)
        forming = live.current.time if live is not None and live.current is not None else None
        for i in range(len(series)):
            bar = series.bar(i)
            if forming is None or bar.time < forming:
                running.history.append(bar)
        self._running[config.id] = running
        log.info("strategy %s (%s) runs on %s %s", config.id, config.kind, symbol, timeframe.name)

    def _deactivate(self, sid: str) -> None:
        running = self._running.pop(sid, None)
        if running is not None:
            symbol, timeframe = running.key
            self._market.unwatch_bars(symbol, timeframe)

    # ------------------------------------------------------------------ the bars
    async def _pump(self, subscription: Subscription) -> None:
        async for events in subscription:
            for event in events:
                update: BarUpdate = event.value
                for bar in update.closed:
                    await self.on_closed_bar(update.symbol, update.timeframe, bar)

    async def on_closed_bar(self, symbol: str, timeframe: Timeframe, bar: Bar) -> list[Signal]:
        """Each strategy on (symbol, timeframe) sees the bar once; the signals it gave."""
        given = []
        for running in list(self._running.values()):
            if running.key != (symbol, timeframe):
                continue
            if running.history and bar.time <= running.history[-1].time:
                continue  # seen already (a late duplicate)
            running.history.append(bar)
            try:
                call = running.strategy.on_bar(Bars.of(list(running.history)))
            except Exception:
                log.exception("strategy %s failed on the bar of %d", running.config.id, bar.time)
                continue
            if call not in ("buy", "sell"):
                continue
            signal = self.signal_for(running.config, bar, call)
            given.append(signal)
            self.emitted += 1
            try:
                await self._submit(signal, mode=running.config.mode, actor=running.config.source)
            except Exception:
                log.exception("signal %s of strategy %s was not taken", signal.uuid, running.config.id)
        return given

    @staticmethod
    def signal_for(config: StrategyConfig, bar: Bar, call: str) -> Signal:
        timeframe = Timeframe[config.timeframe]
        return Signal(
            uuid=f"{config.id}-{bar.time}",
            source=config.source,
            action=SignalAction(call),
            symbol=config.symbol,
            volume=config.volume,
            price=bar.close,
            comment=config.kind,
            timestamp=datetime.fromtimestamp(bar.time + timeframe.seconds, tz=UTC),
        )
