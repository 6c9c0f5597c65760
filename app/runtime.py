"""The app's services for one run, started in order and stopped in reverse: shared by both modes.

The window and ``--serve`` build the same :class:`Runtime`; only what sits on top (widgets or nothing)
differs. A service is anything with async ``start``/``stop``; stopping never raises, so one stuck
service cannot keep the others (or the process) alive.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from app.config import Settings
from app.logs import LogBus
from app.mt5.backend import TerminalPlan, plan_terminals

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0


class Service(Protocol):
    """A long-lived part of the app (terminal pool, carousel, server, ...)."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Runtime:
    """Owns the services of one run and the order they start and stop in."""

    def __init__(self, settings: Settings, log_bus: LogBus, plan: TerminalPlan) -> None:
        self.settings = settings
        self.log_bus = log_bus
        self.plan = plan
        self.services: list[Service] = []
        self._started: list[Service] = []

    def add(self, service: Service) -> None:
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
        log.info("started %d service(s)", len(self._started))

    async def stop(self) -> None:
        """Stop started services in reverse order, each bounded by a timeout; never raises."""
        while self._started:
            service = self._started.pop()
            try:
                await asyncio.wait_for(service.stop(), STOP_TIMEOUT_S)
            except Exception:
                log.exception("service %s did not stop cleanly", service.name)


def build_runtime(settings: Settings, log_bus: LogBus) -> Runtime:
    """Assemble the services this run needs from the settings."""
    return Runtime(settings, log_bus, plan_terminals(settings.terminals))
