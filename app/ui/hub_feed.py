"""Hub → Qt for the Accounts, Exposure and carousel views: one mailbox, drained on a timer.

The carousel and the registry publish on the hub's event loop, which in the window is the Qt thread
(qasync). A view never handles events one by one: every ``1/rate_hz`` seconds the feed takes what
arrived — the latest value per key (conflated: an account visited five times since the last frame
shows once) — and emits it as one batch.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, QTimer, Signal

from app.core.hub import Delivery, EventHub, Subscription, Topic


class HubFeed(QObject):
    """Emits ``arrived(list[Event])`` at most ``rate_hz`` times a second, with the latest per key."""

    arrived = Signal(object)

    def __init__(
        self,
        hub: EventHub,
        topics: Topic | Iterable[Topic],
        rate_hz: float = 10.0,
        parent: QObject | None = None,
        *,
        replay: bool = True,
    ) -> None:
        super().__init__(parent)
        self._hub = hub
        self._topics = topics
        self._replay = replay  # False for events (a firing), whose latest value is no state to show
        self._subscription: Subscription | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, round(1000 / rate_hz)))
        self._timer.timeout.connect(self.drain)

    def start(self) -> None:
        """Open the mailbox (starting with the hub's current values, unless told not to replay them)
        and the timer."""
        if self._subscription is None:
            self._subscription = self._hub.subscribe(self._topics, Delivery.LATEST, replay=self._replay)
        self._timer.start()

    def drain(self) -> None:
        if self._subscription is not None and len(self._subscription):
            self.arrived.emit(self._subscription.drain())

    def stop(self) -> None:
        self._timer.stop()
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
