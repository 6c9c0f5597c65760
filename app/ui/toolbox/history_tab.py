"""The History tab: the live account's deals over a period, and what they add up to.

New deals show without asking: when the account's positions or balance change (a deal was done:
an order filled, a position closed, SL/TP hit, a deposit), the period is read again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from PySide6.QtCore import QDateTime, QModelIndex, QPersistentModelIndex, Qt, QTimer, QTimeZone
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.client_ids import without_tag
from app.core.times import EPOCH
from app.models import AccountInfo, Deal, Position
from app.ui import formatting
from app.ui.table_model import HeaderedTableModel
from app.ui.table_view import data_table, fit_column
from app.ui.tasks import TaskRunner
from app.ui.theme import DOWN_COLOUR, UP_COLOUR

Index = QModelIndex | QPersistentModelIndex
NOW_SAMPLE = "2026.12.28 23:58:58"  # the widest time the Time column shows
HEADERS = (
    "Time",
    "Deal",
    "Order",
    "Symbol",
    "Type",
    "Direction",
    "Volume",
    "Price",
    "Commission",
    "Swap",
    "Profit",
    "Comment",
)
PERIODS = ("Today", "Last week", "Last month", "Last 3 months", "All history", "Custom period")
TIME_FORMAT = "%Y.%m.%d %H:%M:%S"
NEW_DEALS_DELAY_MS = 400  # after the account changed: the deal is in the terminal's history by then


def period_range(name: str, now: datetime) -> tuple[datetime, datetime]:
    """[from, to] of a named period, in server time (days start at midnight)."""
    if name == "All history":
        return EPOCH, now + timedelta(days=1)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    days = {"Today": 0, "Last week": 7, "Last month": 30, "Last 3 months": 90}[name]
    return midnight - timedelta(days=days), now + timedelta(days=1)


def deals_fingerprint(positions: Iterable[Position], balance: float | None) -> tuple[object, ...]:
    """What changes when a deal is done: the open positions (and their volumes) and the balance."""
    return (frozenset((p.ticket, round(p.volume, 8)) for p in positions), balance)


class DealSummary:
    """Totals of a list of deals: trading profit, commission, swap, and balance operations apart."""

    def __init__(self, deals: Sequence[Deal]) -> None:
        trades = [d for d in deals if d.type.is_trade]
        self.trades = len(trades)
        self.profit = sum(d.profit for d in trades)
        self.commission = sum(d.commission + d.fee for d in trades)
        self.swap = sum(d.swap for d in trades)
        self.net = self.profit + self.commission + self.swap
        self.balance_ops = sum(d.net for d in deals if not d.type.is_trade)


class DealTableModel(HeaderedTableModel):
    HEADERS = HEADERS

    def __init__(self, digits: Callable[[str], int] = lambda _s: 5) -> None:
        super().__init__()
        self.deals: list[Deal] = []
        self._digits = digits
        self._up, self._down = QBrush(QColor(UP_COLOUR)), QBrush(QColor(DOWN_COLOUR))

    def set_deals(self, deals: Sequence[Deal]) -> None:
        self.beginResetModel()
        self.deals = sorted(deals, key=lambda d: (d.time, d.ticket))
        self.endResetModel()

    def row_total(self) -> int:
        return len(self.deals)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        deal = self.deals[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            d = self._digits(deal.symbol) if deal.symbol else 2
            return (
                deal.time.strftime(TIME_FORMAT),
                str(deal.ticket),
                str(deal.order or ""),
                deal.symbol,
                deal.type.value,
                deal.entry.value if deal.type.is_trade else "",
                formatting.volume(deal.volume) if deal.type.is_trade else "",
                formatting.price(deal.price, d) if deal.type.is_trade else "",
                formatting.money(deal.commission),
                formatting.money(deal.swap),
                formatting.money(deal.profit),
                without_tag(deal.comment),  # the trader's comment; the deal keeps its client-id tag
            )[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and 6 <= index.column() <= 10:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 10 and deal.profit:
            return self._up if deal.profit > 0 else self._down
        return None


class DealSource(Protocol):
    async def deals(self, date_from: datetime, date_to: datetime) -> list[Deal]: ...


class HistoryTab(QWidget):
    def __init__(
        self,
        source: DealSource,
        tasks: TaskRunner,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        digits: Callable[[str], int] = lambda _s: 5,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("HistoryTab")
        self._source = source
        self._tasks = tasks
        self._now = now
        self.model = DealTableModel(digits)
        self.period = QComboBox()
        self.period.addItems(PERIODS)
        self.period.setCurrentIndex(1)
        self.date_from = QDateTimeEdit()
        self.date_to = QDateTimeEdit()
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy.MM.dd HH:mm")
            edit.setTimeZone(QTimeZone.utc())
        self.refresh_button = QPushButton("Show")
        self.refresh_button.clicked.connect(self.refresh)
        self.period.currentIndexChanged.connect(self._period_picked)
        self.table = data_table(self.model)
        fit_column(self.table, 0, NOW_SAMPLE)
        self.summary = QLabel("")
        self.summary.setObjectName("HistorySummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)  # a narrow window wraps it: it never sets the window width
        controls = QHBoxLayout()
        controls.setContentsMargins(4, 2, 4, 2)
        for widget in (
            self.period,
            QLabel("from"),
            self.date_from,
            QLabel("to"),
            self.date_to,
            self.refresh_button,
        ):
            controls.addWidget(widget)
        controls.addWidget(self.summary, 1)  # what is left of the row: it wraps only when narrow
        self.summary.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(controls)
        layout.addWidget(self.table)
        self._period_changed()
        self._positions: tuple[Position, ...] = ()
        self._balance: float | None = None
        self._seen: tuple[object, ...] | None = None
        self._loading = False
        self._again = False
        self._new_deals = QTimer(self)
        self._new_deals.setSingleShot(True)
        self._new_deals.setInterval(NEW_DEALS_DELAY_MS)
        self._new_deals.timeout.connect(self.refresh)

    # ------------------------------------------------------------------ the account as it changes
    def observe_positions(self, positions: Iterable[Position]) -> None:
        self._positions = tuple(positions)
        self._observe()

    def observe_account(self, account: AccountInfo) -> None:
        self._balance = round(account.balance, 8)
        self._observe()

    def _observe(self) -> None:
        seen = deals_fingerprint(self._positions, self._balance)
        if self._seen is not None and seen != self._seen:
            self._new_deals.start()  # a deal was done: read the period again (once, shortly)
        self._seen = seen

    def forget_account(self) -> None:
        """Another account: what was seen of the previous one says nothing about new deals."""
        self._seen = None

    def _period_picked(self) -> None:
        self._period_changed()
        if self.period.currentText() != "Custom period":
            self.refresh()  # a named period shows at once; a custom one waits for "Show"

    def _period_changed(self) -> None:
        custom = self.period.currentText() == "Custom period"
        self.date_from.setEnabled(custom)
        self.date_to.setEnabled(custom)
        if not custom:
            start, end = period_range(self.period.currentText(), self._now())
            self.date_from.setDateTime(QDateTime.fromSecsSinceEpoch(int(start.timestamp()), QTimeZone.utc()))
            self.date_to.setDateTime(QDateTime.fromSecsSinceEpoch(int(end.timestamp()), QTimeZone.utc()))

    def range(self) -> tuple[datetime, datetime]:
        if self.period.currentText() != "Custom period":
            return period_range(self.period.currentText(), self._now())
        start = datetime.fromtimestamp(self.date_from.dateTime().toSecsSinceEpoch(), tz=UTC)
        end = datetime.fromtimestamp(self.date_to.dateTime().toSecsSinceEpoch(), tz=UTC)
        return start, end

    def refresh(self) -> None:
        if self._loading:
            self._again = True  # one more read once this one is done (it may miss the newest deal)
            return
        self._loading = True
        start, end = self.range()
        self.refresh_button.setEnabled(False)

        def done() -> None:
            self._loading = False
            self.refresh_button.setEnabled(True)
            if self._again:
                self._again = False
                self.refresh()

        def shown(deals: list[Deal]) -> None:
            self.show_deals(deals)
            done()

        def failed(_error: BaseException) -> bool:
            done()
            return False

        self._tasks.run(
            self._source.deals(start, end), what="history", owner=self, on_result=shown, on_error=failed
        )

    def show_deals(self, deals: Sequence[Deal]) -> None:
        self.model.set_deals(deals)
        self.table.scrollToBottom()
        s = DealSummary(deals)
        colour = "#26a69a" if s.net >= 0 else "#ef5350"
        self.summary.setText(
            f"Deals: <b>{s.trades}</b>&nbsp;&nbsp; Profit: <b>{formatting.money(s.profit)}</b>&nbsp;&nbsp; "
            f"Commission: <b>{formatting.money(s.commission)}</b>&nbsp;&nbsp; "
            f"Swap: <b>{formatting.money(s.swap)}</b>"
            f"&nbsp;&nbsp; Net: <b style='color:{colour}'>{formatting.money(s.net)}</b>&nbsp;&nbsp; "
            f"Deposits/withdrawals: <b>{formatting.money(s.balance_ops)}</b>"
        )
