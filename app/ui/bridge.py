"""The one bridge from the event hub to Qt: drained on a timer at display rate, emitted as batches.

The hub is published to at tick rate; the window draws at most ``rate_hz`` times a second. Every
``1/rate_hz`` s this object drains its mailboxes (state topics conflated to the newest value per key,
bars, ticks and logs in order but bounded) and emits one Qt signal per topic with everything that
arrived. Views connect to these signals and never subscribe to the hub themselves, so there is one
place where the data crosses into Qt, and nothing repaints per tick.
"""

from __future__ import annotations

import time
from collections.abc import Hashable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from app.core.hub import Delivery, Event, EventHub, Subscription, Topic
from app.models import Bar, BarUpdate, Timeframe

BarKey = tuple[str, Timeframe]
STATE_TOPICS = (Topic.QUOTES, Topic.POSITIONS, Topic.ORDERS, Topic.ACCOUNT, Topic.TERMINAL, Topic.RISK)


class BarBatch:
    """All bar updates of one (symbol, timeframe) since the last frame: the closed bars in order and
    the newest live bar (a conflated mailbox would lose a bar that closed between two frames)."""

    __slots__ = ("closed", "live")

    def __init__(self, live: Bar) -> None:
        self.live = live
        self.closed: list[Bar] = []

    def add(self, update: BarUpdate) -> None:
        self.closed.extend(update.closed)
        self.live = update.bar


class HubBridge(QObject):
    """Drains the hub on a Qt timer in the GUI thread and emits what arrived, one signal per topic."""

    quotes = Signal(object)  # list[Quote]
    ticks = Signal(object)  # dict[str, list[TickBatch]]
    bars = Signal(object)  # dict[BarKey, BarBatch]
    positions = Signal(object)  # tuple[Position, ...] of the live account
    orders = Signal(object)  # tuple[Order, ...]
    account = Signal(object)  # AccountInfo
    terminals = Signal(object)  # list[TerminalState]
    logs = Signal(object)  # list[LogEntry]
    risk = Signal(object)  # list[RiskState]: kill switch and today's P/L per account
    drained = Signal(float)  # seconds the drain and every connected slot took (frame cost)

    def __init__(self, hub: EventHub, rate_hz: float = 60.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hub = hub
        self._subs: list[Subscription] = []
        self._state: Subscription | None = None
        self._bars: Subscription | None = None
        self._ticks: Subscription | None = None
        self._logs: Subscription | None = None
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(max(1, round(1000 / rate_hz)))
        self._timer.timeout.connect(self.drain)

    def start(self) -> None:
        """Open the mailboxes (with the hub's current state replayed) and start the timer."""
        if self._subs:
            return
        self._state = self._hub.subscribe(STATE_TOPICS, Delivery.LATEST, replay=True)
        self._bars = self._hub.subscribe(Topic.BARS, Delivery.ALL, maxlen=20_000)
        self._ticks = self._hub.subscribe(Topic.TICKS, Delivery.ALL, maxlen=5_000)
        self._logs = self._hub.subscribe(Topic.LOGS, Delivery.ALL, maxlen=2_000)
        self._subs = [self._state, self._bars, self._ticks, self._logs]
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        for sub in self._subs:
            sub.close()
        self._subs.clear()

    def drain(self) -> None:
        """One frame: everything that arrived since the last one, as one signal per topic."""
        started = time.perf_counter()
        if self._state is not None and len(self._state):
            self._emit_state(self._state.drain())
        if self._bars is not None and len(self._bars):
            batches: dict[BarKey, BarBatch] = {}
            for event in self._bars.drain():
                update: BarUpdate = event.value
                key = (update.symbol, update.timeframe)
                batch = batches.get(key)
                if batch is None:
                    batches[key] = batch = BarBatch(update.bar)
                batch.add(update)
            self.bars.emit(batches)
        if self._ticks is not None and len(self._ticks):
            by_symbol: dict[str, list[object]] = {}
            for event in self._ticks.drain():
                by_symbol.setdefault(str(event.key), []).append(event.value)
            self.ticks.emit(by_symbol)
        if self._logs is not None and len(self._logs):
            self.logs.emit([event.value for event in self._logs.drain()])
        self.drained.emit(time.perf_counter() - started)

    def _emit_state(self, events: list[Event]) -> None:
        latest: dict[Topic, dict[Hashable, object]] = {}
        for event in events:
            latest.setdefault(event.topic, {})[event.key] = event.value
        if Topic.QUOTES in latest:
            self.quotes.emit(list(latest[Topic.QUOTES].values()))
        if Topic.TERMINAL in latest:
            self.terminals.emit(list(latest[Topic.TERMINAL].values()))
        if Topic.ACCOUNT in latest and None in latest[Topic.ACCOUNT]:
            self.account.emit(latest[Topic.ACCOUNT][None])
        if Topic.POSITIONS in latest and None in latest[Topic.POSITIONS]:
            self.positions.emit(latest[Topic.POSITIONS][None])
        if Topic.ORDERS in latest and None in latest[Topic.ORDERS]:
            self.orders.emit(latest[Topic.ORDERS][None])
        if Topic.RISK in latest:
            self.risk.emit(list(latest[Topic.RISK].values()))
