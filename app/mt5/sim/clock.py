"""Time for the trade server: real by default, manual or accelerated for tests and demos.

Everything in the simulator reads time through a :class:`Clock` in integer milliseconds since the
epoch (server time = UTC). Prices are a pure function of time, so a test that owns a
:class:`ManualClock` decides exactly which ticks exist, when a pending order triggers and when the
weekend starts, without sleeping.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


def to_ms(value: datetime | int | float) -> int:
    """Milliseconds since the epoch from an aware/naive (UTC) datetime or a number of seconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp() * 1000)
    return int(float(value) * 1000)


class Clock(Protocol):
    """Now, in ms; ``wait`` sleeps until roughly ``deadline_ms`` or until woken (manual clocks)."""

    def now_ms(self) -> int: ...

    def wait(self, timeout_s: float) -> None: ...


class RealClock:
    """Wall-clock time."""

    kind = "real"

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def wait(self, timeout_s: float) -> None:
        time.sleep(timeout_s)


class ManualClock:
    """Time that moves only when told to: ``set`` and ``advance``. Waiters wake when it moves."""

    kind = "manual"

    def __init__(self, start: datetime | int) -> None:
        self._now = start if isinstance(start, int) else to_ms(start)
        self._moved = threading.Condition()

    def now_ms(self) -> int:
        return self._now

    def set(self, when: datetime | int) -> None:
        target = when if isinstance(when, int) else to_ms(when)
        with self._moved:
            if target < self._now:
                raise ValueError("a manual clock never goes back")
            self._now = target
            self._moved.notify_all()

    def advance(self, seconds: float = 0.0, *, ms: int = 0) -> int:
        """Move forward and return the new time in ms."""
        self.set(self._now + ms + round(seconds * 1000))
        return self._now

    def wait(self, timeout_s: float) -> None:
        with self._moved:
            self._moved.wait(timeout_s)


class ScaledClock:
    """Time that starts at ``start`` and runs ``speed`` times faster than the wall clock (demos)."""

    kind = "scaled"

    def __init__(self, start: datetime | int, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._start = start if isinstance(start, int) else to_ms(start)
        self._real_start = time.monotonic()
        self.speed = speed

    def now_ms(self) -> int:
        return self._start + int((time.monotonic() - self._real_start) * 1000 * self.speed)

    def wait(self, timeout_s: float) -> None:
        time.sleep(timeout_s)
