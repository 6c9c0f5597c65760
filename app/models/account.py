"""Accounts and terminals: live account figures, carousel snapshots, terminal connection state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.models.enums import AccountTradeMode, MarginMode, TerminalStatus


@dataclass(frozen=True, slots=True)
class AccountInfo:
    login: int
    name: str
    server: str
    company: str
    currency: str
    leverage: int
    balance: float
    credit: float
    equity: float
    margin: float
    margin_free: float
    margin_level: float
    profit: float
    trade_mode: AccountTradeMode
    margin_mode: MarginMode
    trade_allowed: bool
    margin_so_call: float = 0.0
    margin_so_so: float = 0.0
    currency_digits: int = 2

    @property
    def key(self) -> str:
        return account_key(self.login, self.server)

    @property
    def is_real(self) -> bool:
        return self.trade_mode is AccountTradeMode.REAL


def account_key(login: int, server: str) -> str:
    """How an account is named everywhere (keyring, audit, database): ``login@server``."""
    return f"{login}@{server}"


@dataclass(frozen=True, slots=True)
class TerminalState:
    """One terminal's connection as the UI, ``/api/health`` and the logs show it."""

    terminal_id: str
    status: TerminalStatus
    reason: str = ""
    ping_ms: float | None = None
    login: int | None = None
    server: str = ""
    trade_allowed: bool = False
    build: int = 0
    since: datetime | None = None

    @property
    def connected(self) -> bool:
        return self.status in (TerminalStatus.CONNECTED, TerminalStatus.LOGGED_IN)


@dataclass(frozen=True, slots=True)
class PeriodPnL:
    """Realised P/L from trading deals (commission and swap included) over the usual periods."""

    day: float = 0.0
    week: float = 0.0
    month: float = 0.0
    total: float = 0.0


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """What the carousel saw on one visit to an account."""

    account_key: str
    taken_at: datetime
    balance: float
    equity: float
    margin: float
    margin_free: float
    margin_level: float
    currency: str
    open_positions: int
    open_pl: float
    pending_orders: int
    pnl: PeriodPnL = field(default_factory=PeriodPnL)
