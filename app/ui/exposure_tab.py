"""The Exposure tab: net volume, average price and floating P/L per symbol over every account the app
knows — the enabled carousel accounts, from their latest snapshots, and the live account as the
terminal shows it now — each once, with how old the figures are.

Given the hub (account updates carry each account's latest snapshot; the live account and its
positions come on their own topics) and something that can load the latest snapshots once at start
(the account registry). The figures are computed by :func:`app.core.exposure.exposure`; this view
only lays them out, refreshing at most a few times a second and the ages every second.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QCloseEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.core.exposure import SymbolExposure, exposure, floating_by_currency, live_snapshot
from app.core.hub import Event, EventHub, Topic
from app.core.times import utc_now
from app.models import AccountAction, AccountInfo, AccountSnapshot, AccountUpdate, ManagedAccount, Position
from app.ui.account_format import age, is_stale, lots, signed_money
from app.ui.accounts_model import DOWN, STALE_BACKGROUND, UP
from app.ui.hub_feed import HubFeed
from app.ui.service_calls import ServiceCalls
from app.ui.table_model import HeaderedTableModel
from app.ui.table_view import data_table

COLUMNS = (
    "Symbol", "Net volume", "Long", "Short", "Avg price", "Floating P/L", "Accounts", "Positions", "Age",
)  # fmt: skip
SYMBOL, NET, LONG, SHORT, PRICE, FLOATING, ACCOUNTS, POSITIONS, AGE = range(len(COLUMNS))
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_Index = QModelIndex | QPersistentModelIndex


class SnapshotSource(Protocol):
    """What the tab loads once at start (:class:`app.core.accounts.AccountRegistry`)."""

    async def list(self, *, enabled_only: bool = False) -> list[ManagedAccount]: ...

    async def latest_snapshots(self, *, enabled_only: bool = False) -> dict[int, AccountSnapshot]: ...


def floating_text(floating: tuple[tuple[str, float], ...]) -> str:
    return " · ".join(f"{signed_money(value)} {currency}" for currency, value in floating) or "0.00"


class ExposureTableModel(HeaderedTableModel):
    HEADERS = COLUMNS

    def __init__(
        self, stale_after: timedelta, now: Callable[[], datetime] = utc_now, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.stale_after = stale_after
        self._now = now
        self._rows: list[SymbolExposure] = []

    def set_rows(self, rows: list[SymbolExposure]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rows(self) -> list[SymbolExposure]:
        return list(self._rows)

    def tick(self) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0, AGE), self.index(len(self._rows) - 1, AGE))

    def row_total(self) -> int:
        return len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column != SYMBOL:
            return _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole:
            value = {NET: row.net_volume, FLOATING: sum(v for _, v in row.floating)}.get(column, 0.0)
            return UP if value > 0 else DOWN if value < 0 else None
        if role == Qt.ItemDataRole.BackgroundRole and column == AGE and self._stale(row):
            return QBrush(STALE_BACKGROUND)
        if role == Qt.ItemDataRole.ToolTipRole and column == AGE:
            now = self._now()
            return f"oldest snapshot {age(row.oldest, now)} ago, newest {age(row.newest, now)} ago"
        return None

    def _stale(self, row: SymbolExposure) -> bool:
        return is_stale(row.oldest, self._now(), self.stale_after)

    def _text(self, row: SymbolExposure, column: int) -> str:
        if column == SYMBOL:
            return row.symbol
        if column == NET:
            return lots(row.net_volume)
        if column == LONG:
            return f"{row.long_volume:.2f}"
        if column == SHORT:
            return f"{row.short_volume:.2f}"
        if column == PRICE:
            return "flat" if row.average_price is None else f"{row.average_price:.{row.price_digits}f}"
        if column == FLOATING:
            return floating_text(row.floating)
        if column == ACCOUNTS:
            return str(row.accounts)
        if column == POSITIONS:
            return str(row.positions)
        return age(row.oldest, self._now())


class ExposureTab(QWidget):
    """See the module docstring."""

    changed = Signal(int)  # the table was rebuilt: how many symbols

    def __init__(
        self,
        hub: EventHub,
        source: SnapshotSource,
        *,
        stale_after: timedelta = timedelta(minutes=15),
        now: Callable[[], datetime] = utc_now,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ExposureTab")
        self._now = now
        self._live_account: AccountInfo | None = None
        self._live_positions: tuple[Position, ...] = ()
        self._live: AccountSnapshot | None = None  # the live account, as the terminal shows it now
        self._snapshots: dict[int, AccountSnapshot] = {}
        self._enabled: dict[int, bool] = {}
        self._seen: set[int] = set()  # accounts an update has told us about (newer than the load)
        self.message = QLabel("")
        self.message.setProperty("role", "error")
        self.calls = ServiceCalls(self)
        self.calls.failed.connect(lambda what, text: self.message.setText(f"Could not {what}: {text}"))
        self.model = ExposureTableModel(stale_after, now, self)
        self.table = data_table(self.model, fit_contents=True)
        self.totals = QLabel("")
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals)
        layout.addWidget(self.message)
        self.feed = HubFeed(hub, Topic.ACCOUNTS, rate_hz=4.0, parent=self)
        self.feed.arrived.connect(self._arrived)
        self.live_feed = HubFeed(hub, (Topic.ACCOUNT, Topic.POSITIONS), rate_hz=2.0, parent=self)
        self.live_feed.arrived.connect(self._live_arrived)
        self._ages = QTimer(self)
        self._ages.setInterval(1_000)
        self._ages.timeout.connect(self.model.tick)
        self.feed.start()
        self.live_feed.start()
        self._ages.start()
        self.calls.run(self._load(source), what="load the latest snapshots", on_result=self._loaded)
        self._rebuild()

    @staticmethod
    async def _load(source: SnapshotSource) -> tuple[list[ManagedAccount], dict[int, AccountSnapshot]]:
        return await source.list(), await source.latest_snapshots()

    def _loaded(self, found: tuple[list[ManagedAccount], dict[int, AccountSnapshot]]) -> None:
        accounts, snapshots = found
        for account in accounts:
            if account.id not in self._seen:
                self._enabled[account.id] = account.enabled
                if account.id in snapshots:
                    self._snapshots[account.id] = snapshots[account.id]
        self._rebuild()

    def _arrived(self, events: list[Event]) -> None:
        for event in events:
            update: AccountUpdate = event.value
            account_id = update.account.id
            self._seen.add(account_id)
            if update.action is AccountAction.REMOVED:
                self._snapshots.pop(account_id, None)
                self._enabled.pop(account_id, None)
                continue
            self._enabled[account_id] = update.account.enabled
            if update.snapshot is not None:
                self._snapshots[account_id] = update.snapshot
        self._rebuild()

    def _live_arrived(self, events: list[Event]) -> None:
        for event in events:
            if event.key is not None:
                continue  # another account's (only the live one is published without a key)
            if event.topic is Topic.ACCOUNT:
                self._live_account = event.value
            elif event.topic is Topic.POSITIONS:
                self._live_positions = tuple(event.value)
        if self._live_account is not None:
            self._live = live_snapshot(self._live_account, self._live_positions, self._now())
            self._rebuild()

    def _rebuild(self) -> None:
        counted = [s for account_id, s in self._snapshots.items() if self._enabled.get(account_id, False)]
        if self._live is not None:
            counted.append(self._live)  # counted once: exposure() keeps one snapshot per account
        rows = exposure(counted)
        self.model.set_rows(rows)
        accounts = len({s.account_key.casefold() for s in counted})
        self.totals.setText(
            f"Floating P/L over {len(rows)} symbol(s) in {accounts} account(s): "
            f"{floating_text(floating_by_currency(rows))}"
        )
        self.changed.emit(len(rows))

    def shutdown(self) -> None:
        self._ages.stop()
        self.feed.stop()
        self.live_feed.stop()
        self.calls.cancel_all()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)
