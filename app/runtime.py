"""The app's services for one run, started in order and stopped in reverse: shared by both modes.

The window and ``--serve`` build the same :class:`Runtime`; only what sits on top (widgets or nothing)
differs. A service is anything with a ``name`` and async ``start``/``stop``; stopping never raises, so
one stuck service cannot keep the others (or the process) alive.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Protocol

from app.audit import AuditTrail
from app.config import Settings
from app.core.account_state import AccountState
from app.core.accounts import AccountRegistry
from app.core.alerts import AlertService
from app.core.audit_hooks import account_change_recorder
from app.core.carousel import Carousel
from app.core.credentials import CredentialStore
from app.core.hub import EventHub, Topic
from app.core.market_data import MarketData
from app.core.risk import RiskGuard, RiskMonitor
from app.core.signals.service import SignalService
from app.core.signals.strategy_runner import StrategyBook, StrategyRunner
from app.core.storage import StorageService
from app.core.trading import TradingService
from app.core.trailing import TrailingService
from app.distributed.console import DistributedCarousel
from app.logs import LogBus, LogEntry
from app.models import TerminalState
from app.mt5.backend import TerminalPlan, plan_terminals
from app.mt5.client import TerminalClient
from app.mt5.pool import TerminalPool
from app.mt5.protocol import WorkerSpec
from app.mt5.sim_service import SimTradeServer
from app.mt5.terminals_lock import TerminalsLock
from app.server.service import ApiServer

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0
# The collector's thresholds once started: the young generations as Python's defaults, a full
# collection after 100 collections of the middle one instead of 10. A full collection walks every
# object made since the start (with 500 sockets open, some 150,000: ~100 ms on the reference
# machine, the whole loop stalled), and at the default it ran every ~3 s under a Socket.IO fan-out:
# the p99 of every live event and every webhook. Cycles that live that long are rare; objects freed
# by their reference counts leave at once as always.
GC_THRESHOLDS = (700, 10, 100)


class Service(Protocol):
    """A long-lived part of the app (terminal pool, carousel, server, ...)."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class LogForwarder:
    """Puts log records on the hub's ``logs`` topic (they may come from any thread)."""

    name = "log-forwarder"

    def __init__(self, hub: EventHub, log_bus: LogBus) -> None:
        self._hub = hub
        self._bus = log_bus
        self._unsubscribe: object = None

    async def start(self) -> None:
        self._hub.bind_loop(asyncio.get_running_loop())
        self._unsubscribe = self._bus.subscribe(self._forward)

    def _forward(self, entry: LogEntry) -> None:
        try:
            self._hub.publish_threadsafe(Topic.LOGS, entry)
        except RuntimeError:
            pass  # the loop has closed: shutting down

    async def stop(self) -> None:
        if callable(self._unsubscribe):
            self._unsubscribe()


