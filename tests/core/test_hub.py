"""The event hub conflates for slow readers, never grows without bound, and isolates subscribers."""

from __future__ import annotations

import asyncio
import threading

import pytest

from app.core.hub import Delivery, EventHub, Topic


def test_latest_delivery_conflates_per_key() -> None:
    hub = EventHub()
    sub = hub.subscribe(Topic.QUOTES)
    for i in range(1_000):
        hub.publish(Topic.QUOTES, i, key="EURUSD")
        hub.publish(Topic.QUOTES, -i, key="GBPUSD")
    events = sub.drain()
    assert [(e.key, e.value) for e in events] == [("EURUSD", 999), ("GBPUSD", -999)]
    assert sub.drain() == []


def test_all_delivery_is_bounded_and_counts_what_it_dropped() -> None:
    hub = EventHub()
    sub = hub.subscribe(Topic.LOGS, Delivery.ALL, maxlen=100)
    for i in range(250):
        hub.publish(Topic.LOGS, i)
    values = [e.value for e in sub.drain()]
    assert values == list(range(150, 250))
    assert sub.dropped == 150


def test_a_slow_subscriber_does_not_hold_back_a_fast_one() -> None:
    hub = EventHub()
    slow = hub.subscribe(Topic.QUOTES)
    fast = hub.subscribe(Topic.QUOTES, Delivery.ALL, maxlen=10_000)
    seen = 0
    for i in range(5_000):
        hub.publish(Topic.QUOTES, i, key="EURUSD")
        seen += len(fast.drain())  # the fast reader keeps up; the slow one never reads
    assert seen == 5_000
    assert len(slow) == 1  # one conflated value, not 5,000
    assert slow.drain()[0].value == 4_999


def test_topics_are_separate_and_latest_state_is_kept() -> None:
    hub = EventHub()
    positions = hub.subscribe(Topic.POSITIONS)
    hub.publish(Topic.ACCOUNT, {"balance": 1}, key="1@Demo")
    hub.publish(Topic.POSITIONS, [1, 2], key="1@Demo")
    assert [e.topic for e in positions.drain()] == [Topic.POSITIONS]
    assert hub.latest(Topic.ACCOUNT, "1@Demo") == {"balance": 1}
    assert hub.latest(Topic.ACCOUNT, "other", default="none") == "none"
    late = hub.subscribe([Topic.ACCOUNT, Topic.POSITIONS], replay=True)
    assert {e.topic for e in late.drain()} == {Topic.ACCOUNT, Topic.POSITIONS}


def test_closed_subscription_receives_nothing() -> None:
    hub = EventHub()
    sub = hub.subscribe(Topic.ORDERS)
    sub.close()
    hub.publish(Topic.ORDERS, 1)
    assert hub.subscriber_count(Topic.ORDERS) == 0
    assert sub.drain() == []


async def test_get_waits_for_the_next_event_and_iteration_ends_on_close() -> None:
    hub = EventHub()
    sub = hub.subscribe(Topic.TERMINAL, Delivery.ALL)
    waiter = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    assert not waiter.done()
    hub.publish(Topic.TERMINAL, "connected", key="t1")
    assert [e.value for e in await asyncio.wait_for(waiter, 1)] == ["connected"]

    batches: list[list[object]] = []

    async def consume() -> None:
        async for batch in sub:
            batches.append([e.value for e in batch])

    consumer = asyncio.create_task(consume())
    hub.publish(Topic.TERMINAL, "a")
    await asyncio.sleep(0.01)
    sub.close()
    await asyncio.wait_for(consumer, 1)
    assert batches == [["a"]]


async def test_publish_threadsafe_delivers_on_the_loop_thread() -> None:
    hub = EventHub()
    hub.bind_loop(asyncio.get_running_loop())
    sub = hub.subscribe(Topic.QUOTES, Delivery.ALL)
    loop_thread = threading.get_ident()
    threads: list[int] = []
    original = sub.offer

    def record(event: object) -> None:
        threads.append(threading.get_ident())
        original(event)  # type: ignore[arg-type]

    sub.offer = record  # type: ignore[method-assign]
    worker = threading.Thread(target=lambda: [hub.publish_threadsafe(Topic.QUOTES, i, "X") for i in range(3)])
    worker.start()
    worker.join()
    events = await asyncio.wait_for(sub.get(), 1)
    while len(events) < 3:
        events += await asyncio.wait_for(sub.get(), 1)
    assert [e.value for e in events] == [0, 1, 2]
    assert set(threads) == {loop_thread}


def test_publish_threadsafe_needs_a_bound_loop() -> None:
    with pytest.raises(RuntimeError, match="bind_loop"):
        EventHub().publish_threadsafe(Topic.QUOTES, 1)
