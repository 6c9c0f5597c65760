"""Status bar: terminal state and ping, the account (login@server), DEMO/REAL, server time.

Server time is the newest tick's time carried forward by the local clock between ticks (a terminal
shows the trade server's clock; ticks are stamped with it). While the live terminal is logged in to
another account than the live one — the carousel visits an account on it — the bar says so, which
account and for how long: quotes pause and orders wait meanwhile (``live_away`` tells the window).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.models import AccountInfo, AccountTradeMode, Quote, TerminalState, TerminalStatus
from app.ui.market_watch.model import QUIET_S

STATUS_COLOURS = {
    TerminalStatus.LOGGED_IN: "#26a69a",
    TerminalStatus.CONNECTED: "#4fc3f7",
    TerminalStatus.CONNECTING: "#f0a04b",
    TerminalStatus.DISCONNECTED: "#ef5350",
    TerminalStatus.ERROR: "#ef5350",
}
VISIT_COLOUR = "#f0a04b"


class ServerClock:
    """Server time estimated from the newest tick stamp plus the local time since it arrived."""

    def __init__(self) -> None:
        self._server_ms = 0
        self._at = 0.0

    def observe(self, quotes: Iterable[Quote]) -> None:
        newest = max((q.time_msc for q in quotes), default=0)
        if newest > self._server_ms:
            self._server_ms, self._at = newest, time.monotonic()

    def now(self) -> datetime | None:
        if not self._server_ms:
            return None
        elapsed = time.monotonic() - self._at
        return datetime.fromtimestamp(self._server_ms / 1000, tz=UTC) + timedelta(seconds=elapsed)

    def now_or_wall(self) -> datetime:
        return self.now() or datetime.now(UTC)

    def quiet_for(self) -> float:
        """Seconds since the newest tick arrived (0 before the first)."""
        return time.monotonic() - self._at if self._server_ms else 0.0

    def last_tick(self) -> datetime | None:
        return datetime.fromtimestamp(self._server_ms / 1000, tz=UTC) if self._server_ms else None


class ElidedLabel(QLabel):
    """A label that gives up width before the window does: its text is cut with "…" when the status
    bar is narrow (the whole of it in the tooltip), so it never makes the window wider than the screen."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self.fontMetrics().horizontalAdvance("…") * 4, super().minimumSizeHint().height())

    def setText(self, text: str) -> None:  # noqa: N802 - Qt override
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width()
        )
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.contentsRect(), int(self.alignment()), shown)


