"""The main window: composes the views, each on its own model or service, around one hub bridge.

MainWindow takes only the services it shows (:class:`WindowServices`), not the whole runtime. It
wires the bridge's per-frame signals to the views, the views' requests (open a chart, open the
ticket, add a symbol) to the services through the task runner, and keeps the menus and shortcuts.
Other tabs join the toolbox through :meth:`MainWindow.add_tab`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QWidget

from app import __version__
from app.audit import AuditTrail
from app.config import APP_NAME, Settings
from app.core.account_state import AccountState
from app.core.drawings import ChartType
from app.core.hub import EventHub, Topic
from app.core.market_data import MarketData
from app.core.one_click import OneClickTrading
from app.core.risk import RiskState
from app.core.trading import TradingService
from app.core.trailing import TrailingService
from app.core.users import UserDirectory
from app.logs import LogBus
from app.models import (
    AccountInfo,
    AlertCondition,
    NotConnectedError,
    OrderType,
    SymbolDetails,
    SymbolSpec,
    TemporaryError,
    TerminalState,
    TerminalStatus,
    Timeframe,
)
from app.mt5.backend import TerminalPlan
from app.ui import settings_file
from app.ui.bridge import HubBridge
from app.ui.chart.chart_trading import ChartTrading
from app.ui.chart_area import ChartArea
from app.ui.depth_window import DepthWindow
from app.ui.layout import WindowLayout
from app.ui.market_watch import MarketWatch, QuoteTableModel
from app.ui.market_watch.specification import SpecificationDialog
from app.ui.notifications import NotificationArea
from app.ui.settings_dialog import SettingsDialog
from app.ui.status_bar import StatusBar
from app.ui.tasks import TaskRunner
from app.ui.ticket.dialog import OrderTicket
from app.ui.toolbox.history_tab import HistoryTab
from app.ui.toolbox.journal_tab import JournalModel, JournalTab
from app.ui.toolbox.toolbox import Toolbox
from app.ui.toolbox.trade_model import TradeTableModel
from app.ui.toolbox.trade_tab import TradeTab

if TYPE_CHECKING:
    from app.runtime import Runtime

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1600, 1000)  # the first start's window, on a screen larger than this (else maximized)
TIMEFRAME_KEYS = (
    Timeframe.M1, Timeframe.M5, Timeframe.M15, Timeframe.M30, Timeframe.H1,
    Timeframe.H4, Timeframe.D1, Timeframe.W1, Timeframe.MN1,
)  # fmt: skip


@dataclass(frozen=True)
class WindowServices:
    """What the window shows and acts on: a subset of the runtime, named."""

    hub: EventHub
    market_data: MarketData
    account_state: AccountState
    trading: TradingService
    log_bus: LogBus
    plan: TerminalPlan
    settings: Settings
    audit: AuditTrail | None = None  # setting changes made in the window are recorded here
    users: UserDirectory | None = None  # the server's users and API keys (the settings' Users page)
    live_terminal: str = ""  # the terminal the window trades on (the carousel may borrow it)
    trailing: TrailingService | None = None  # client-side trailing stops (the Trade tab's menu)

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> WindowServices:
        return cls(
            runtime.hub,
            runtime.market_data,
            runtime.account_state,
            runtime.trading,
            runtime.log_bus,
            runtime.plan,
            runtime.settings,
            runtime.audit,
            runtime.server.users,
            runtime.pool.live.terminal_id,
            runtime.trailing,
        )


class MainWindow(QMainWindow):
    """Top-level window. Emits ``closed`` once when the user closes it (the app then shuts down)."""

    closed = Signal()

    def __init__(
        self,
        services: WindowServices,
        config_path: Path | None = None,
        tasks: TaskRunner | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowTitle(f"MT5 Trading Console {__version__}")
        self.resize(1500, 920)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowNestedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
        )
        self.services = services
        self.config_path = config_path
        self.account: AccountInfo | None = None
        self.final_layout: WindowLayout | None = None
        self.tickets: list[OrderTicket] = []
        self.depth_windows: list[DepthWindow] = []
        self.specification: SpecificationDialog | None = None  # the last one opened
        self.notifications = NotificationArea(self)
        self.tasks = tasks or TaskRunner()
        self.tasks.set_error_handler(self.notifications.notify_error)
        self.bridge = HubBridge(services.hub, parent=self)
        self._terminal_status: dict[str, TerminalStatus] = {}
        self.kill_switch_on = False
        self.confirmation: QMessageBox | None = None

        market = services.market_data
        trading_settings = services.settings.trading
        self.one_click = OneClickTrading(
            services.trading,
            acknowledged=trading_settings.one_click_acknowledged,
            audit=services.audit,
            persist=self._persist_one_click if config_path is not None else None,
        )
        self.chart_trading = ChartTrading(
            services.trading,
            self.one_click,
            self.tasks,
            market.cached_spec,
            confirm_drag=trading_settings.confirm_drag,
            one_click_default=trading_settings.one_click,
            parent=self,
        )
        self.charts = ChartArea(market, self.tasks, self, trading=self.chart_trading)
        self.setCentralWidget(self.charts)
        self.quotes_model = QuoteTableModel(services.settings.market.symbols)
        self.market_watch = MarketWatch(self.quotes_model)
        trailing = services.trailing
        self.trade_model = TradeTableModel(self.digits, trailing.distance if trailing is not None else None)
        self.trade_tab = TradeTab(
            self.trade_model, services.trading, self.tasks, self.is_real, self.digits, trailing=trailing
        )
        self.status = StatusBar(services.plan.kind, live_terminal=services.live_terminal)
        self.setStatusBar(self.status)
        self.history_tab = HistoryTab(
            services.account_state, self.tasks, self.status.clock.now_or_wall, self.digits
        )
        self.journal_model = JournalModel()
        self.journal_tab = JournalTab(self.journal_model)
        self.toolbox = Toolbox()
        self.add_tab("Trade", self.trade_tab)
        self.add_tab("History", self.history_tab)
        self.add_tab("Journal", self.journal_tab)
        self.market_dock = self._dock(
            "Market Watch", "MarketWatchDock", self.market_watch, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.toolbox_dock = self._dock(
            "Toolbox", "ToolboxDock", self.toolbox, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.resizeDocks([self.market_dock], [380], Qt.Orientation.Horizontal)
        self.resizeDocks([self.toolbox_dock], [250], Qt.Orientation.Vertical)
        self._build_menus()
        self._connect()

    # ------------------------------------------------------------------ composition
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        return dock

    def add_tab(self, name: str, widget: QWidget) -> int:
        """Dock ``widget`` as a toolbox tab (Accounts, Exposure, Audit are added this way)."""
        return self.toolbox.add_tab(name, widget)

    def _connect(self) -> None:
        b = self.bridge
        b.quotes.connect(self.quotes_model.apply)
        b.quotes.connect(self.status.observe_quotes)
        b.quotes.connect(self.charts.apply_quotes)
        b.bars.connect(self.charts.apply_bars)
        b.ticks.connect(self.charts.apply_ticks)
        b.positions.connect(self.trade_model.set_positions)
        b.positions.connect(self.charts.set_positions)
        b.positions.connect(self.history_tab.observe_positions)
        b.orders.connect(self.trade_model.set_orders)
        b.orders.connect(self.charts.set_orders)
        b.account.connect(self._on_account)
        b.terminals.connect(self._on_terminals)
        b.risk.connect(self._on_risk)
        b.logs.connect(self.journal_model.append)
        b.logs.connect(self.notifications.on_log_entries)
        self.status.live_away.connect(self._live_away)
        self.status.clock_ticked.connect(
            lambda now: self.quotes_model.set_server_time(int(now.timestamp() * 1000) if now else None)
        )
        mw = self.market_watch
        mw.chart_requested.connect(lambda s: self.charts.open_chart(s))
        mw.tick_chart_requested.connect(self.charts.open_tick_chart)
        mw.order_requested.connect(self.open_ticket)
        mw.depth_requested.connect(self.open_depth)
        mw.specification_requested.connect(self.open_specification)
        mw.add_requested.connect(self.add_symbol)
        mw.remove_requested.connect(self.remove_symbol)
        mw.alert_requested.connect(self.alert_from_market_watch)
        mw.symbol_set_requested.connect(self.show_symbols)
        self.charts.order_requested.connect(self.open_ticket)
        self.charts.order_at_price.connect(self.open_ticket)
        self.charts.alert_at_price.connect(self.alert_at)

    def start(self) -> None:
        """Start drawing: the bridge's timer, the Journal's backlog, the list of all symbols."""
        self.journal_model.append(self.services.log_bus.recent(limit=500))
        self.bridge.start()
        self.tasks.run(
            self._all_symbols(), what="symbol list", owner=self, on_result=self.market_watch.set_all_symbols
        )

    async def _all_symbols(self) -> list[SymbolSpec]:
        """Every symbol of the terminal (for the search box), once the terminal is there."""
        delay = 0.5
        for _ in range(20):
            try:
                return await self.services.market_data.all_symbols()
            except NotConnectedError:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        return await self.services.market_data.all_symbols()

    # ------------------------------------------------------------------ state from the bridge
    def digits(self, symbol: str) -> int:
        spec = self.services.market_data.cached_spec(symbol)
        if spec is not None:
            return spec.digits
        quote = self.quotes_model.quote(symbol)
        return quote.digits if quote is not None else 5

    def is_real(self) -> bool:
        return bool(self.account is not None and self.account.is_real)

    def _on_account(self, account: AccountInfo) -> None:
        another = self.account is not None and self.account.key != account.key
        if self.account is None or another:
            self.history_tab.forget_account()
            self.history_tab.refresh()  # the first account (or another one): its history
        self.history_tab.observe_account(account)  # a changed balance: a new deal to show
        self.account = account
        self.trade_tab.set_account(account)
        self.status.set_account(account)
        if another:
            # nothing of the previous account may stay: its kill switch, the tickets' verdicts
            self.kill_switch_on = False
            self.status.set_kill_switch(account.key, None)
            self.reset_kill_switch_action.setEnabled(False)
            self._on_risk(list(self.services.hub.latest_all(Topic.RISK).values()))
            for ticket in self.tickets:
                ticket.recheck()

    def _on_risk(self, states: list[RiskState]) -> None:
        for state in states:
            if self.account is not None and state.account.casefold() != self.account.key.casefold():
                continue
            switch = state.kill_switch
            before = self.kill_switch_on
            self.kill_switch_on = switch is not None
            self.status.set_kill_switch(state.account, switch.reason if switch else None)
            self.reset_kill_switch_action.setEnabled(self.kill_switch_on)
            if switch is not None and not before:
                self.notifications.show_toast(
                    logging.ERROR, f"Kill switch tripped on {state.account}: {switch.reason}"
                )

    def reset_kill_switch(self) -> None:
        """Turn the live account's kill switch off again, after asking (the reset is audited)."""
        if self.account is None or not self.kill_switch_on:
            return
        key = self.account.key
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Reset kill switch")
        box.setText(
            f"The daily-loss kill switch of {key} refuses new orders.\n\nTurn it off and allow orders again?"
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.confirmation = box
        box.finished.connect(
            lambda answer: (
                self.tasks.run(
                    self.services.trading.reset_kill_switch(key, actor="gui"),
                    what="reset the kill switch",
                    owner=self,
                )
                if answer == QMessageBox.StandardButton.Yes
                else None
            )
        )
        box.open()

    def _live_away(self, reason: str) -> None:
        """The live terminal left to visit another account (or came back): open tickets say so."""
        for ticket in self.tickets:
            ticket.set_away(reason)

    def _on_terminals(self, states: list[TerminalState]) -> None:
        self.status.set_terminals(states)
        for state in states:
            before = self._terminal_status.get(state.terminal_id)
            self._terminal_status[state.terminal_id] = state.status
            trouble = state.status in (TerminalStatus.ERROR, TerminalStatus.DISCONNECTED)
            if trouble and before not in (None, state.status) and state.reason != "stopped":
                self.notifications.show_toast(
                    logging.WARNING,
                    f"Terminal {state.terminal_id}: {state.status.value} {state.reason}".strip(),
                )

    # ------------------------------------------------------------------ actions
    def selected_symbol(self) -> str:
        chart = self.charts.current_chart()
        symbols = self.quotes_model.symbols
        return (
            self.market_watch.selected_symbol()
            or (chart.model.symbol if chart else "")
            or (symbols[0] if symbols else "")
        )

    def open_ticket(
        self, symbol: str = "", order_type: OrderType = OrderType.BUY, price: float = 0.0
    ) -> OrderTicket:
        ticket = OrderTicket(
            self.services.trading,
            self.services.market_data,
            self.tasks,
            self.is_real,
            symbol or self.selected_symbol(),
            order_type,
            parent=self,
            price=price,
            account=lambda: self.account,
        )
        ticket.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        ticket.set_away(self.status.away)
        self.tickets.append(ticket)
        ticket.destroyed.connect(lambda: self.tickets.remove(ticket) if ticket in self.tickets else None)
        ticket.show()
        return ticket

    def new_chart(self) -> None:
        symbol = self.selected_symbol()
        if symbol:
            self.charts.open_chart(symbol)

    def add_symbol(self, symbol: str) -> None:
        if symbol in self.quotes_model.symbols:
            return
        self.tasks.run(
            self.services.market_data.subscribe([symbol]),
            what=f"add {symbol}",
            owner=self,
            on_result=lambda _subscribed: self.quotes_model.add_symbol(symbol),
        )

    def _restore_symbols(self, symbols: list[str]) -> None:
        """Market Watch as the trader left it: the rows in their order, the added ones subscribed."""
        configured = set(self.services.settings.market.symbols)
        self.quotes_model.set_symbols(symbols)
        added = [s for s in symbols if s not in configured]
        if added:
            self.tasks.run(
                self._subscribe_when_ready(added),
                what="Market Watch symbols",
                owner=self,
                on_result=self._restored_symbols,
            )

    async def _subscribe_when_ready(self, symbols: list[str]) -> list[str]:
        """Subscribe ``symbols`` once the terminal is there; the ones it does not know are left out."""
        delay = 0.5
        for _ in range(30):
            try:
                return await self.services.market_data.subscribe(symbols, strict=False)
            except TemporaryError:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        return await self.services.market_data.subscribe(symbols, strict=False)

    def _restored_symbols(self, subscribed: list[str]) -> None:
        configured = set(self.services.settings.market.symbols)
        for symbol in self.quotes_model.symbols:
            if symbol not in configured and symbol not in subscribed:
                log.warning("Market Watch: %s is not a symbol of this terminal any more; left out", symbol)
                self.quotes_model.remove_symbol(symbol)

    def show_symbols(self, symbols: list[str]) -> None:
        """A symbol set chosen in Market Watch: exactly these rows, in this order (the others hidden,
        the new ones subscribed; one the terminal does not know is left out with a line in the log)."""
        for symbol in [s for s in self.quotes_model.symbols if s not in symbols]:
            self.remove_symbol(symbol)
        self.quotes_model.set_symbols(symbols)
        missing = [s for s in symbols if s not in self.services.market_data.subscribed]
        if missing:
            self.tasks.run(
                self._subscribe_when_ready(missing),
                what="symbol set",
                owner=self,
                on_result=lambda subscribed: self._keep_known(missing, subscribed),
            )

    def _keep_known(self, wanted: list[str], subscribed: list[str]) -> None:
        for symbol in wanted:
            if symbol not in subscribed:
                log.warning("Market Watch: %s is not a symbol of this terminal; left out", symbol)
                self.quotes_model.remove_symbol(symbol)

    def remove_symbol(self, symbol: str) -> None:
        self.quotes_model.remove_symbol(symbol)
        if symbol in self.charts.symbols_in_use():
            return  # a chart still needs its ticks: only hide it from Market Watch
        self.tasks.run(self.services.market_data.unsubscribe([symbol]), what=f"remove {symbol}", owner=self)

    async def _persist_one_click(self) -> None:
        """The risk acknowledgement into the settings file (the next start reads it)."""
        path = self.config_path
        assert path is not None  # noqa: S101 - only passed on with a path
        data = settings_file.merge(await asyncio.to_thread(settings_file.read, path),
                                   {"trading": {"one_click_acknowledged": True}})  # fmt: skip
        await asyncio.to_thread(settings_file.write, path, data)

    def open_depth(self, symbol: str = "") -> DepthWindow | None:
        """Alt+B: the Depth of Market of the selected symbol (Market Watch's, else the chart's)."""
        symbol = symbol or self.selected_symbol()
        if not symbol:
            return None
        window = DepthWindow(
            symbol, self.services.market_data, self.tasks, self.chart_trading, self.digits(symbol), self
        )
        window.order_at_price.connect(self.open_ticket)
        self.depth_windows.append(window)
        window.destroyed.connect(
            lambda: self.depth_windows.remove(window) if window in self.depth_windows else None
        )
        window.show()
        return window

    def open_specification(self, symbol: str) -> None:
        """Market Watch › Specification: the symbol's details as the terminal gives them."""

        def show(details: SymbolDetails) -> None:
            dialog = SpecificationDialog(details, self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.specification = dialog
            dialog.open()

        self.tasks.run(self.services.market_data.details(symbol), what=f"{symbol} specification", owner=self,
                       on_result=show)  # fmt: skip

    def alert_at(self, symbol: str, condition: object, price: float) -> None:
        """A chart's "Alert when the bid is above ...": the Alerts tab's form, filled in (when the
        window has the tab: the price alerts need the app's database)."""
        index = self.toolbox.tab_index("Alerts")
        if index is None:
            return
        tab = self.toolbox.widget(index)
        prefill = getattr(tab, "prefill", None)
        if prefill is not None:
            self.toolbox_dock.show()
            self.toolbox.show_tab("Alerts")
            prefill(symbol, condition, price)

    def alert_from_market_watch(self, symbol: str) -> None:
        """Market Watch › Alert...: the Alerts tab's form for the symbol at its current bid."""
        quote = self.quotes_model.quote(symbol)
        self.alert_at(symbol, AlertCondition.BID_ABOVE, quote.bid if quote is not None else 0.0)

    def toggle_one_click(self) -> None:
        """Alt+T: one-click trading on or off on the current chart."""
        chart = self.charts.current_chart()
        if chart is not None:
            chart.set_one_click(not chart.one_click)

    def open_settings(self) -> None:
        from app.config import default_config_file

        dialog = SettingsDialog(
            self.config_path or default_config_file(),
            self.services.settings,
            self.tasks,
            self,
            audit=self.services.audit,
            users=self.services.users,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    def _set_timeframe(self, timeframe: Timeframe) -> None:
        chart = self.charts.current_chart()
        if chart is not None:
            chart.set_timeframe(timeframe)

    def _set_chart_type(self, chart_type: ChartType) -> None:
        chart = self.charts.current_chart()
        if chart is not None:
            chart.model.set_chart_type(chart_type)

    def _zoom(self, factor: float) -> None:
        chart = self.charts.current_chart()
        if chart is not None:
            chart.view.zoom(factor)

    def _add_indicator(self) -> None:
        chart = self.charts.current_chart()
        if chart is not None:
            chart.ask_indicator()

    def toggle_full_screen(self) -> None:
        """F11: full screen, and back to how the window was before (maximized, or its own size on
        the screen), never a window whose bottom is off the screen."""
        if not self.isFullScreen():
            self._before_full_screen = self.windowState() & ~Qt.WindowState.WindowFullScreen
            self.showFullScreen()
            return
        before = getattr(self, "_before_full_screen", Qt.WindowState.WindowNoState)
        if before & Qt.WindowState.WindowMaximized:
            self.showMaximized()
        else:
            self.showNormal()
        self.keep_on_screen()  # a normal window: all of it on the screen (a maximized one is already)

    def keep_on_screen(self) -> None:
        """Move and shrink a normal window so that all of it, its frame too, is on its screen (a
        maximized or full-screen one is placed by the window manager)."""
        screen = self.screen()
        if screen is None or self.windowState() & (
            Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen
        ):
            return
        room = screen.availableGeometry()
        frame = self.frameGeometry()
        extra_w, extra_h = frame.width() - self.width(), frame.height() - self.height()
        width = min(self.width(), room.width() - extra_w)
        height = min(self.height(), room.height() - extra_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        frame = self.frameGeometry()
        x = min(max(frame.left(), room.left()), room.right() - frame.width() + 1)
        y = min(max(frame.top(), room.top()), room.bottom() - frame.height() + 1)
        if (x, y) != (frame.left(), frame.top()):
            self.move(x, y)

    # ------------------------------------------------------------------ menus
    def _action(self, menu, text: str, slot, shortcut: str | QKeySequence | None = None) -> QAction:  # type: ignore[no-untyped-def]
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "New Chart", self.new_chart, "Ctrl+N")
        close_chart = self._action(file_menu, "Close Chart", self.charts.close_current, "Ctrl+W")
        close_chart.setShortcuts([QKeySequence("Ctrl+W"), QKeySequence("Ctrl+F4")])
        file_menu.addSeparator()
        self._action(file_menu, "Quit", self.close, "Ctrl+Q")
        view = bar.addMenu("&View")
        self.view_menu = view
        market_toggle = self.market_dock.toggleViewAction()
        market_toggle.setShortcut(QKeySequence("Ctrl+M"))
        view.addAction(market_toggle)
        toolbox_toggle = self.toolbox_dock.toggleViewAction()
        toolbox_toggle.setShortcut(QKeySequence("Ctrl+T"))
        view.addAction(toolbox_toggle)
        view.addSeparator()
        self._action(view, "Full Screen", self.toggle_full_screen, "F11")
        insert = bar.addMenu("&Insert")
        self._action(insert, "Indicator...", self._add_indicator, "Ctrl+I")
        charts = bar.addMenu("&Charts")
        for i, timeframe in enumerate(TIMEFRAME_KEYS, start=1):
            self._action(
                charts,
                f"Timeframe {timeframe.name}",
                lambda tf=timeframe: self._set_timeframe(tf),
                f"Alt+{i}",
            )
        charts.addSeparator()
        for digit, kind in enumerate((ChartType.BARS, ChartType.CANDLES, ChartType.LINE), start=1):
            # the key is the chart's own (Ctrl+digit while it has the focus): shown here, not bound twice
            self._action(charts, f"{kind.label}\tCtrl+{digit}", lambda k=kind: self._set_chart_type(k))
        charts.addSeparator()
        self._action(charts, "Zoom In", lambda: self._zoom(0.7), "+")
        self._action(charts, "Zoom Out", lambda: self._zoom(1.4), "-")
        zoom_in_alt = QAction(self)
        zoom_in_alt.setShortcut(QKeySequence("="))
        zoom_in_alt.triggered.connect(lambda: self._zoom(0.7))
        self.addAction(zoom_in_alt)
        self._action(charts, "Tick Chart", lambda: self.charts.open_tick_chart(self.selected_symbol()))
        charts.addSeparator()
        self._action(charts, "One Click Trading", self.toggle_one_click, "Alt+T")
        self._action(charts, "Depth of Market", lambda: self.open_depth(), "Alt+B")
        tools = bar.addMenu("T&ools")  # Alt+T is one-click trading (MT5's)
        self._action(tools, "New Order", lambda: self.open_ticket(), "F9")
        self._action(tools, "Options...", self.open_settings, "Ctrl+O")
        tools.addSeparator()
        self.reset_kill_switch_action = self._action(tools, "Reset kill switch...", self.reset_kill_switch)
        self.reset_kill_switch_action.setEnabled(False)
        window = bar.addMenu("&Window")
        self._action(window, "Tile Windows", self.charts.tile, "Alt+R")
        self._action(window, "Cascade", self.charts.cascade)
        self._action(window, "Tabbed", lambda: self.charts.set_tabbed(True))
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "About", self._about)

    def _about(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information, APP_NAME, f"MT5 Trading Console {__version__}", parent=self
        )
        box.open()

    # ------------------------------------------------------------------ layout
    def capture_layout(self) -> WindowLayout:
        charts, active = self.charts.describe()
        return WindowLayout(
            geometry=bytes(self.saveGeometry().data()),
            state=bytes(self.saveState().data()),
            charts=charts,
            active=active,
            tabbed=self.charts.tabbed,
            toolbox_tab=self.toolbox.current_name(),
            symbols=self.quotes_model.symbols,
            market_columns=self.market_watch.visible_columns(),
            symbol_sets=dict(self.market_watch.symbol_sets),
        )

    def restore_layout(self, layout: WindowLayout | None) -> None:
        """Put docks, geometry and charts back as they were; with no layout, one chart to start with."""
        if layout is None or not layout.geometry:
            screen = self.screen().availableGeometry() if self.screen() is not None else None
            if screen is not None and screen.width() > 0:
                self.resize(*DEFAULT_SIZE)
                self.move(screen.topLeft())
                self.keep_on_screen()
                if screen.width() <= DEFAULT_SIZE[0] or screen.height() <= DEFAULT_SIZE[1]:
                    self.setWindowState(Qt.WindowState.WindowMaximized)  # as MT5 opens on a small screen
        if layout is None:
            symbols = self.quotes_model.symbols
            if symbols:
                self.charts.open_chart(symbols[0])
            return
        if layout.symbols is not None:
            self._restore_symbols(layout.symbols)
        if layout.market_columns is not None:
            self.market_watch.set_visible_columns(layout.market_columns)
        self.market_watch.set_symbol_sets(layout.symbol_sets)
        if layout.geometry:
            self.restoreGeometry(QByteArray(layout.geometry))
        if layout.state:
            self.restoreState(QByteArray(layout.state))
        self.charts.set_tabbed(layout.tabbed)
        self.charts.restore(layout.charts, layout.active)
        if not layout.tabbed:
            self.charts.tileSubWindows()
        self.toolbox.show_tab(layout.toolbox_tab)

    # ------------------------------------------------------------------ shutdown
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.final_layout is None:
            self.final_layout = self.capture_layout()
        super().closeEvent(event)
        if event.isAccepted():
            self.closed.emit()

    async def shutdown(self) -> None:
        """Stop drawing and stop the charts' feeds; cancel what is still running."""
        self.bridge.stop()
        self.charts.close_all()
        await self.tasks.cancel_all()
