"""Accounts and terminals: live account figures, carousel snapshots, terminal connection state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from app.models.enums import AccountTradeMode, MarginMode, Side, TerminalStatus


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
class SnapshotPosition:
    """An open position as a snapshot keeps it: enough for exposure per symbol over all accounts."""

    symbol: str
    side: Side
    volume: float
    price_open: float
    profit: float
    swap: float = 0.0
    ticket: int = 0

    @property
    def floating(self) -> float:
        """The position's floating P/L: profit plus swap."""
        return self.profit + self.swap

    @property
    def signed_volume(self) -> float:
        """Volume with its direction: positive long, negative short."""
        return self.side.sign * self.volume


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
    positions: tuple[SnapshotPosition, ...] = ()


class AccountStatus(Enum):
    """Where a managed account stands: not visited yet, last visit fine, last visit failed (see reason)."""

    PENDING = "pending"
    OK = "ok"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ManagedAccount:
    """One account of the registry (the carousel visits it). It never carries a password: that lives
    only in the OS keyring, under :attr:`key`."""

    id: int
    login: int
    server: str
    broker: str
    alias: str
    terminal_id: str | None
    enabled: bool
    status: AccountStatus
    status_reason: str
    last_snapshot_at: datetime | None
    last_deal_sync_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> str:
        return account_key(self.login, self.server)

    @property
    def label(self) -> str:
        """How to name the account to a person: its alias, else ``login@server``."""
        return self.alias or self.key


@dataclass(frozen=True, slots=True)
class NewAccount:
    """An account to add to the registry (its password travels separately, straight to the keyring)."""

    login: int
    server: str
    broker: str = ""
    alias: str = ""
    terminal_id: str | None = None
    enabled: bool = True

    @property
    def key(self) -> str:
        return account_key(self.login, self.server)


@dataclass(frozen=True, slots=True)
class AccountEdit:
    """Changes to a registry row: ``None`` keeps a field, ``""`` clears a text field (``terminal_id``
    ``""`` unassigns the terminal). Login and server are the account's identity: to change them,
    remove the account and add it again."""

    broker: str | None = None
    alias: str | None = None
    terminal_id: str | None = None
    enabled: bool | None = None

    @property
    def empty(self) -> bool:
        return all(value is None for value in (self.broker, self.alias, self.terminal_id, self.enabled))


class AccountAction(Enum):
    ADDED = "added"
    EDITED = "edited"
    REMOVED = "removed"
    STATUS = "status"
    VISITED = "visited"


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    """A change to a managed account, as published on the hub's ``accounts`` topic (keyed by account
    id, so the latest update per account is the account's current state) and handed to the audit hook.

    ``snapshot`` is the account's latest snapshot, if any; ``password_changed`` tells an audit trail
    that the keyring entry was written (never what was written). A removed account's last update
    (action REMOVED) stays the hub's latest value for its id, so readers of the latest values skip
    those; ids are never reused.
    """

    action: AccountAction
    account: ManagedAccount
    snapshot: AccountSnapshot | None = None
    password_changed: bool = False
    actor: str = "system"  # who made the change (gui, cli, api:<user>, carousel)
