"""Backoff and the one retry helper. Reads may be retried; an order send never is (see app.core.trading)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.models import TemporaryError

log = logging.getLogger(__name__)


@dataclass
class Backoff:
    """Exponential backoff with jitter: ``initial``, doubling, capped at ``maximum``; reset on success."""

    initial: float = 0.5
    maximum: float = 30.0
    jitter: float = 0.1
    attempts: int = field(default=0, init=False)

    def next_delay(self) -> float:
        delay = min(self.maximum, self.initial * (2**self.attempts))
        self.attempts += 1
        return delay * (1 + random.uniform(-self.jitter, self.jitter))  # noqa: S311 - not cryptographic

    def reset(self) -> None:
        self.attempts = 0


async def retry_read[T](
    read: Callable[[], Awaitable[T]],
    *,
    attempts: int = 3,
    backoff: Backoff | None = None,
    what: str = "read",
) -> T:
    """Run ``read``, retrying on :class:`TemporaryError` with backoff; other errors pass through."""
    delays = backoff or Backoff(initial=0.2, maximum=2.0)
    for attempt in range(1, attempts + 1):
        try:
            return await read()
        except TemporaryError as exc:
            if attempt == attempts:
                raise
            delay = delays.next_delay()
            log.debug("%s failed (%s); retry %d/%d in %.2fs", what, exc, attempt, attempts - 1, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
