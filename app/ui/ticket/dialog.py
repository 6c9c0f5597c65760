"""The order ticket (F9): symbol, type, volume, price, SL/TP as price or points, deviation, comment.

The form never decides whether an order is valid. While the trader types, it asks the trading
service for ``check`` (debounced) and shows the required margin and the verdict; a refusal is shown
next to the field it concerns, and Send stays disabled until the verdict on what the form says now
is OK. Another symbol starts the form afresh for it: its digits and volume step, its current price
for a pending order, no SL/TP, and no verdict or margin of the previous symbol; a name the terminal
does not know is said in plain words under the field. Send builds the request with a client id made
once per submission and is disabled until the outcome is known, so a double click cannot send
twice; a real account asks for confirmation first; an unknown outcome (timeout during the send) is
said as such and the button stays disabled — the order is never resent from here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol, cast

from PySide6.QtCore import QDateTime, Qt, QTimer, QTimeZone, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.levels import volume_for_risk
from app.core.order_rules import fill_choices
from app.models import (
    AccountInfo,
    AmbiguousOutcomeError,
    FillPolicy,
    OrderCheck,
    OrderRequest,
    OrderResult,
    OrderType,
    OrderValidationError,
    Quote,
    Side,
    SymbolSpec,
    TemporaryError,
    TimeInForce,
)
from app.ui import formatting
from app.ui.notifications import describe_error
from app.ui.tasks import TaskRunner
from app.ui.ticket.form import TicketForm, entry_price, field_for_retcode, points_from_price
from app.ui.ticket.submission import Submissions

log = logging.getLogger(__name__)

CHECK_DELAY_MS = 250
SYMBOL_DELAY_MS = 200  # a symbol typed letter by letter is looked up once the typing pauses
DEFAULT_VOLUME = 0.10  # lots, on the symbol's step and within its limits
FIELD_MIN_WIDTH = 190  # a long message under a field wraps; the field keeps this width

FILL_TITLES = {
    FillPolicy.FOK: "Fill or Kill",
    FillPolicy.IOC: "Immediate or Cancel",
    FillPolicy.RETURN: "Return",
}
TYPE_TITLES = {
    OrderType.BUY: "Buy (market)",
    OrderType.SELL: "Sell (market)",
    OrderType.BUY_LIMIT: "Buy Limit",
    OrderType.SELL_LIMIT: "Sell Limit",
    OrderType.BUY_STOP: "Buy Stop",
    OrderType.SELL_STOP: "Sell Stop",
    OrderType.BUY_STOP_LIMIT: "Buy Stop Limit",
    OrderType.SELL_STOP_LIMIT: "Sell Stop Limit",
}


class Trading(Protocol):
    async def check(self, request: OrderRequest) -> OrderCheck: ...

    async def place(self, request: OrderRequest) -> OrderResult: ...


class Symbols(Protocol):
    @property
    def subscribed(self) -> list[str]: ...

    async def spec(self, symbol: str) -> SymbolSpec: ...

    def quote(self, symbol: str) -> Quote | None: ...


def _decimals(step: float) -> int:
    text = f"{step:.8f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


class OrderTicket(QDialog):
    placed = Signal(object)  # OrderResult

    def __init__(
        self,
        trading: Trading,
        symbols: Symbols,
        tasks: TaskRunner,
        is_real: Callable[[], bool],
        symbol: str = "",
        order_type: OrderType = OrderType.BUY,
        parent: QWidget | None = None,
        price: float = 0.0,
        account: Callable[[], AccountInfo | None] = lambda: None,
    ) -> None:
        """``price``: a pending order's price chosen already (a chart's "Buy Limit at ..."), kept
        while the symbol stays the one given."""
        super().__init__(parent)
        self.setObjectName("OrderTicket")
        self._wanted_price = (symbol, price) if price else None
        self._account = account  # its balance: volume by risk
        self.setWindowTitle("New order")
        self.setModal(False)
        self._trading = trading
        self._symbols = symbols
        self._tasks = tasks
        self._is_real = is_real
        self.spec: SymbolSpec | None = None
        self._check_generation = 0
        self.last_check: OrderCheck | None = None
        self.verdict_ok = False  # the trading service's verdict on what the form says now
        self.away_reason = ""  # why orders wait (the live terminal visits another account), if they do
        self.confirmation: QMessageBox | None = None  # a real account's question, while open
        self.submissions = Submissions()  # client ids, in flight, blocked after an unknown outcome
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self.run_check)
        self._symbol_timer = QTimer(self)
        self._symbol_timer.setSingleShot(True)
        self._symbol_timer.setInterval(SYMBOL_DELAY_MS)
        self._symbol_timer.timeout.connect(self._load_spec)
        self._quote_timer = QTimer(self)
        self._quote_timer.setInterval(250)
        self._quote_timer.timeout.connect(self._show_quote)
        self._build(symbol, order_type)
        self._quote_timer.start()
        self._symbol_changed()
        self._load_spec()

    # ------------------------------------------------------------------ form
    def _build(self, symbol: str, order_type: OrderType) -> None:
        self.symbol_box = QComboBox()
        self.symbol_box.setEditable(True)
        self.symbol_box.addItems(self._symbols.subscribed)
        if symbol:
            self.symbol_box.setCurrentText(symbol)
        self.type_box = QComboBox()
        for each, title in TYPE_TITLES.items():
            self.type_box.addItem(title, each)
        self.type_box.setCurrentIndex(list(TYPE_TITLES).index(order_type))
        self.volume = QDoubleSpinBox()
        self.volume.setRange(0.0, 1_000_000.0)
        self.volume.setDecimals(2)
        self.volume.setSingleStep(0.01)
        self.volume.setValue(0.10)
        self.price = self._price_box()
        self.stoplimit = self._price_box()
        self.sl = self._price_box()
        self.tp = self._price_box()
        self.in_points = QCheckBox("SL/TP in points")
        self.deviation = QSpinBox()
        self.deviation.setRange(0, 100_000)
        self.deviation.setValue(10)
        self.deviation.setSuffix(" points")
        self.comment = QLineEdit()
        self.comment.setMaxLength(31)
        self.risk_mode = QComboBox()
        for title, mode in (("Lots", "lots"), ("% of balance", "percent"), ("Money", "money")):
            self.risk_mode.addItem(title, mode)
        self.risk_mode.setToolTip("Volume in lots, or the volume that risks this much at the SL")
        self.risk_value = QDoubleSpinBox()
        self.risk_value.setRange(0.0, 1_000_000_000.0)
        self.risk_value.setDecimals(2)
        self.risk_value.setValue(1.0)
        self.risk_label = QLabel("")
        self.risk_label.setObjectName("TicketRisk")
        self.risk_label.setWordWrap(True)
        self.risk_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.expiry = QComboBox()
        for title, tif in (("Good till cancelled", TimeInForce.GTC), ("Today", TimeInForce.DAY),
                           ("Specified", TimeInForce.SPECIFIED)):  # fmt: skip
            self.expiry.addItem(title, tif)
        self.expiry_time = QDateTimeEdit(QDateTime.currentDateTimeUtc().addDays(1))
        self.expiry_time.setTimeZone(QTimeZone.utc())
        self.expiry_time.setDisplayFormat("yyyy.MM.dd HH:mm 'UTC'")
        self.expiry_time.setCalendarPopup(True)
        self.filling = QComboBox()
        self.filling.setObjectName("TicketFilling")
        self.filling.setToolTip(
            "How the order fills: all at once or not at all (FOK), what can fill now (IOC), or the rest "
            "left as an order (Return)"
        )
        self.errors: dict[str, QLabel] = {}
        for field in (
            self.symbol_box,
            self.volume,
            self.price,
            self.stoplimit,
            self.sl,
            self.tp,
            self.comment,
        ):
            field.setMinimumWidth(FIELD_MIN_WIDTH)

        form = QFormLayout()
        form.addRow("Symbol", self._with_error("symbol", self.symbol_box))
        form.addRow("Type", self.type_box)
        risk_row = QWidget()
        risk_layout = QHBoxLayout(risk_row)
        risk_layout.setContentsMargins(0, 0, 0, 0)
        risk_layout.addWidget(self.risk_mode)
        risk_layout.addWidget(self.risk_value, 1)
        form.addRow("Volume by", risk_row)
        form.addRow("", self.risk_label)
        for name, title, widget in (
            ("volume", "Volume", self.volume),
            ("price", "Price", self.price),
            ("stoplimit", "Stop limit price", self.stoplimit),
            ("sl", "Stop Loss", self.sl),
            ("tp", "Take Profit", self.tp),
        ):
            form.addRow(title, self._with_error(name, widget))
        form.addRow("", self.in_points)
        form.addRow("Expiry", self.expiry)
        form.addRow("", self.expiry_time)
        form.addRow("Deviation", self.deviation)
        form.addRow("Fill policy", self._with_error("filling", self.filling))
        form.addRow("Comment", self._with_error("comment", self.comment))
        self._form = form

        self.quote_label = QLabel()
        self.quote_label.setObjectName("TicketQuote")
        self.quote_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.margin_label = QLabel("Margin: —")
        self.check_label = QLabel("")
        self.check_label.setObjectName("TicketVerdict")
        self.check_label.setWordWrap(True)
        self.check_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.outcome_label = QLabel("")
        self.outcome_label.setObjectName("TicketOutcome")
        self.outcome_label.setWordWrap(True)
        self.outcome_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.send_button = QPushButton("Buy")
        self.send_button.setObjectName("SendButton")
        self.send_button.setDefault(False)
        self.send_button.setAutoDefault(False)
        self.send_button.clicked.connect(self.send)
        # MT5's F9 dialog: a market order is sold at the bid or bought at the ask, side by side
        self.sell_button = self._market_button("SellButton", "sell", Side.SELL)
        self.buy_button = self._market_button("BuyButton", "buy", Side.BUY)
        close = QPushButton("Close")
        close.setAutoDefault(False)
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(close)
        buttons.addStretch(1)
        buttons.addWidget(self.sell_button)
        buttons.addWidget(self.buy_button)
        buttons.addWidget(self.send_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.quote_label)
        layout.addLayout(form)
        layout.addWidget(self.margin_label)
        layout.addWidget(self.check_label)
        layout.addWidget(self.outcome_label)
        layout.addLayout(buttons)

        self.symbol_box.currentTextChanged.connect(self._symbol_changed)
        self.type_box.currentIndexChanged.connect(self._type_changed)
        self.in_points.toggled.connect(self._points_toggled)
        for box in (self.volume, self.price, self.stoplimit, self.sl, self.tp):
            box.valueChanged.connect(self._changed)
        self.deviation.valueChanged.connect(self._changed)
        self.comment.textChanged.connect(self._changed)
        self.risk_mode.currentIndexChanged.connect(self._risk_mode_changed)
        self.risk_value.valueChanged.connect(self._changed)
        self.expiry.currentIndexChanged.connect(self._type_changed)
        self.expiry_time.dateTimeChanged.connect(self._changed)
        self._risk_mode_changed()
        self._type_changed()

    def _market_button(self, name: str, role: str, side: Side) -> QPushButton:
        button = QPushButton()
        button.setObjectName(name)
        button.setProperty("role", role)
        button.setAutoDefault(False)
        button.setMinimumWidth(130)
        button.clicked.connect(lambda: self.send(side))
        return button

    @staticmethod
    def _price_box() -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0.0, 100_000_000.0)
        box.setDecimals(5)
        box.setSpecialValueText("—")  # 0 = not set
        return box

    def _with_error(self, name: str, widget: QWidget) -> QWidget:
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addWidget(widget)
        label = QLabel()
        label.setObjectName(f"error_{name}")
        label.setProperty("role", "error")
        label.setWordWrap(True)
        # a long message wraps under the field: it never asks the form for more width
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        label.hide()
        column.addWidget(label)
        self.errors[name] = label
        return holder

    # ------------------------------------------------------------------ what the form says
    @property
    def order_type(self) -> OrderType:
        value = OrderType(self.type_box.currentData())
        return value

    def form(self) -> TicketForm:
        return TicketForm(
            symbol=self.symbol_box.currentText().strip().upper(),
            type=self.order_type,
            volume=round(self.volume.value(), 8),
            price=self.price.value(),
            stoplimit=self.stoplimit.value(),
            sl=self.sl.value(),
            tp=self.tp.value(),
            in_points=self.in_points.isChecked(),
            deviation=self.deviation.value(),
            comment=self.comment.text(),
            time_in_force=TimeInForce(self.expiry.currentData()),
            expiration=cast(datetime, self.expiry_time.dateTime().toPython()).replace(tzinfo=UTC),
            filling=self.chosen_filling,
        )

    @property
    def chosen_filling(self) -> FillPolicy | None:
        """The fill policy picked in the ticket; None when the symbol allows only one (the service's)."""
        if self.filling.count() < 2:
            return None
        return FillPolicy(self.filling.currentData())

    def request(self, client_id: str = "") -> OrderRequest | None:
        if self.spec is None or self.spec.name != self.form().symbol:
            return None
        return self.form().request(self.spec, self._symbols.quote(self.spec.name), client_id)

    # ------------------------------------------------------------------ reacting to input
    @property
    def symbol(self) -> str:
        return self.symbol_box.currentText().strip().upper()

    def _symbol_changed(self) -> None:
        """Another symbol: nothing of the previous one may stay (its price, margin or verdict)."""
        symbol = self.symbol
        self.spec = None
        self._check_generation += 1  # a verdict on its way is about the previous symbol
        self._check_timer.stop()
        self.last_check = None
        self.setWindowTitle(f"New order — {symbol}" if symbol else "New order")
        self._clear_errors()
        self._set_verdict(False)
        self.margin_label.setText("Margin: —")
        self._say_check("", "")
        for box in (self.price, self.stoplimit, self.sl, self.tp):
            self._quietly(box, 0.0)
        self.filling.clear()
        self._form.setRowVisible(cast(QWidget, self.filling.parentWidget()), False)
        self._show_quote()
        self._symbol_timer.start()

    def _load_spec(self) -> None:
        self._symbol_timer.stop()
        symbol = self.symbol
        if not symbol:
            self.set_field_error("symbol", "type a symbol, e.g. EURUSD")
            return

        def failed(error: BaseException) -> bool:
            if symbol == self.symbol:
                self._symbol_failed(symbol, error)
            return True

        self._tasks.run(
            self._symbols.spec(symbol),
            what=f"symbol {symbol}",
            owner=self,
            on_result=self._spec_loaded,
            on_error=failed,
        )

    def _symbol_failed(self, symbol: str, error: BaseException) -> None:
        if isinstance(error, TemporaryError):
            message = f"{symbol}: the terminal cannot say yet ({describe_error(error)}); pick it again"
        else:
            message = f"“{symbol}” is not a symbol of this terminal: pick one from the list"
        self.set_field_error("symbol", message)
        self._say_check("error", "Check: no symbol")

    def _spec_loaded(self, spec: SymbolSpec) -> None:
        if spec.name != self.symbol:
            return
        self.spec = spec
        self.volume.setDecimals(max(_decimals(spec.volume_step), 2))
        self.volume.setSingleStep(spec.volume_step)
        self.volume.setMinimum(0.0)
        default = min(spec.volume_max, max(spec.volume_min, spec.floor_volume(DEFAULT_VOLUME)))
        self._quietly(self.volume, default)
        for box in (self.price, self.stoplimit):
            box.setDecimals(spec.digits)
            box.setSingleStep(spec.point * 10)
        self._fill_choices(spec)
        self._fill_price()
        self._points_toggled()
        self._show_quote()
        self._changed()

    def _fill_choices(self, spec: SymbolSpec) -> None:
        """The symbol's fill policies, the service's own pick first; the row shows only for a choice."""
        choices = fill_choices(spec)
        self.filling.blockSignals(True)
        self.filling.clear()
        for policy in choices:
            self.filling.addItem(FILL_TITLES.get(policy, policy.value.upper()), policy)
        self.filling.blockSignals(False)
        self._form.setRowVisible(cast(QWidget, self.filling.parentWidget()), len(choices) > 1)

    def _fill_price(self) -> None:
        """A pending order starts at the current price (ask to buy, bid to sell), on the symbol's tick."""
        order_type = self.order_type
        quote = self._symbols.quote(self.symbol)
        if not order_type.is_pending or self.spec is None:
            return
        wanted = self._wanted_price
        if wanted is not None and wanted[0] == self.symbol:
            self._quietly(self.price, self.spec.round_price(wanted[1]))
            return
        self._wanted_price = None  # another symbol: its own current price
        if quote is None:
            return
        price = quote.ask if order_type.side is Side.BUY else quote.bid
        self._quietly(self.price, self.spec.round_price(price))

    @staticmethod
    def _quietly(box: QDoubleSpinBox, value: float) -> None:
        box.blockSignals(True)
        box.setValue(value)
        box.blockSignals(False)

    def _type_changed(self) -> None:
        order_type = self.order_type
        pending = order_type.is_pending
        # price and stop-limit price each sit in a row widget of their own (with their buttons)
        self._form.setRowVisible(cast(QWidget, self.price.parentWidget()), pending)
        stop_limit = order_type in (OrderType.BUY_STOP_LIMIT, OrderType.SELL_STOP_LIMIT)
        self._form.setRowVisible(cast(QWidget, self.stoplimit.parentWidget()), stop_limit)
        self._form.setRowVisible(self.deviation, not pending)
        self._form.setRowVisible(self.expiry, pending)
        specified = TimeInForce(self.expiry.currentData()) is TimeInForce.SPECIFIED
        self._form.setRowVisible(self.expiry_time, pending and specified)
        side = order_type.side
        verb = "Buy" if side is Side.BUY else "Sell"
        self.send_button.setText(f"{verb} by Market" if not pending else f"Place {TYPE_TITLES[order_type]}")
        self.send_button.setProperty("role", "buy" if side is Side.BUY else "sell")
        self.send_button.style().unpolish(self.send_button)
        self.send_button.style().polish(self.send_button)
        self.send_button.setVisible(pending)
        self.sell_button.setVisible(not pending)
        self.buy_button.setVisible(not pending)
        if pending and not self.price.value():
            self._fill_price()
        self._changed()

    def _points_toggled(self) -> None:
        points = self.in_points.isChecked()
        for box in (self.sl, self.tp):
            box.blockSignals(True)
            if points:
                if self.spec is not None:
                    entry = entry_price(
                        self.order_type, self._symbols.quote(self.spec.name), self.price.value()
                    )
                    box.setValue(points_from_price(entry, box.value(), self.spec) if box.value() else 0)
                box.setDecimals(0)
                box.setSingleStep(10)
                box.setSuffix(" points")
            else:
                box.setValue(0)
                box.setDecimals(self.spec.digits if self.spec else 5)
                box.setSingleStep(self.spec.point * 10 if self.spec else 0.0001)
                box.setSuffix("")
            box.blockSignals(False)
        self._changed()

    def _risk_mode_changed(self) -> None:
        mode = self.risk_mode.currentData()
        self.risk_value.setVisible(mode != "lots")
        self._form.setRowVisible(self.risk_label, mode != "lots")
        self.risk_value.setSuffix(" %" if mode == "percent" else "")
        self.volume.setReadOnly(mode != "lots")
        self._changed()

    def _apply_risk(self) -> None:
        """Volume by risk: the lots that lose the chosen % of the balance (or money) at the SL."""
        mode = self.risk_mode.currentData()
        if mode == "lots":
            return
        account = self._account()
        if mode == "percent" and account is None:
            self.risk_label.setText("the balance is not known yet")
            return
        risk = self.risk_value.value()
        money = risk / 100 * account.balance if mode == "percent" and account is not None else risk
        request = self.request()
        if request is None or self.spec is None:
            return
        entry = entry_price(self.order_type, self._symbols.quote(self.spec.name), request.price)
        if not request.sl or not entry:
            self.risk_label.setText("set a stop loss: the risk is counted at its distance")
            return
        lots = volume_for_risk(money, entry, request.sl, self.spec)
        self._quietly(self.volume, lots)
        currency = account.currency if account is not None else ""
        self.risk_label.setText(
            f"= {formatting.volume(lots)} lots: {money:,.2f} {currency} at the SL".replace(",", " ")
            if lots
            else f"even {formatting.volume(self.spec.volume_min)} lots risk more than {money:,.2f}".replace(
                ",", " "
            )
        )

    def _changed(self) -> None:
        self._apply_risk()
        self._clear_errors()
        self._set_verdict(False)  # until the service has judged what the form says now
        self._check_timer.start()

    def _set_verdict(self, ok: bool) -> None:
        self.verdict_ok = ok
        self._update_send()

    def _update_send(self) -> None:
        ready = self.verdict_ok and not self.away_reason and self.submissions.can_send
        for button in (self.send_button, self.sell_button, self.buy_button):
            button.setEnabled(ready)

    def recheck(self) -> None:
        """Judge the form again (the account changed: margin, limits and the verdict may differ)."""
        self._changed()

    def set_away(self, reason: str) -> None:
        """Orders wait (``reason``: the live terminal visits another account), or go again (``""``)."""
        if reason == self.away_reason:
            return
        self.away_reason = reason
        if reason:
            self._say_check("error", f"Orders wait: {reason}")
        else:
            self._changed()  # back: judge the form again
        self._update_send()

    def _say_check(self, role: str, text: str) -> None:
        self.check_label.setProperty("role", role)
        self.check_label.setText(text)
        self._repolish(self.check_label)
        if text:
            self._fit_height()

    def _show_quote(self) -> None:
        quote = self._symbols.quote(self.symbol)
        bid = ask = "—"
        if quote is not None:
            bid, ask = formatting.price(quote.bid, quote.digits), formatting.price(quote.ask, quote.digits)
        self.sell_button.setText(f"Sell by Market\n{bid}")
        self.buy_button.setText(f"Buy by Market\n{ask}")
        if quote is None:
            self.quote_label.setText("")
            return
        d = quote.digits
        self.quote_label.setText(
            f"<span style='font-size:15pt;color:#ef5350'>{formatting.price(quote.bid, d)}</span>"
            f"&nbsp;&nbsp;/&nbsp;&nbsp;"
            f"<span style='font-size:15pt;color:#26a69a'>{formatting.price(quote.ask, d)}</span>"
        )

    # ------------------------------------------------------------------ the pre-check
    def run_check(self) -> None:
        request = self.request()
        if request is None or self.away_reason:
            return
        self._check_generation += 1
        generation = self._check_generation

        def shown(check: OrderCheck) -> None:
            if generation == self._check_generation and not self.away_reason:
                self._show_check(check)

        def failed(error: BaseException) -> bool:
            if generation == self._check_generation and not self.away_reason:
                self._show_error("check", error)
            return True

        self._tasks.run(
            self._trading.check(request), what="order check", owner=self, on_result=shown, on_error=failed
        )

    def _show_check(self, check: OrderCheck) -> None:
        self.last_check = check
        self.margin_label.setText(
            f"Margin: {formatting.money(check.margin)}    "
            f"Free margin after: {formatting.money(check.margin_free)}"
        )
        if check.ok:
            self._say_check("ok", "Check: OK")
        else:
            self._say_check("error", f"Check: {check.retcode_name} {check.comment}".strip())
            field = field_for_retcode(check.retcode_name)
            if field is not None:
                self.set_field_error(field, check.comment or check.retcode_name)
        self._set_verdict(check.ok)

    # ------------------------------------------------------------------ sending
    def send(self, side: Side | None = None) -> None:
        """Send what the form says; ``side`` (the Sell or Buy button) for a market order, else the
        type's own side. Each click is one submission: the buttons are off until its outcome."""
        if not self.submissions.can_send or not self.send_button.isEnabled():
            return  # no verdict, a refusal, orders waiting, or a send on its way
        if self.confirmation is not None and self.confirmation.isVisible():
            return  # a real account's question is open: the second click of a double click
        request = self.request()
        if request is None:
            self.set_field_error("volume", "symbol details are still loading")
            return
        if side is not None and self.spec is not None and not request.type.is_pending:
            request = self._market_order(side, self.spec)
        if self._is_real():
            self._confirm_real(request)
        else:
            self._submit(request)

    def _market_order(self, side: Side, spec: SymbolSpec) -> OrderRequest:
        """The form's market order on ``side`` (SL/TP in points count from that side's price)."""
        form = replace(self.form(), type=OrderType.BUY if side is Side.BUY else OrderType.SELL)
        return form.request(spec, self._symbols.quote(spec.name))

    def _confirm_real(self, request: OrderRequest) -> None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Real account")
        digits = self.spec.digits if self.spec else 5
        at = f" at {formatting.price(request.price, digits)}" if request.price else ""
        box.setText(
            f"This is a REAL account.\n\n{TYPE_TITLES[request.type]} {request.volume:g} {request.symbol}{at}"
            "\n\nSend this order?"
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.confirmation = box
        box.finished.connect(
            lambda result: self._submit(request) if result == QMessageBox.StandardButton.Yes else None
        )
        box.open()

    def _submit(self, request: OrderRequest) -> None:
        stamped = self.submissions.begin(request)
        if stamped is None:
            return  # a send is on its way (a double click), or the last outcome is unknown
        self._update_send()  # every send button is off until the outcome is known
        self._clear_errors()
        self._set_outcome("Sending ...", None)
        self._tasks.run(
            self._trading.place(stamped),
            what="order",
            owner=self,
            on_result=self._sent,
            on_error=self._send_failed,
        )

    def _sent(self, result: OrderResult) -> None:
        outcome = self.submissions.succeeded(result, self.spec.digits if self.spec else 5)
        self._set_outcome(outcome.text, True)
        self._changed()  # the account changed: a fresh verdict before the next send
        self.placed.emit(result)

    def _send_failed(self, error: BaseException) -> bool:
        outcome = self.submissions.failed(error)
        self._update_send()
        if isinstance(error, AmbiguousOutcomeError):
            log.warning("order %s: outcome unknown (%s)", error.client_id, error.message)
        if outcome.field is not None:
            self.set_field_error(outcome.field, getattr(error, "message", str(error)))
        self._set_outcome(outcome.text, False)
        return outcome.handled

    # ------------------------------------------------------------------ messages
    def set_field_error(self, field: str, message: str) -> None:
        """Show ``message`` under the field it names (tp, volume, ...); a field the form does not
        have (the symbol) is said in the check line instead."""
        label = self.errors.get(field)
        if label is None:
            self._say_check("error", f"{field}: {message}")
            return
        label.setText(message)
        label.show()
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow (never shrink, so typing does not make it jump) to show every line of a message."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        needed = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() else 0
        if needed > self.height():
            self.resize(self.width(), needed)

    def field_error(self, field: str) -> str:
        label = self.errors[field]
        return label.text() if not label.isHidden() else ""

    def _clear_errors(self) -> None:
        for label in self.errors.values():
            label.clear()
            label.hide()

    def _show_error(self, field: str, error: BaseException) -> bool:
        self._set_verdict(False)
        if isinstance(error, OrderValidationError):
            self.margin_label.setText("Margin: —")
            self._say_check("error", f"Check: refused ({error.field})")
            self.set_field_error(error.field, error.message)
        else:
            self._say_check("error", f"Check: {describe_error(error)}")
        return True

    def _set_outcome(self, text: str, ok: bool | None) -> None:
        self.outcome_label.setText(text)
        self.outcome_label.setProperty("role", "" if ok is None else "ok" if ok else "error")
        self._repolish(self.outcome_label)

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)