class StatusBar(QStatusBar):
    clock_ticked = Signal(object)  # once a second: the server's time (datetime), or None before a tick
    live_away = Signal(str)  # why orders wait (the live terminal visits another account), or ""

    def __init__(self, terminal_kind: str, live_terminal: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StatusBar")
        self.setSizeGripEnabled(False)
        self.clock = ServerClock()
        self.mode_label = QLabel("")
        self.mode_label.setObjectName("TradeMode")
        self.account_label = ElidedLabel("no account")
        self.account_label.setObjectName("AccountLabel")
        self.terminal_label = QLabel(f"{terminal_kind}: connecting ...")
        self.terminal_label.setObjectName("TerminalLabel")
        self.time_label = QLabel("")
        self.time_label.setObjectName("ServerTime")
        self.risk_label = QLabel("")
        self.risk_label.setObjectName("KillSwitch")
        self.risk_label.setProperty("role", "real")  # the loud red badge
        self.risk_label.hide()
        self.addWidget(self.mode_label)
        self.addWidget(self.account_label)
        self.addWidget(self.risk_label)
        self.addPermanentWidget(self.time_label)
        self.addPermanentWidget(self.terminal_label)
        self._kind = terminal_kind
        self._live_terminal = live_terminal
        self._home: tuple[int, str] | None = None  # the live account
        self._visit: tuple[str, float] | None = None  # the account visited on the live terminal, since
        self.away = ""
        self._states: dict[str, TerminalState] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def set_terminals(self, states: Iterable[TerminalState]) -> None:
        for state in states:
            self._states[state.terminal_id] = state
        self._track_visit()
        self._show_terminals()

    def _visited(self) -> str | None:
        """The account the live terminal is on, if it is not the live account (a carousel visit)."""
        state = self._states.get(self._live_terminal)
        if state is None or self._home is None or state.login is None:
            return None
        if state.status is not TerminalStatus.LOGGED_IN:
            return None
        if (state.login, state.server.casefold()) == (self._home[0], self._home[1].casefold()):
            return None
        return f"{state.login}@{state.server}"

    def _track_visit(self) -> None:
        visited = self._visited()
        if visited is None:
            self._visit = None
        elif self._visit is None or self._visit[0] != visited:
            self._visit = (visited, time.monotonic())
        away = ""
        if self._visit is not None and self._home is not None:
            home = f"{self._home[0]}@{self._home[1]}"
            away = (
                f"the live terminal is visiting {self._visit[0]} for the carousel; orders are refused and "
                f"quotes pause until it is back on {home}"
            )
        if away != self.away:
            self.away = away
            self.live_away.emit(away)

    def _show_terminals(self) -> None:
        parts, tips = [], []
        for state in self._states.values():
            colour = STATUS_COLOURS.get(state.status, "#d6dde6")
            text = state.status.value.replace("_", " ")
            ping = f" · {state.ping_ms:.0f} ms" if state.ping_ms is not None and state.connected else ""
            tip = f"{state.terminal_id}: {state.reason or text}"
            if state.terminal_id == self._live_terminal and self._visit is not None:
                seconds = round(time.monotonic() - self._visit[1])
                colour, text, ping = VISIT_COLOUR, f"visiting {self._visit[0]} · {seconds} s", ""
                tip = f"{state.terminal_id}: {self.away}"
            parts.append(f"{state.terminal_id}: <span style='color:{colour}'>●</span> {text}{ping}")
            tips.append(tip)
        self.terminal_label.setText("&nbsp;&nbsp;".join(parts))
        self.terminal_label.setToolTip("\n".join(tips))

    def set_account(self, account: AccountInfo) -> None:
        self._home = (account.login, account.server)
        self._track_visit()
        self.account_label.setText(f"{account.login} · {account.server} · {account.name}")
        real = account.trade_mode is AccountTradeMode.REAL
        mode = "REAL" if real else account.trade_mode.value.upper()
        if self.mode_label.text() != mode:
            self.mode_label.setText(mode)
            self.mode_label.setProperty("role", "real" if real else "demo")
            self.mode_label.style().unpolish(self.mode_label)
            self.mode_label.style().polish(self.mode_label)

    def set_kill_switch(self, account: str, tripped: str | None) -> None:
        """Show (``tripped`` = why) or hide the kill-switch badge of the live account."""
        if tripped is None:
            self.risk_label.hide()
            return
        self.risk_label.setText("KILL SWITCH: new orders refused")
        self.risk_label.setToolTip(f"{account}: {tripped}\nReset it in Tools ▸ Reset kill switch")
        self.risk_label.show()

    def observe_quotes(self, quotes: Iterable[Quote]) -> None:
        self.clock.observe(quotes)

    def _tick(self) -> None:
        now = self.clock.now()
        last = self.clock.last_tick()
        if last is not None and self.clock.quiet_for() > QUIET_S:
            # no symbol quotes (every market closed, or the quotes stopped): say so, no guessed clock
            self.time_label.setText(f"No quotes since {last:%Y.%m.%d %H:%M:%S} (server time)")
        else:
            self.time_label.setText(f"Server time {now:%Y.%m.%d %H:%M:%S}" if now else "")
        if self._visit is not None:
            self._show_terminals()  # how long the visit has lasted
        self.clock_ticked.emit(now)
