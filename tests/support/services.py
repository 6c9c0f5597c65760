"""The app's services over one real terminal client, as the runtime wires them (for service tests)."""

from __future__ import annotations

from pathlib import Path

from app.audit import AuditTrail
from app.config import AccountsSettings, AuditSettings, TradingSettings
from app.core.account_state import AccountState
from app.core.hub import EventHub, Topic
from app.core.market_data import MarketData
from app.core.risk import RiskGuard
from app.core.storage import Database, database_path
from app.core.trading import TradingService
from app.mt5.client import TerminalClient
from app.mt5.pool import TerminalPool


class Services:
    def __init__(
        self, client: TerminalClient, data_dir: Path, trading: TradingSettings | None = None
    ) -> None:
        self.data_dir = data_dir
        self.hub = EventHub()
        self.pool = TerminalPool(
            [client], lambda state: self.hub.publish(Topic.TERMINAL, state, key=state.terminal_id)
        )
        self.db = Database(database_path(data_dir))
        self.audit = AuditTrail.for_data_dir(data_dir, AuditSettings())
        self.market = MarketData(self.hub, self.pool, poll_interval_s=0.01)
        self.account = AccountState(self.hub, self.pool, interval_s=0.2)
        self.settings = trading or TradingSettings(reconcile_window_s=5.0)
        self.risk = RiskGuard(self.settings, AccountsSettings(), self.db, self.audit, self.hub)
        self.trading = TradingService(self.pool, self.account, self.db, self.audit, self.risk, self.settings)
        self._started: list[object] = []

    async def start(self) -> Services:
        for service in (self.audit, self.db, self.market, self.account, self.risk, self.trading):
            await service.start()  # type: ignore[attr-defined]
            self._started.append(service)
        return self

    async def stop(self) -> None:
        while self._started:
            await self._started.pop().stop()  # type: ignore[attr-defined]
