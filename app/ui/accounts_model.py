"""The Accounts table: one row per managed account with its latest snapshot.

Rows come from the registry's updates (hub topic ``accounts``, keyed by account id: the latest per
account is its current state) and, once at start, from a load of the registry — an update that
arrived first is newer and wins. The age of the last snapshot is recomputed on a timer (:meth:`tick`)
and highlighted once it exceeds ``stale_after``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from app.core.times import utc_now
from app.models import AccountAction, AccountSnapshot, AccountStatus, AccountUpdate, ManagedAccount
from app.ui.account_format import age, is_stale, money, signed_money
from app.ui.table_model import HeaderedTableModel

COLUMNS = (
    "Account",
    "Broker",
    "Terminal",
    "Status",
    "Balance",
    "Equity",
    "Margin level",
    "Floating P/L",
    "Today",
    "Week",
    "Month",
    "Last sync",
    "Reason",
)
ACCOUNT, BROKER, TERMINAL, STATUS, BALANCE, EQUITY, LEVEL, FLOATING, DAY, WEEK, MONTH, AGE, REASON = range(
    len(COLUMNS)
)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # a number or text to sort by
STALE_ROLE = Qt.ItemDataRole.UserRole + 2  # True when the last sync is older than stale_after

UP = QColor("#26a69a")
DOWN = QColor("#ef5350")
STALE_BACKGROUND = QColor("#5a4414")
MUTED = QColor("#7d8794")
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class AccountRow:
    account: ManagedAccount
    snapshot: AccountSnapshot | None


class AccountsTableModel(HeaderedTableModel):
    """Accounts in id order; ``row_of`` / ``row`` map between rows and account ids."""

    HEADERS = COLUMNS

    def __init__(
        self,
        stale_after: timedelta,
        now: Callable[[], datetime] = utc_now,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.stale_after = stale_after
        self._now = now
        self._rows: list[AccountRow] = []
        self._removed: set[int] = set()

    # ------------------------------------------------------------------ changes

    def load(self, accounts: Iterable[ManagedAccount], snapshots: Mapping[int, AccountSnapshot]) -> None:
        """The registry's view at start; rows an update has already brought are newer and stay."""
        for account in accounts:
            if account.id in self._removed:
                continue
            current = self.row_of(account.id)
            snapshot = snapshots.get(account.id)
            if current is None:
                self._upsert(AccountRow(account, snapshot))
                continue
            row = self._rows[current]
            newer_account = account.updated_at > row.account.updated_at
            newer_snapshot = snapshot is not None and (
                row.snapshot is None or snapshot.taken_at > row.snapshot.taken_at
            )
            if newer_account or newer_snapshot:
                self._upsert(
                    AccountRow(
                        account if newer_account else row.account,
                        snapshot if newer_snapshot else row.snapshot,
                    )
                )

    def apply(self, update: AccountUpdate) -> None:
        """One update from the hub (the latest for its account)."""
        account = update.account
        if update.action is AccountAction.REMOVED:
            self._removed.add(account.id)
            current = self.row_of(account.id)
            if current is not None:
                self.beginRemoveRows(QModelIndex(), current, current)
                del self._rows[current]
                self.endRemoveRows()
            return
        current = self.row_of(account.id)
        snapshot = update.snapshot
        if snapshot is None and current is not None:
            snapshot = self._rows[current].snapshot
        self._upsert(AccountRow(account, snapshot))

    def _upsert(self, row: AccountRow) -> None:
        current = self.row_of(row.account.id)
        if current is not None:
            self._rows[current] = row
            self.dataChanged.emit(self.index(current, 0), self.index(current, len(COLUMNS) - 1))
            return
        position = sum(1 for existing in self._rows if existing.account.id < row.account.id)
        self.beginInsertRows(QModelIndex(), position, position)
        self._rows.insert(position, row)
        self.endInsertRows()

    def tick(self) -> None:
        """Ages move on: repaint the age column (and whether it is stale)."""
        if self._rows:
            self.dataChanged.emit(self.index(0, AGE), self.index(len(self._rows) - 1, AGE))

    # ------------------------------------------------------------------ lookups

    def row_of(self, account_id: int) -> int | None:
        for number, row in enumerate(self._rows):
            if row.account.id == account_id:
                return number
        return None

    def row(self, number: int) -> AccountRow:
        return self._rows[number]

    def rows(self) -> list[AccountRow]:
        return list(self._rows)

    def stale(self, number: int) -> bool:
        row = self._rows[number]
        return row.account.enabled and is_stale(row.account.last_snapshot_at, self._now(), self.stale_after)

    # ------------------------------------------------------------------ Qt

    def row_total(self) -> int:
        return len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        number, column = index.row(), index.column()
        row = self._rows[number]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == SORT_ROLE:
            return self._sort_key(row, column)
        if role == STALE_ROLE:
            return self.stale(number)
        if role == Qt.ItemDataRole.TextAlignmentRole and BALANCE <= column <= MONTH:
            return _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._colour(row, column)
        if role == Qt.ItemDataRole.BackgroundRole and column == AGE and self.stale(number):
            return QBrush(STALE_BACKGROUND)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column, number)
        return None

    def _text(self, row: AccountRow, column: int) -> str:
        account, snapshot = row.account, row.snapshot
        if column == ACCOUNT:
            return account.label
        if column == BROKER:
            return account.broker
        if column == TERMINAL:
            return account.terminal_id or "any"
        if column == STATUS:
            return account.status.value if account.enabled else f"{account.status.value} (disabled)"
        if column == AGE:
            return age(account.last_snapshot_at, self._now())
        if column == REASON:
            return account.status_reason
        if snapshot is None:
            return ""
        if column == BALANCE:
            return f"{money(snapshot.balance)} {snapshot.currency}"
        if column == EQUITY:
            return money(snapshot.equity)
        if column == LEVEL:
            return f"{snapshot.margin_level:,.0f}%" if snapshot.margin else "—"
        if column == FLOATING:
            return f"{signed_money(snapshot.open_pl)} ({snapshot.open_positions})"
        return signed_money((snapshot.pnl.day, snapshot.pnl.week, snapshot.pnl.month)[column - DAY])

    def _sort_key(self, row: AccountRow, column: int) -> Any:
        snapshot = row.snapshot
        numbers: dict[int, Callable[[AccountSnapshot], float]] = {
            BALANCE: lambda s: s.balance,
            EQUITY: lambda s: s.equity,
            LEVEL: lambda s: s.margin_level if s.margin else float("inf"),
            FLOATING: lambda s: s.open_pl,
            DAY: lambda s: s.pnl.day,
            WEEK: lambda s: s.pnl.week,
            MONTH: lambda s: s.pnl.month,
        }
        if column in numbers:
            return numbers[column](snapshot) if snapshot is not None else float("-inf")
        if column == AGE:
            seen = row.account.last_snapshot_at
            return float("inf") if seen is None else (self._now() - seen).total_seconds()
        return self._text(row, column).casefold()

    def _colour(self, row: AccountRow, column: int) -> QColor | None:
        if column == STATUS or column == REASON:
            if row.account.status is AccountStatus.ERROR:
                return DOWN
            if not row.account.enabled:
                return MUTED
            return UP if row.account.status is AccountStatus.OK and column == STATUS else None
        if row.snapshot is not None and FLOATING <= column <= MONTH:
            value = self._sort_key(row, column)
            return UP if value > 0 else DOWN if value < 0 else None
        return None

    def _tooltip(self, row: AccountRow, column: int, number: int) -> str | None:
        account = row.account
        if column == ACCOUNT:
            return f"{account.key} (id {account.id})"
        if column == AGE:
            seen = account.last_snapshot_at
            when = seen.strftime("%Y-%m-%d %H:%M:%S UTC") if seen else "never visited"
            stale = f" — stale (older than {age(self._now() - self.stale_after, self._now())})"
            return when + (stale if self.stale(number) else "")
        if column in (STATUS, REASON) and account.status_reason:
            return account.status_reason
        if column == FLOATING and row.snapshot is not None:
            held = row.snapshot
            return f"{held.open_positions} open position(s), {held.pending_orders} pending order(s)"
        return None
