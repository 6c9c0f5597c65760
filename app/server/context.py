"""What the server adapts: the app's services (the runtime has them all), plus its own auth state.

:class:`Services` is structural: the runtime satisfies it without the server importing the runtime
(which starts the server). Routes reach it through :func:`app.server.deps.context`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from app import __version__
from app.audit import AuditTrail
from app.config import Settings
from app.core.account_state import AccountState
from app.core.accounts import AccountRegistry
from app.core.alerts import AlertService
from app.core.credentials import CredentialStore
from app.core.hub import EventHub
from app.core.market_data import MarketData
from app.core.money import DEFAULT_DIGITS
from app.core.storage import StorageService
from app.core.trading import TradingService
from app.logs import LogBus
from app.models import TerminalError, TerminalState
from app.mt5.pool import TerminalPool
from app.server.auth import TokenService
from app.server.errors import unavailable
from app.server.ratelimit import RateLimiter
from app.server.schemas import Digits

log = logging.getLogger(__name__)

SYMBOLS_RETRY_S = 5.0


class Services(Protocol):
    settings: Settings
    hub: EventHub
    pool: TerminalPool
    market_data: MarketData
    account_state: AccountState
    trading: TradingService
    alerts: AlertService
    accounts: AccountRegistry
    audit: AuditTrail
    storage: StorageService
    credentials: CredentialStore
    log_bus: LogBus


class Carousel(Protocol):
    """The carousel's API as the server uses it (app.core.carousel)."""

    def status(self) -> Any: ...

    async def run(self, actor: str) -> Any: ...

    async def halt(self, actor: str) -> Any: ...

    async def sync_now(self, account_id: int) -> Any: ...


@dataclass
class ServerContext:
    services: Services
    tokens: TokenService
    login_limiter: RateLimiter
    version: str = __version__
    _encoded: dict[str, tuple[object, bytes]] = field(default_factory=dict)
    _symbol_digits: dict[str, int] = field(default_factory=dict)
    _symbols_retry_at: float = 0.0

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def data_dir(self) -> Path:
        return self.services.settings.data_dir

    @property
    def carousel(self) -> Carousel:
        carousel: Carousel | None = getattr(self.services, "carousel", None)
        if carousel is None:
            raise unavailable("the carousel is not running in this app", "carousel_unavailable")
        return carousel

    def encoded(self, name: str, value: object, encode: Callable[[], bytes]) -> bytes:
        """``encode()``'s bytes, remembered while ``value`` (an immutable state object the services
        replace when it changes, e.g. the account) stays the same object: hot reads encode once."""
        cached = self._encoded.get(name)
        if cached is not None and cached[0] is value:
            return cached[1]
        data = encode()
        self._encoded[name] = (value, data)
        return data

    async def know_symbols(self) -> None:
        """Learn every symbol's digits once (answers round prices by them); a terminal that cannot say
        yet leaves prices as they are until it can."""
        if self._symbol_digits or time.monotonic() < self._symbols_retry_at:
            return
        try:
            specs = await self.services.market_data.all_symbols()
        except TerminalError as exc:
            log.debug("symbol digits not known yet: %s", exc)
            self._symbols_retry_at = time.monotonic() + SYMBOLS_RETRY_S
            return
        self._symbol_digits = {spec.name: spec.digits for spec in specs}

    def digits(self, symbol: str) -> Digits:
        """How an answer about ``symbol`` on the live account is rounded."""
        spec = self.services.market_data.cached_spec(symbol)
        price = spec.digits if spec is not None else self._symbol_digits.get(symbol)
        account = self.services.account_state.account
        return Digits(price, account.currency_digits if account is not None else DEFAULT_DIGITS)

    def live_state(self) -> TerminalState:
        return self.services.pool.live.state

    def logged_in(self, login: int, server: str) -> bool:
        """Whether a terminal of the pool holds ``login@server`` right now."""
        return any(
            s.login == login and s.server == server and s.connected for s in self.services.pool.states()
        )
