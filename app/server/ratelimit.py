"""A sliding-window limit per client (failed login attempts per address): bounded in memory, O(1)
amortised."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_CLIENTS = 10_000


class RateLimiter:
    """At most ``limit`` hits per ``window_s`` seconds for each key; the oldest keys are forgotten
    beyond ``max_clients`` (an attacker rotating addresses cannot grow it without bound)."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_clients = max_clients
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, key: str) -> float:
        """Count one hit for ``key``; 0.0 when allowed, else the seconds to wait before the next one."""
        now = self._clock()
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
            while len(self._hits) > self.max_clients:
                self._hits.popitem(last=False)
        else:
            self._hits.move_to_end(key)
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(0.001, hits[0] + self.window_s - now)
        hits.append(now)
        return 0.0

    def forgive(self, key: str) -> None:
        """Take back ``key``'s latest hit (a login that succeeded: only failures count, so a dashboard
        that reconnects often is never locked out). Counting up front and forgiving after means a burst
        of concurrent guesses is bounded by the limit too."""
        hits = self._hits.get(key)
        if hits:
            hits.pop()

    @staticmethod
    def retry_after_header(wait_s: float) -> str:
        return str(max(1, math.ceil(wait_s)))
