"""Live market data on the Socket.IO: ticks and live candles per (symbol, timeframe), depth, indicators,
the market summary and health — for seed 002's ``subscribe {symbol, timeframe}`` and seed 001's
``candles`` and ``book`` channels alike.

* **Encoded once, offered to many.** One pump per hub topic turns each event into a Socket.IO packet
  once and offers it to the clients in that key's room, through each client's own outbox and sender
  (:mod:`app.server.realtime`): a slow client never slows the others or the hub.
* **Live candles at most ``server.candle_interval_s`` apart** (0.1 s: 10 a second) per key — the first
  change goes out at once, later ones within the interval are folded into one trailing update — and each
  bar once more with ``closed: true`` when it closes, before the bar that follows it. Slow clients
  conflate further in their :class:`~app.server.live_state.CandleOutbox`, never dropping a closed bar.
* **Depth** is read from the terminal every ``server.book_interval_s`` per symbol while someone
  follows it, and sent when it changed.
* **Indicators** (TA-Lib, :mod:`app.core.indicators`) over a window of closes kept current from the
  bar updates: the last closed and the live bar's values, on each close and at most once a second.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.core import indicators as maths
from app.core.hub import Delivery, Event, Topic
from app.models import Bar, BarUpdate, Book, TerminalError, TerminalState, TickBatch
from app.server.errors import ApiError
from app.server.live_payloads import (
    book_json,
    candle_json,
    indicator_json,
    sub_json,
    sub_order,
    tick_json,
)
from app.server.live_requests import Wanted, bad, channel_timeframes, symbol_of, wanted_of
from app.server.live_state import CandleKey, SubKey
from app.server.live_summary import MarketSummary
from app.server.schemas import Health

if TYPE_CHECKING:
    from app.server.context import ServerContext
    from app.server.realtime import Client

log = logging.getLogger(__name__)

LIVE_CHANNELS = frozenset({"candles", "book"})  # seed 001's channels served here
INDICATOR_INTERVAL_S = 1.0
INDICATOR_WINDOW = 2000  # closes kept per key for indicators (their warm-up needs a few hundred at most)
Encode = Callable[[str, Any], str]
Emit = Callable[[str, Any, str], Awaitable[None]]


@dataclass(eq=False)
class CandleRoom:
    """The clients following one (symbol, timeframe), and what is waiting to go out to them."""

    key: CandleKey
    clients: set[Client] = field(default_factory=set)
    closed: list[Bar] = field(default_factory=list)
    live: Bar | None = None
    sent_at: float = -math.inf
    timer: asyncio.TimerHandle | None = None
    times: deque[int] = field(default_factory=lambda: deque(maxlen=INDICATOR_WINDOW))
    closes: deque[float] = field(default_factory=lambda: deque(maxlen=INDICATOR_WINDOW))
    history_loaded: bool = False
    indicators_at: float = -math.inf

    def fold(self, bar: Bar) -> None:
        """Keep the indicator window current: a newer bar is appended, the same bar replaced."""
        if self.times and bar.time == self.times[-1]:
            self.closes[-1] = bar.close
        elif not self.times or bar.time > self.times[-1]:
            self.times.append(bar.time)
            self.closes.append(bar.close)


@dataclass(eq=False)
class BookRoom:
    symbol: str
    clients: set[Client] = field(default_factory=set)
    poller: asyncio.Task[None] | None = None
    last: tuple[Any, Any] | None = None


class LiveFeed:
    """The live market data side of one Socket.IO server (see the module docstring)."""

    def __init__(self, ctx: ServerContext, clients: dict[str, Client], encode: Encode, emit: Emit) -> None:
        settings = ctx.settings.server
        self.ctx = ctx
        self.clients = clients
        self.encode = encode
        self.emit = emit
        self.max_subscriptions = settings.max_subscriptions
        self.candle_interval_s = settings.candle_interval_s
        self.book_interval_s = settings.book_interval_s
        self.summary = MarketSummary(ctx, clients, encode)
        self.candle_rooms: dict[CandleKey, CandleRoom] = {}
        self.tick_rooms: dict[str, set[Client]] = {}
        self.book_rooms: dict[str, BookRoom] = {}
        self._lock = asyncio.Lock()  # market data's watch/subscribe calls, one change at a time
        self._tasks: list[asyncio.Task[None]] = []
        self._subscriptions: list[Any] = []
        self._health: tuple[str, str] | None = None
        self.candle_packets = 0  # candle packets encoded (each shared by every client of its key)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        hub = self.ctx.services.hub
        bars = hub.subscribe(Topic.BARS, Delivery.ALL, maxlen=20_000)  # closed bars ride on these: keep all
        ticks = hub.subscribe(Topic.TICKS, Delivery.LATEST)
        terminal = hub.subscribe(Topic.TERMINAL, Delivery.LATEST)
        self._subscriptions = [bars, ticks, terminal]
        self._health = self._health_key()
        self._tasks = [
            asyncio.create_task(self._pump(bars, self._on_bars), name="live-candles-pump"),
            asyncio.create_task(self._pump(ticks, self._on_ticks), name="live-ticks-pump"),
            asyncio.create_task(self._pump(terminal, self._on_terminal), name="live-health-pump"),
            asyncio.create_task(self.summary.run(), name="live-market-summary"),
        ]

    async def close(self) -> None:
        for subscription in self._subscriptions:
            subscription.close()
        for room in self.candle_rooms.values():
            if room.timer is not None:
                room.timer.cancel()
        tasks = self._tasks + [r.poller for r in self.book_rooms.values() if r.poller is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        market = self.ctx.services.market_data
        for symbol, timeframe in list(self.candle_rooms):
            market.unwatch_bars(symbol, timeframe)
        self.candle_rooms.clear()
        self.book_rooms.clear()
        self._tasks = []

    async def _pump(self, subscription: Any, handle: Callable[[list[Event]], None]) -> None:
        while True:
            events: list[Event] = await subscription.get()
            if not events:
                return  # closed
            await self.ctx.know_symbols()
            try:
                handle(events)
            except Exception:  # pragma: no cover - a converter bug must not end the pump
                log.exception("could not forward live data")

    def drop(self, client: Client) -> None:
        """A connection ended: leave every room (what nobody follows any more stops being watched)."""
        interest = client.live
        interest.subscriptions.clear()
        interest.channel_candles.clear()
        interest.books.clear()
        interest.channel_books.clear()
        self._settle(client)

    # ------------------------------------------------------------------ seed 002: subscribe / unsubscribe

    async def subscribe(self, client: Client, data: Any) -> dict[str, Any]:
        """``subscribe {symbol, timeframe?, indicators?}`` (or a list): ticks, and candles when a
        timeframe is given. All or nothing: any bad item is an ``error`` and nothing changes."""
        wanted = wanted_of(data)
        await self._check_symbols(w.symbol for w in wanted)
        interest = client.live
        keys: set[SubKey] = {(w.symbol, w.timeframe) for w in wanted}
        self._check_limit(len(interest.subscriptions | keys | set(interest.channel_candles)), client)
        await self._watch(client, [k for k in keys if k[1] is not None], [w.symbol for w in wanted])  # type: ignore[misc]
        interest.subscriptions |= keys
        for w in wanted:
            if w.timeframe is not None and w.indicators is not None:
                self._set_indicators(client, (w.symbol, w.timeframe), w.indicators)
        self._settle(client)
        await self._load_indicator_history(client)
        self._replay(client, wanted)
        answer = {"subscriptions": self.subscriptions_of(client), "added": [sub_json(k) for k in keys]}
        if isinstance(data, dict):
            answer |= sub_json((wanted[0].symbol, wanted[0].timeframe))
        await self.emit("subscribed", answer, client.sid)
        return answer

    async def unsubscribe(self, client: Client, data: Any) -> dict[str, Any]:
        """``unsubscribe {symbol, timeframe?}`` (or a list); without a timeframe: all of the symbol."""
        wanted = wanted_of(data)
        interest = client.live
        removed: set[SubKey] = set()
        for w in wanted:
            if w.timeframe is None:
                removed |= {k for k in interest.subscriptions if k[0] == w.symbol}
            elif (w.symbol, w.timeframe) in interest.subscriptions:
                removed.add((w.symbol, w.timeframe))
        interest.subscriptions -= removed
        self._settle(client)
        answer = {"subscriptions": self.subscriptions_of(client), "removed": [sub_json(k) for k in removed]}
        if isinstance(data, dict):
            answer |= sub_json((wanted[0].symbol, wanted[0].timeframe))
        await self.emit("unsubscribed", answer, client.sid)
        return answer

    def subscriptions_of(self, client: Client) -> list[dict[str, Any]]:
        return [sub_json(k) for k in sorted(client.live.subscriptions, key=sub_order)]

    # ------------------------------------------------------------------ seed 001: candles and book channels

    async def subscribe_channels(
        self, client: Client, channels: set[str], symbols: set[str] | None, data: dict[str, Any]
    ) -> None:
        """``subscribe {channels: [candles, book], symbols, timeframes}``; raises before changing anything."""
        if not symbols:
            raise bad("the candles and book channels need symbols: [...]", field="symbols")
        await self._check_symbols(symbols)
        interest = client.live
        keys: set[CandleKey] = set()
        if "candles" in channels:
            keys = {(s, tf) for s in symbols for tf in channel_timeframes(data)}
            self._check_limit(len(interest.subscriptions | keys | set(interest.channel_candles)), client)
        books = symbols if "book" in channels else set()
        if len(interest.books | books) > self.max_subscriptions:
            self._check_limit(len(interest.books | books), client)
        await self._watch(client, list(keys), list(symbols) if books else [])
        interest.channel_candles |= keys
        interest.channel_books |= books
        interest.books |= books
        self._settle(client)
        for key in keys:
            self._replay_candle(client, key)
        for symbol in books:
            self._start_book(symbol, fresh=client)

    def unsubscribe_channels(
        self, client: Client, channels: set[str], symbols: set[str] | None, data: dict[str, Any]
    ) -> set[str]:
        """Seed 001's unsubscribe for candles/book (``symbols``/``timeframes`` narrow it); answers the
        channels the client no longer has."""
        interest = client.live
        gone: set[str] = set()
        if "candles" in channels:
            frames = set(channel_timeframes(data)) if ("timeframes" in data or "timeframe" in data) else None
            interest.channel_candles = {
                (s, tf)
                for s, tf in interest.channel_candles
                if not ((symbols is None or s in symbols) and (frames is None or tf in frames))
            }
            if not interest.channel_candles:
                gone.add("candles")
        if "book" in channels:
            dropped = interest.channel_books if symbols is None else interest.channel_books & symbols
            interest.channel_books -= dropped
            interest.books -= dropped
            if not interest.channel_books:
                gone.add("book")
        self._settle(client)
        return gone

    def channel_answer(self, client: Client) -> dict[str, Any]:
        """What the ``subscribed``/``unsubscribed`` answer says of the candles and book channels."""
        answer: dict[str, Any] = {}
        if client.live.channel_candles:
            answer["candles"] = [sub_json(k) for k in sorted(client.live.channel_candles, key=sub_order)]
        if client.live.channel_books:
            answer["book"] = sorted(client.live.channel_books)
        return answer

    # ------------------------------------------------------------------ request events

    async def order_book(self, client: Client, data: Any) -> dict[str, Any]:
        """``get_order_book {symbol}`` → ``order_book {symbol, timestamp, bids, asks}``; while the client
        is subscribed to the symbol, the depth keeps coming as it changes."""
        if not isinstance(data, dict):
            raise bad("expected {symbol}")
        symbol = symbol_of(data.get("symbol"))
        await self._check_symbols([symbol])
        payload = self._book_json(await self.ctx.services.market_data.book(symbol))
        if symbol in client.live.tick_symbols and symbol not in client.live.books:
            if len(client.live.books) >= self.max_subscriptions:
                self._check_limit(len(client.live.books) + 1, client)
            client.live.books.add(symbol)
            self._settle(client)
            room = self.book_rooms[symbol]
            room.last = (payload["bids"], payload["asks"])
            self._start_book(symbol)
        return payload

    async def indicators(self, client: Client, data: Any) -> dict[str, Any]:
        """``get_indicators {symbol, timeframe, indicators: [{name, params}]}`` → ``indicators``; on a
        subscribed symbol and timeframe they keep coming (on each close, at most once a second)."""
        if not isinstance(data, dict):
            raise bad("expected {symbol, timeframe, indicators: [{name, params}]}")
        (wanted,) = wanted_of(
            {k: data.get(k) for k in ("symbol", "timeframe", "indicators")}, timeframe_required=True
        )
        if wanted.indicators is None:
            raise bad("indicators: [{name, params}] is required", field="indicators")
        await self._check_symbols([wanted.symbol])
        assert wanted.timeframe is not None  # noqa: S101 - timeframe_required
        key = (wanted.symbol, wanted.timeframe)
        room = self.candle_rooms.get(key)
        if room is not None and client in room.clients:
            self._set_indicators(client, key, wanted.indicators)
            await self._load_history(room)
            return self._indicator_json(room, wanted.indicators)
        series = await self.ctx.services.market_data.bars(
            wanted.symbol, wanted.timeframe, _history_length(wanted.indicators)
        )
        scratch = CandleRoom(key)
        for bar in series.bars():
            scratch.fold(bar)
        return self._indicator_json(scratch, wanted.indicators)

    def health(self) -> dict[str, Any]:
        return Health.of(self.ctx.live_state(), self.ctx.version).model_dump(mode="json")

    # ------------------------------------------------------------------ checks

    async def _check_symbols(self, symbols: Iterable[str]) -> None:
        names = list(dict.fromkeys(symbols))
        known = {spec.name for spec in await self.ctx.services.market_data.all_symbols()}
        unknown = [s for s in names if s not in known]
        if unknown:
            raise bad(
                f"unknown symbol {unknown[0][:32]!r}"
                + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""),
                "unknown_symbol",
                symbol=unknown[0][:32],
                unknown=[s[:32] for s in unknown[:10]],
            )

    def _check_limit(self, total: int, client: Client) -> None:
        if total > self.max_subscriptions:
            raise ApiError(
                400,
                f"at most {self.max_subscriptions} symbol × timeframe subscriptions per connection "
                f"(server.max_subscriptions); this request would make {total}",
                "too_many_subscriptions",
                {"limit": self.max_subscriptions, "requested": total, "current": client.live.count},
            )

    # ------------------------------------------------------------------ rooms

    async def _watch(self, client: Client, keys: list[CandleKey], symbols: list[str]) -> None:
        """Make market data stream ``symbols`` and build the live bars of ``keys`` before anyone joins."""
        market = self.ctx.services.market_data
        async with self._lock:
            missing = [s for s in dict.fromkeys(symbols) if s not in market.subscribed]
            if missing:
                await market.subscribe(missing)
            watched: list[CandleKey] = []
            try:
                for key in keys:
                    if key not in self.candle_rooms:
                        await market.watch_bars(*key)
                        watched.append(key)
                        self.candle_rooms[key] = CandleRoom(key)
            except BaseException:
                for key in watched:
                    if not self.candle_rooms[key].clients:
                        del self.candle_rooms[key]
                        market.unwatch_bars(*key)
                raise

    def _settle(self, client: Client) -> None:
        """Put the client in exactly the rooms its interest names. A room it leaves empty is closed
        (a room someone is about to join, still empty, is left alone)."""
        interest = client.live
        alive = not client.ending and client.sid in self.clients
        interest.books &= interest.tick_symbols | interest.channel_books
        self._settle_candles(client, interest.candle_keys if alive else set())
        self._settle_ticks(client, interest.tick_symbols if alive else set())
        self._settle_books(client, set(interest.books) if alive else set())

    def _settle_candles(self, client: Client, keys: set[CandleKey]) -> None:
        market = self.ctx.services.market_data
        for key, room in list(self.candle_rooms.items()):
            if key in keys:
                room.clients.add(client)
            elif client in room.clients:
                room.clients.discard(client)
                client.live.outbox.forget(key)
                client.live.indicators.pop(key, None)
                if not room.clients:
                    if room.timer is not None:
                        room.timer.cancel()
                    del self.candle_rooms[key]
                    market.unwatch_bars(*key)

    def _settle_ticks(self, client: Client, symbols: set[str]) -> None:
        for symbol in symbols:
            self.tick_rooms.setdefault(symbol, set()).add(client)
        for symbol, room in list(self.tick_rooms.items()):
            if symbol not in symbols and client in room:
                room.discard(client)
                client.latest.pop(("tick", symbol), None)
                if not room:
                    del self.tick_rooms[symbol]

    def _settle_books(self, client: Client, symbols: set[str]) -> None:
        for symbol in symbols:
            self.book_rooms.setdefault(symbol, BookRoom(symbol)).clients.add(client)
        for symbol, book in list(self.book_rooms.items()):
            if symbol not in symbols and client in book.clients:
                book.clients.discard(client)
                client.latest.pop(("order_book", symbol), None)
                if not book.clients:
                    if book.poller is not None:
                        book.poller.cancel()
                    del self.book_rooms[symbol]

    # ------------------------------------------------------------------ candles

    def _on_bars(self, events: list[Event]) -> None:
        touched: dict[CandleKey, CandleRoom] = {}
        for event in events:
            update: BarUpdate = event.value
            room = self.candle_rooms.get((update.symbol, update.timeframe))
            if room is None:
                continue
            for bar in update.closed:
                room.closed.append(bar)
                room.fold(bar)
            room.live = update.bar
            room.fold(update.bar)
            touched[room.key] = room
        now = time.monotonic()
        for room in touched.values():
            wait = room.sent_at + self.candle_interval_s - now
            if room.closed or wait <= 0:
                self._flush(room)
            elif room.timer is None:
                room.timer = asyncio.get_running_loop().call_later(wait, self._flush, room)

    def _flush(self, room: CandleRoom) -> None:
        if room.timer is not None:
            room.timer.cancel()
            room.timer = None
        if self.candle_rooms.get(room.key) is not room or (not room.closed and room.live is None):
            return
        closed = [self._candle_packet(room.key, bar, closed=True) for bar in room.closed]
        live = self._candle_packet(room.key, room.live, closed=False) if room.live is not None else None
        had_close = bool(room.closed)
        room.closed, room.live = [], None
        room.sent_at = time.monotonic()
        for client in room.clients:
            client.live.outbox.offer(room.key, closed, live)
            client.ready.set()
        if had_close or room.sent_at - room.indicators_at >= INDICATOR_INTERVAL_S:
            self._send_indicators(room)

    def _candle_packet(self, key: CandleKey, bar: Bar, *, closed: bool) -> str:
        self.candle_packets += 1
        return self.encode("candles", candle_json(key, bar, closed, self.ctx.digits(key[0]).p))

    def _replay(self, client: Client, wanted: list[Wanted]) -> None:
        for w in wanted:
            tick = self._current_tick(w.symbol)
            if tick is not None:
                client.offer_latest("tick", w.symbol, self.encode("tick", tick))
            if w.timeframe is not None:
                self._replay_candle(client, (w.symbol, w.timeframe))
        self.send_summary(client)

    def _replay_candle(self, client: Client, key: CandleKey) -> None:
        live = self.ctx.services.market_data.live_bar(*key)
        if live is not None and live.current is not None:
            client.live.outbox.offer(
                key,
                [],
                self.encode("candles", candle_json(key, live.current, False, self.ctx.digits(key[0]).p)),
            )
            client.ready.set()

    # ------------------------------------------------------------------ ticks

    def _on_ticks(self, events: list[Event]) -> None:
        for event in events:
            room = self.tick_rooms.get(event.key)  # type: ignore[call-overload]
            if not room:
                continue
            batch: TickBatch = event.value
            packet = self.encode("tick", self._tick_json(batch.symbol, batch.latest))
            for client in room:
                client.offer_latest("tick", batch.symbol, packet)

    def _tick_json(self, symbol: str, tick: Any) -> dict[str, Any]:
        spec = self.ctx.services.market_data.cached_spec(symbol)
        return tick_json(symbol, tick, spec.point if spec is not None else 0.0, self.ctx.digits(symbol).p)

    def _current_tick(self, symbol: str) -> dict[str, Any] | None:
        hub = self.ctx.services.hub
        batch: TickBatch | None = hub.latest(Topic.TICKS, symbol)
        if batch is not None and len(batch):
            return self._tick_json(symbol, batch.latest)
        quote = hub.latest(Topic.QUOTES, symbol)
        return self._tick_json(symbol, quote) if quote is not None else None

    # ------------------------------------------------------------------ depth

    def _start_book(self, symbol: str, fresh: Client | None = None) -> None:
        room = self.book_rooms.get(symbol)
        if room is None:
            return
        if fresh is not None:
            room.last = None  # the new client gets the current book at the next read
        if room.poller is None or room.poller.done():
            room.poller = asyncio.create_task(self._poll_book(room), name=f"live-book-{symbol}")

    async def _poll_book(self, room: BookRoom) -> None:
        market = self.ctx.services.market_data
        while self.book_rooms.get(room.symbol) is room:
            try:
                payload = self._book_json(await market.book(room.symbol))
            except TerminalError as exc:
                log.debug("depth of %s not read: %s", room.symbol, exc)
            else:
                levels = (payload["bids"], payload["asks"])
                if levels != room.last:
                    room.last = levels
                    packet = self.encode("order_book", payload)
                    for client in room.clients:
                        client.offer_latest("order_book", room.symbol, packet)
            await asyncio.sleep(self.book_interval_s)

    def _book_json(self, book: Book) -> dict[str, Any]:
        return book_json(book, self.ctx.digits(book.symbol).p)

    # ------------------------------------------------------------------ indicators

    def _set_indicators(self, client: Client, key: CandleKey, specs: tuple[maths.IndicatorSpec, ...]) -> None:
        if specs:
            client.live.indicators[key] = specs
        else:
            client.live.indicators.pop(key, None)

    async def _load_indicator_history(self, client: Client) -> None:
        for key in client.live.indicators:
            room = self.candle_rooms.get(key)
            if room is not None:
                await self._load_history(room)
                self._send_indicators(room, only=client)

    async def _load_history(self, room: CandleRoom) -> None:
        """The closes the indicators need, read once per key (the bar updates keep them current)."""
        if room.history_loaded:
            return
        series = await self.ctx.services.market_data.bars(*room.key, INDICATOR_WINDOW)
        live = list(zip(room.times, room.closes, strict=True))
        room.times.clear()
        room.closes.clear()
        for bar in series.bars():
            room.fold(bar)
        for t, c in live:
            room.fold(Bar(t, c, c, c, c))
        room.history_loaded = True

    def _send_indicators(self, room: CandleRoom, only: Client | None = None) -> None:
        room.indicators_at = time.monotonic()
        if not room.history_loaded:
            return
        packets: dict[tuple[Any, ...], str] = {}  # clients asking the same indicators share a packet
        for client in [only] if only is not None else room.clients:
            specs = client.live.indicators.get(room.key)
            if not specs:
                continue
            same = tuple((s.kind, tuple(s.params.items())) for s in specs)
            packet = packets.get(same)
            if packet is None:
                packet = packets[same] = self.encode("indicators", self._indicator_json(room, specs))
            client.offer_latest("indicators", room.key, packet)

    def _indicator_json(self, room: CandleRoom, specs: tuple[maths.IndicatorSpec, ...]) -> dict[str, Any]:
        return indicator_json(room.key, list(room.times), list(room.closes), specs)

    # ------------------------------------------------------------------ health

    def _health_key(self, state: TerminalState | None = None) -> tuple[str, str]:
        state = state if state is not None else self.ctx.live_state()
        return state.status.value, state.reason

    def _on_terminal(self, events: list[Event]) -> None:
        """``health`` to every client whenever the live terminal's state (or its reason) changes."""
        live_id = self.ctx.live_state().terminal_id
        for event in events:
            state: TerminalState = event.value
            if state.terminal_id != live_id or self._health_key(state) == self._health:
                continue
            self._health = self._health_key(state)
            health = Health.of(state, self.ctx.version).model_dump(mode="json")
            packet = self.encode("health", health)
            for client in list(self.clients.values()):
                if not client.ending:
                    client.offer_latest("health", None, packet)

    def send_summary(self, client: Client) -> None:
        self.summary.send(client)


def _history_length(specs: tuple[maths.IndicatorSpec, ...]) -> int:
    return min(INDICATOR_WINDOW, max((s.lookback() for s in specs), default=0) * 4 + 100)