class Runtime:
    """Owns the services of one run and the order they start and stop in."""

    def __init__(
        self,
        settings: Settings,
        log_bus: LogBus,
        plan: TerminalPlan,
        *,
        headless: bool = False,
        credentials: CredentialStore | None = None,
    ) -> None:
        self.settings = settings
        self.log_bus = log_bus
        self.plan = plan
        self.hub = EventHub()
        self.audit = AuditTrail.for_data_dir(settings.data_dir, settings.audit)
        self.storage = StorageService(settings.data_dir, settings.storage)
        self.credentials = credentials or CredentialStore(timeout_s=settings.accounts.keyring_timeout_s)
        self.accounts = AccountRegistry(
            self.storage.db,
            self.credentials,
            hub=self.hub,
            on_change=account_change_recorder(self.audit),
            settings=settings.accounts,
            terminals=lambda: plan.terminal_ids,
        )
        # Order matters: nothing may trade before the audit trail is open. The API server starts right
        # after the files, so /api/health answers (terminals "connecting") while terminals come up;
        # it is the first to stop (see stop()). Trading refuses orders until its own start().
        # With --serve a server that cannot start stops the app; in the window it shows an error.
        self.server = ApiServer(self, required=headless)
        self.services: list[Service] = [LogForwarder(self.hub, log_bus), self.audit, self.storage]
        self.services.append(self.server)
        self._started: list[Service] = []
        self.sim_server: SimTradeServer | None = None
        if plan.kind == "sim":
            self.sim_server = SimTradeServer(settings.data_dir / "sim", settings.sim)
            self.services.append(self.sim_server)
        else:  # real terminals answer to one process: keep `accounts sync` off them while we run
            self.services.append(TerminalsLock(settings.data_dir))
        self.pool = TerminalPool(self._terminal_clients(), self._publish_terminal_state)
        if self.sim_server is not None:
            # A sim server that died is restarted by its service; the terminals then reconnect at
            # once (each would otherwise wait out its own backoff, up to half a minute).
            self.sim_server.add_restart_listener(self._sim_server_restarted)
        self.market_data = MarketData(
            self.hub,
            self.pool,
            symbols=settings.market.symbols,
            poll_interval_s=settings.market.tick_poll_interval_ms / 1000,
        )
        self.account_state = AccountState(self.hub, self.pool, settings.market.account_refresh_s)
        self.risk = RiskGuard(settings.trading, settings.accounts, self.storage.db, self.audit, self.hub)
        self.trading = TradingService(
            self.pool, self.account_state, self.storage.db, self.audit, self.risk, settings.trading
        )
        risk_monitor = RiskMonitor(
            self.risk,
            lambda: self.account_state.account,
            lambda: self.account_state.positions,
            self.account_state.deals,
            self.market_data.server_time,
        )
        self.alerts = AlertService(self.storage.db, self.hub, self.market_data, settings.alerts)
        # client-side trailing stops (as MT5's terminal runs them): they move SLs only while we run
        self.trailing = TrailingService(
            self.storage.db, self.hub, self.market_data, self.trading, self.account_state,
            retry_initial_s=settings.trading.trailing_retry_s,
            retry_max_s=max(settings.trading.trailing_retry_max_s, settings.trading.trailing_retry_s),
        )  # fmt: skip
        self.carousel: Carousel | DistributedCarousel
        if settings.distributed.enabled and settings.storage.url:
            # The nodes' carousel (mt5-console node on each machine): this app shows and drives it.
            self.carousel = DistributedCarousel(
                settings.storage.url,
                self.storage.db,
                self.hub,
                settings.carousel,
                settings.distributed,
                audit=self.audit,
            )
        else:
            self.carousel = Carousel(
                self.accounts,
                self.pool,
                self.hub,
                settings.carousel,
                audit=self.audit,
                home_passwords=self.sim_server.demo_password if self.sim_server else None,
            )
        self.signals: SignalService | None = None
        self.strategies: StrategyRunner | None = None
        if settings.signals.enabled:
            self.signals = SignalService(
                settings.signals,
                self.storage.db,
                self.audit,
                self.hub,
                self.trading,
                self.market_data,
                self.account_state,
                self.pool,
            )
            book = StrategyBook(self.storage.db, self.audit, folder=settings.signals.strategy_dir)
            self.strategies = StrategyRunner(book, self.hub, self.market_data, self.signals.submit)
        self.accounts.verifier = self.carousel.verify  # an added or changed password is checked at once
        # The carousel stops first (before the terminals), so it can put a borrowed live terminal back.
        self.services += [
            self.pool,
            self.market_data,
            self.account_state,
            self.risk,
            self.trading,
            risk_monitor,
            self.alerts,
            self.trailing,
            self.carousel,
        ]
        if self.signals is not None and self.strategies is not None:  # after trading, before the carousel
            self.services.insert(self.services.index(self.carousel), self.signals)
            self.services.insert(self.services.index(self.carousel), self.strategies)

    def _sim_server_restarted(self, address: str) -> None:
        log.info("the sim trade server is back at %s: reconnecting %d terminal(s)", address,
                 len(self.pool.clients))  # fmt: skip
        for client in self.pool.clients:
            client.reconnect_now()

    def _publish_terminal_state(self, state: TerminalState) -> None:
        self.hub.publish(Topic.TERMINAL, state, key=state.terminal_id)

    def _terminal_clients(self) -> list[TerminalClient]:
        terminals = self.settings.terminals
        specs: list[WorkerSpec]
        ids = self.plan.terminal_ids
        if self.plan.kind == "sim":
            specs = [WorkerSpec(tid, "sim", log_level=self.settings.logging.level) for tid in ids]
        else:
            paths: list[str | None] = list(self.plan.paths) or [None]
            specs = [
                WorkerSpec(ids[i], "real", path=path, log_level=self.settings.logging.level)
                for i, path in enumerate(paths)
            ]
        return [
            TerminalClient(
                spec,
                call_timeout=terminals.call_timeout_s,
                login_timeout=terminals.login_timeout_s,
                path_provider=self.sim_server.terminal_path if self.sim_server else None,
            )
            for spec in specs
        ]

    def add(self, service: Service) -> None:
        """Add a service: it starts after those already there (and stops before them)."""
        self.services.append(service)

    async def start(self) -> None:
        """Start every service in order; if one fails, stop those already started and re-raise."""
        log.info("terminals: %s (%s)", self.plan.kind, self.plan.reason)
        for service in self.services:
            try:
                await service.start()
            except BaseException:
                log.exception("service %s failed to start", service.name)
                await self.stop()
                raise
            self._started.append(service)
        # Everything made while starting (modules, settings, models, caches) lives as long as the app:
        # freezing it keeps the collector from walking it again and again, which shows as pauses of
        # tens of milliseconds in answers and in the window.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        log.debug("started %d service(s)", len(self._started))

    async def stop(self) -> None:
        """Stop the API server first (clients are told and disconnected before the services go), then
        the other started services in reverse order, each bounded by a timeout. Raises only
        :class:`EventLoopEnded`, when there is no loop left to stop them on."""
        if self.server in self._started:
            self._started.remove(self.server)
            self._started.append(self.server)
        while self._started:
            if not _loop_running():
                # Qt ended the loop under us (the display went away): nothing async can run now.
                names = ", ".join(s.name for s in reversed(self._started))
                self._started.clear()
                raise EventLoopEnded(f"the event loop ended before these services stopped: {names}")
            service = self._started.pop()
            try:
                await asyncio.wait_for(service.stop(), STOP_TIMEOUT_S)
            except Exception:
                log.exception("service %s did not stop cleanly", service.name)


class EventLoopEnded(RuntimeError):
    """The event loop ended before the services were stopped (Qt ends it when the display goes)."""


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def build_runtime(settings: Settings, log_bus: LogBus, *, headless: bool = False) -> Runtime:
    """Assemble the services this run needs from the settings."""
    return Runtime(settings, log_bus, plan_terminals(settings.terminals), headless=headless)
