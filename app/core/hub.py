"""The event hub: Qt-free publish/subscribe that carries data outwards (terminal → UI, server, store).

Publishing never blocks and never grows without bound. Each subscription has its own mailbox:

* ``Delivery.LATEST`` keeps the newest value per key (a quote per symbol, the positions per account):
  a slow subscriber sees fewer, fresher values — conflation.
* ``Delivery.ALL`` keeps every event up to ``maxlen``, then drops the oldest and counts the loss
  (logs, tick batches for a tick chart).

A subscriber reads its mailbox at its own pace (``await sub.get()`` or ``sub.drain()`` from a timer),
so one slow reader never delays the publisher or the other readers. The hub belongs to one event-loop
thread; other threads hand events over with :meth:`EventHub.publish_threadsafe`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Hashable, Iterable
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any


class Topic(StrEnum):
    QUOTES = "quotes"
    TICKS = "ticks"
    BARS = "bars"
    POSITIONS = "positions"
    ORDERS = "orders"
    ACCOUNT = "account"
    ACCOUNTS = "accounts"
    LOGS = "logs"
    SIGNALS = "signals"
    CAROUSEL = "carousel"
    TERMINAL = "terminal"
    TRADES = "trades"
    RISK = "risk"
    ALERTS = "alerts"


class Delivery(Enum):
    LATEST = "latest"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class Event:
    topic: Topic
    key: Hashable
    value: Any


class Subscription:
    """One subscriber's mailbox on the hub. Not thread-safe: used on the hub's loop thread."""

    def __init__(self, hub: EventHub, topics: frozenset[Topic], delivery: Delivery, maxlen: int) -> None:
        self.topics = topics
        self.delivery = delivery
        self.dropped = 0
        self._hub = hub
        self._latest: dict[tuple[Topic, Hashable], Event] = {}
        self._queue: deque[Event] = deque(maxlen=maxlen)
        self._ready = asyncio.Event()
        self._closed = False

    def offer(self, event: Event) -> None:
        if self.delivery is Delivery.LATEST:
            self._latest[(event.topic, event.key)] = event
        else:
            if len(self._queue) == self._queue.maxlen:
                self.dropped += 1
            self._queue.append(event)
        self._ready.set()

    def drain(self) -> list[Event]:
        """Everything waiting, oldest first, without blocking (an empty list if nothing is)."""
        self._ready.clear()
        if self.delivery is Delivery.LATEST:
            events = list(self._latest.values())
            self._latest.clear()
        else:
            events = list(self._queue)
            self._queue.clear()
        return events

    async def get(self) -> list[Event]:
        """Wait until at least one event is waiting, then return all of them."""
        while True:
            events = self.drain()
            if events or self._closed:
                return events
            await self._ready.wait()

    def __len__(self) -> int:
        return len(self._latest) if self.delivery is Delivery.LATEST else len(self._queue)

    async def __aiter__(self) -> AsyncIterator[list[Event]]:
        while not self._closed:
            events = await self.get()
            if events:
                yield events

    def close(self) -> None:
        self._closed = True
        self._ready.set()
        self._hub.unsubscribe(self)


class EventHub:
    """Routes published values to subscriptions and remembers the latest value per topic and key."""

    def __init__(self) -> None:
        self._subscriptions: dict[Topic, list[Subscription]] = {topic: [] for topic in Topic}
        self._latest: dict[Topic, dict[Hashable, Any]] = {topic: {} for topic in Topic}
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop that owns the hub (needed only for :meth:`publish_threadsafe`)."""
        self._loop = loop

    def publish(self, topic: Topic, value: Any, key: Hashable = None) -> None:
        event = Event(topic, key, value)
        self._latest[topic][key] = value
        for subscription in self._subscriptions[topic]:
            subscription.offer(event)

    def publish_threadsafe(self, topic: Topic, value: Any, key: Hashable = None) -> None:
        if self._loop is None:
            raise RuntimeError("EventHub.bind_loop() must be called before publishing from another thread")
        self._loop.call_soon_threadsafe(self.publish, topic, value, key)

    def latest(self, topic: Topic, key: Hashable = None, default: Any = None) -> Any:
        """The last value published on ``topic`` under ``key`` (state for answers that must not wait)."""
        return self._latest[topic].get(key, default)

    def latest_all(self, topic: Topic) -> dict[Hashable, Any]:
        return dict(self._latest[topic])

    def subscribe(
        self,
        topics: Topic | Iterable[Topic],
        delivery: Delivery = Delivery.LATEST,
        maxlen: int = 1_000,
        replay: bool = False,
    ) -> Subscription:
        """Open a mailbox on ``topics``; with ``replay`` it starts with the latest value of each key."""
        wanted = frozenset([topics] if isinstance(topics, Topic) else topics)
        subscription = Subscription(self, wanted, delivery, maxlen)
        for topic in wanted:
            self._subscriptions[topic].append(subscription)
            if replay:
                for key, value in self._latest[topic].items():
                    subscription.offer(Event(topic, key, value))
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        for topic in subscription.topics:
            if subscription in self._subscriptions[topic]:
                self._subscriptions[topic].remove(subscription)

    def subscriber_count(self, topic: Topic) -> int:
        return len(self._subscriptions[topic])
