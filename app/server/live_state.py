"""What one Socket.IO connection follows of the live market data (seed 002's subscriptions, seed 001's
``candles`` and ``book`` channels), and its candle outbox.

The candle outbox keeps, per (symbol, timeframe), the bars that closed since the client's sender last
ran (each goes out once, in order, ``closed: true``) and the newest live bar (latest wins). A slow client
so gets fewer live-bar updates but never loses a closed bar, and never sees a bar older than one it
already got.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.indicators import IndicatorSpec
from app.models import Timeframe

CandleKey = tuple[str, Timeframe]
SubKey = tuple[str, Timeframe | None]  # seed 002's {symbol, timeframe?}; None: ticks only
MAX_CLOSED_PER_KEY = 100  # closed bars waiting for one slow client, per key (the oldest go first)


@dataclass
class CandleOutbox:
    """Encoded ``candles`` packets waiting for one client, in the order they must arrive."""

    closed: dict[CandleKey, list[str]] = field(default_factory=dict)
    live: dict[CandleKey, str] = field(default_factory=dict)
    dropped: int = 0

    def offer(self, key: CandleKey, closed: list[str], live: str | None) -> None:
        if closed:
            waiting = self.closed.setdefault(key, [])
            waiting.extend(closed)
            if len(waiting) > MAX_CLOSED_PER_KEY:
                self.dropped += len(waiting) - MAX_CLOSED_PER_KEY
                del waiting[: len(waiting) - MAX_CLOSED_PER_KEY]
            self.live.pop(key, None)  # a live bar older than the bar that just closed is stale
        if live is not None:
            self.live[key] = live

    def drain(self) -> list[str]:
        packets: list[str] = []
        for key in list(self.closed) + [k for k in self.live if k not in self.closed]:
            packets.extend(self.closed.pop(key, ()))
            live = self.live.pop(key, None)
            if live is not None:
                packets.append(live)
        return packets

    def forget(self, key: CandleKey) -> None:
        self.closed.pop(key, None)
        self.live.pop(key, None)

    def __len__(self) -> int:
        return sum(len(v) for v in self.closed.values()) + len(self.live)


@dataclass
class LiveInterest:
    """One client's live-data subscriptions (both dialects)."""

    subscriptions: set[SubKey] = field(default_factory=set)  # seed 002's form: ticks + candles
    channel_candles: set[CandleKey] = field(default_factory=set)  # seed 001's ``candles`` channel
    books: set[str] = field(default_factory=set)  # depth streamed to this client
    channel_books: set[str] = field(default_factory=set)  # ... of which seed 001's ``book`` channel
    indicators: dict[CandleKey, tuple[IndicatorSpec, ...]] = field(default_factory=dict)
    outbox: CandleOutbox = field(default_factory=CandleOutbox)

    @property
    def tick_symbols(self) -> set[str]:
        return {symbol for symbol, _ in self.subscriptions}

    @property
    def candle_keys(self) -> set[CandleKey]:
        keys = {(s, tf) for s, tf in self.subscriptions if tf is not None}
        return keys | self.channel_candles

    @property
    def count(self) -> int:
        """Symbol × timeframe subscriptions, as the per-client limit counts them."""
        return len(self.subscriptions | set(self.channel_candles))

    @property
    def active(self) -> bool:
        return bool(self.subscriptions or self.channel_candles or self.books)
