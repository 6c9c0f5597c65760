"""Market data for the app: symbols, the live tick stream, quotes, bars (history and live), depth.

Ticks come from the live terminal's worker, which gathers them incrementally (``copy_ticks_from``
since the last delivered tick: none missed, none doubled) and pushes them here. This service turns
them into hub events: every batch on ``ticks``, the latest quote per symbol on ``quotes``, and the
live bar of each watched (symbol, timeframe) on ``bars``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime

from app.core.bars import LiveBar
from app.core.hub import EventHub, Topic
from app.models import (
    Bar,
    BarSeries,
    BarUpdate,
    Book,
    Quote,
    RejectedError,
    SymbolDetails,
    SymbolSpec,
    TemporaryError,
    Tick,
    TickBatch,
    Timeframe,
)
from app.models.market import msc_to_datetime
from app.mt5.pool import TerminalPool
from app.retry import Backoff

log = logging.getLogger(__name__)


class MarketData:
    """Symbols, subscriptions and bars over the pool's live terminal. Lives on the app's event loop."""

    name = "market-data"

    def __init__(
        self,
        hub: EventHub,
        pool: TerminalPool,
        symbols: Iterable[str] = (),
        poll_interval_s: float = 0.01,
    ) -> None:
        self._hub = hub
        self._pool = pool
        self._initial = list(symbols)
        self.poll_interval_s = poll_interval_s
        self._subscribed: list[str] = []
        self._specs: dict[str, SymbolSpec] = {}
        self._all_specs: list[SymbolSpec] | None = None
        self._daily: dict[str, LiveBar] = {}
        self._live_bars: dict[tuple[str, Timeframe], LiveBar] = {}
        self._watchers: dict[tuple[str, Timeframe], int] = {}
        self._held: dict[str, frozenset[str]] = {}  # holder -> symbols it keeps in the stream
        self._starter: asyncio.Task[None] | None = None
        self.ticks_received = 0

    async def start(self) -> None:
        self._pool.live.add_ticks_listener(self._on_ticks)
        if self._initial:
            self._starter = asyncio.create_task(self._subscribe_initial(), name="market-data-start")

    async def _subscribe_initial(self) -> None:
        """Subscribe the configured symbols as soon as the terminal allows (it may still be starting)."""
        backoff = Backoff(initial=1.0, maximum=30.0)
        while True:
            try:
                await self.subscribe(self._initial, strict=False)
                return
            except TemporaryError as exc:
                log.debug("market data waits for the terminal: %s", exc)  # routine while it starts
            await asyncio.sleep(backoff.next_delay())

    async def stop(self) -> None:
        if self._starter is not None:
            self._starter.cancel()
            await asyncio.gather(self._starter, return_exceptions=True)
        self._subscribed.clear()

    # ------------------------------------------------------------------ symbols
    @property
    def subscribed(self) -> list[str]:
        return list(self._subscribed)

    async def all_symbols(self) -> list[SymbolSpec]:
        if self._all_specs is None:
            self._all_specs = await self._pool.live.call("symbols")
        return list(self._all_specs)

    async def spec(self, symbol: str) -> SymbolSpec:
        spec = self._specs.get(symbol)
        if spec is None:
            spec = await self._pool.live.call("symbol", symbol)
            self._specs[symbol] = spec
        return spec

    async def details(self, symbol: str) -> SymbolDetails:
        """The Specification window's facts, asked fresh (the margins follow the price); the spec
        they carry refreshes the cached one."""
        details: SymbolDetails = await self._pool.live.call("symbol_details", symbol)
        self._specs[symbol] = details.spec
        return details

    def cached_spec(self, symbol: str) -> SymbolSpec | None:
        return self._specs.get(symbol)

    async def subscribe(self, symbols: Iterable[str], strict: bool = True) -> list[str]:
        """Add symbols to the quote stream; returns the subscribed list.

        An unknown symbol raises :class:`RejectedError` naming it (``strict``) or is left out with a
        warning in the log; terminal trouble raises :class:`TemporaryError` either way.
        """
        wanted: list[str] = []
        for symbol in dict.fromkeys(symbols):
            if symbol in self._subscribed:
                continue
            try:
                spec = await self.spec(symbol)
            except RejectedError as exc:
                if strict:
                    raise RejectedError(f"unknown symbol {symbol!r}: {exc.message}", exc.code) from exc
                log.warning("symbol %s is not available here: %s", symbol, exc.message)
                continue
            wanted.append(symbol)
            day = await self._pool.live.call("rates_from_pos", symbol, Timeframe.D1, 0, 1)
            live = LiveBar(symbol, Timeframe.D1, spec.point)
            if len(day):
                live.current = day.bar(len(day) - 1)
            self._daily[symbol] = live
        if wanted:
            self._subscribed.extend(wanted)
            await self._pool.live.stream_ticks(self._subscribed, self.poll_interval_s)
            for symbol in wanted:
                await self._publish_last_quote(symbol)
        return self.subscribed

    async def _publish_last_quote(self, symbol: str) -> None:
        """The symbol's last known quote, as the terminal's Market Watch shows it at once - also while
        its market is closed (a weekend), when the stream brings nothing. The stream starts after
        this tick, so nothing is counted twice; a newer streamed quote is never overwritten."""
        tick: Tick = await self._pool.live.call("tick", symbol)
        current: Quote | None = self._hub.latest(Topic.QUOTES, symbol)
        if tick.time_msc <= 0 or symbol not in self._daily or (current and current.time_msc >= tick.time_msc):
            return
        self._hub.publish(Topic.QUOTES, self._quote(tick), key=symbol)

    def _quote(self, tick: Tick) -> Quote:
        spec, daily = self._specs[tick.symbol], self._daily[tick.symbol]
        return Quote(
            symbol=tick.symbol,
            bid=tick.bid,
            ask=tick.ask,
            time_msc=tick.time_msc,
            spread_points=round((tick.ask - tick.bid) / spec.point) if spec.point else 0,
            digits=spec.digits,
            day_open=daily.current.open if daily.current else 0.0,
            last=tick.last,
            day_high=daily.current.high if daily.current else 0.0,
            day_low=daily.current.low if daily.current else 0.0,
        )

    def hold(self, holder: str, symbols: Iterable[str]) -> None:
        """Keep ``symbols`` in the quote stream for ``holder`` (the price alerts): unsubscribing them
        (a symbol hidden from Market Watch) leaves them there, as MT5 keeps a symbol an alert or an
        open chart needs. A later call replaces the holder's set; subscribing is still the caller's."""
        self._held[holder] = frozenset(symbols)

    def held(self) -> frozenset[str]:
        return frozenset().union(*self._held.values()) if self._held else frozenset()

    async def unsubscribe(self, symbols: Iterable[str]) -> list[str]:
        gone = set(symbols) - self.held()
        self._subscribed = [s for s in self._subscribed if s not in gone]
        for symbol in gone:
            self._daily.pop(symbol, None)
        await self._pool.live.stream_ticks(self._subscribed, self.poll_interval_s)
        return self.subscribed

    # ------------------------------------------------------------------ bars
    async def bars(self, symbol: str, timeframe: Timeframe, count: int, start_pos: int = 0) -> BarSeries:
        """The ``count`` bars ending ``start_pos`` bars before the newest (0 = up to the live bar)."""
        series: BarSeries = await self._pool.live.call("rates_from_pos", symbol, timeframe, start_pos, count)
        return series

    async def bars_before(self, symbol: str, timeframe: Timeframe, before: int, count: int) -> BarSeries:
        """``count`` bars opening strictly before ``before`` (epoch seconds): older history for panning."""
        series: BarSeries = await self._pool.live.call("rates_from", symbol, timeframe, before - 1, count)
        return series

    async def watch_bars(self, symbol: str, timeframe: Timeframe) -> None:
        """Keep the live bar of (symbol, timeframe) moving with ticks and publish it on ``bars``."""
        key = (symbol, timeframe)
        self._watchers[key] = self._watchers.get(key, 0) + 1
        if key in self._live_bars:
            return
        spec = await self.spec(symbol)
        live = LiveBar(symbol, timeframe, spec.point)
        latest = await self._pool.live.call("rates_from_pos", symbol, timeframe, 0, 1)
        if len(latest):
            live.current = latest.bar(len(latest) - 1)
        self._live_bars[key] = live
        if symbol not in self._subscribed:
            await self.subscribe([symbol])

    def unwatch_bars(self, symbol: str, timeframe: Timeframe) -> None:
        key = (symbol, timeframe)
        remaining = self._watchers.get(key, 0) - 1
        if remaining > 0:
            self._watchers[key] = remaining
            return
        self._watchers.pop(key, None)
        self._live_bars.pop(key, None)

    def live_bar(self, symbol: str, timeframe: Timeframe) -> LiveBar | None:
        return self._live_bars.get((symbol, timeframe))

    def daily_bar(self, symbol: str) -> Bar | None:
        """Today's bar of a streamed symbol (open, high, low of the day from the bid), kept live."""
        daily = self._daily.get(symbol)
        return daily.current if daily is not None else None

    # ------------------------------------------------------------------ other reads
    async def ticks_range(self, symbol: str, from_msc: int, to_msc: int) -> TickBatch:
        batch: TickBatch = await self._pool.live.call("ticks_range", symbol, from_msc, to_msc)
        return batch

    async def book(self, symbol: str) -> Book:
        book: Book = await self._pool.live.call("book", symbol)
        return book

    def server_time(self) -> datetime | None:
        """The trade server's clock as the newest quote shows it (None before the first quote)."""
        quotes = self._hub.latest_all(Topic.QUOTES).values()
        newest = max((q.time_msc for q in quotes), default=None)
        return msc_to_datetime(newest) if newest is not None else None

    def quote(self, symbol: str) -> Quote | None:
        quote: Quote | None = self._hub.latest(Topic.QUOTES, symbol)
        return quote

    # ------------------------------------------------------------------ the stream
    def _on_ticks(self, batches: tuple[TickBatch, ...]) -> None:
        for batch in batches:
            if batch.symbol not in self._daily:
                continue  # unsubscribed while ticks were on the way
            self.ticks_received += len(batch)
            self._hub.publish(Topic.TICKS, batch, key=batch.symbol)
            self._daily[batch.symbol].apply(batch)
            self._hub.publish(Topic.QUOTES, self._quote(batch.latest), key=batch.symbol)
            for (symbol, timeframe), live in self._live_bars.items():
                if symbol != batch.symbol:
                    continue
                closed = live.apply(batch)
                if live.current is not None:
                    update = BarUpdate(symbol, timeframe, live.current, tuple(closed))
                    self._hub.publish(Topic.BARS, update, key=(symbol, timeframe))
