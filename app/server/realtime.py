"""Socket.IO: live channels over the hub, request events with acknowledgements.

* **Auth at connect, and for as long as the connection lasts.** The token comes in the connection's
  ``auth`` (``{token}``); without a valid one the connection is refused (the client sees
  ``connect_error`` with ``err.data = {error, code}``). A connection ends when its token expires, with
  ``disconnected {reason, reconnect: true, code}``, and at once when its token is revoked (a new
  password: :class:`~app.server.auth.Revocations`), with ``reconnect: false``; every event is checked
  against the token too, so a revoked one is never answered.
* **Hostile input** is handled by :mod:`app.server.sio_guard`: undecodable frames and reserved event
  names get an ``error``, and cost at most one log line per client address and minute.
* **Rooms and filters.** ``subscribe {channels, symbols?}`` puts the client in channel rooms; for
  ``quotes`` an optional symbol set filters what it gets. Subscribing replays the current state.
* **Fan-out without head-of-line blocking.** One pump per delivery kind reads the hub, converts each
  event once and offers it to the clients in its room. Each client has its own outbox — the latest
  value per (event, key) for state (quotes per symbol, positions, account, ...: conflation), a bounded
  queue for logs and signals — and its own sender task. A sender that finds its client's transport
  backed up waits while the outbox keeps conflating, so a slow client gets fewer, fresher quotes and
  never delays the others.
* **Live market data** — seed 002's ``subscribe {symbol, timeframe}`` (ticks, live candles, depth,
  indicators, the market summary, health) and seed 001's ``candles`` and ``book`` channels — is
  :mod:`app.server.live_feed`'s, through the same outboxes and senders.
* **Requests** (``get_symbols``, ``get_candles``, ``get_order_book``, ``get_indicators``,
  ``get_account_info``, ``ping``) are answered with their named event (``symbols``, ``candles``,
  ``order_book``, ``indicators``, ``account_info``, ``health``) and, when the client asks for one,
  through the acknowledgement.
* **Errors.** A malformed event is answered with ``error {error, details, code}`` (and in its
  acknowledgement); the connection stays up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import socketio
from socketio import packet as sio_packet

from app.core.hub import Delivery, Event, Topic
from app.core.scoped import scoped_status
from app.models import AccountAction, AccountInfo, AccountUpdate
from app.models.users import ForbiddenError, Permission
from app.server.auth import AuthError, Revocation, User
from app.server.context import ServerContext
from app.server.errors import ApiError, to_api_error
from app.server.live_feed import LIVE_CHANNELS, LiveFeed
from app.server.live_requests import is_seed002
from app.server.live_state import LiveInterest
from app.server.noise import LibraryNoiseFilter, NoiseLog
from app.server.origins import origin_policy
from app.server.schemas import (
    MAX_SYMBOL_LENGTH,
    AccountOut,
    AlertOut,
    Candles,
    CarouselOut,
    ManagedAccountOut,
    OrderOut,
    PositionOut,
    SymbolOut,
    iso,
    quote_json,
)
from app.server.sio_guard import GuardedServer
from app.server.ws_direct import EventPacket, direct_connection, frame_of, link_websockets

log = logging.getLogger(__name__)

# channel -> (hub topic, server event)
CHANNELS: dict[str, tuple[Topic, str]] = {
    "quotes": (Topic.QUOTES, "quotes"),
    "positions": (Topic.POSITIONS, "positions_update"),
    "orders": (Topic.ORDERS, "orders_update"),
    "account": (Topic.ACCOUNT, "account_update"),
    "accounts": (Topic.ACCOUNTS, "accounts_update"),
    "logs": (Topic.LOGS, "logs_update"),
    "signals": (Topic.SIGNALS, "signals_update"),
    "carousel": (Topic.CAROUSEL, "carousel_update"),
    "alerts": (Topic.ALERTS, "alerts"),
}
STATE_CHANNELS = ("quotes", "positions", "orders", "account", "accounts", "carousel")  # latest wins
STREAM_CHANNELS = ("logs", "signals", "alerts")  # every event, bounded
_TOPIC_CHANNEL = {topic: name for name, (topic, _) in CHANNELS.items()}

KNOWN_CHANNELS = [*CHANNELS, *sorted(LIVE_CHANNELS)]
# request event -> the event its answer also comes as (seed 002 reads answers as events)
ANSWER_EVENTS = {
    "get_symbols": "symbols",
    "get_candles": "candles",
    "get_order_book": "order_book",
    "get_indicators": "indicators",
    "get_account_info": "account_info",
    "ping": "health",
}

MAX_QUEUED_PER_CLIENT = 500  # logs/signals beyond this: the oldest are dropped (and counted)
MAX_TRANSPORT_BACKLOG = 64  # packets waiting in a client's transport before its sender holds back
BACKLOG_POLL_S = 0.005
MAX_SYMBOLS = 500
MAX_BARS = 5000
LIVE_ACCOUNT_CHANNELS = ("positions", "orders", "account")  # the live account's: only if in scope
WHOLE_VIEW_CHANNELS = ("logs",)  # name every account: only for a scope of every account
# What each client request needs; a request not listed needs the trade permission (so a viewer is
# refused anything new until it is declared read-only here).
EVENT_PERMISSIONS: dict[str, Permission] = {
    "subscribe": Permission.READ,
    "unsubscribe": Permission.READ,
    "heartbeat": Permission.READ,
    "get_symbols": Permission.READ,
    "get_candles": Permission.READ,
    "get_account_info": Permission.READ,
    "get_order_book": Permission.READ,
    "get_indicators": Permission.READ,
    "ping": Permission.READ,
}


def now_iso() -> str:
    return iso(datetime.now(UTC)) or ""


class BadRequest(ApiError):
    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(400, message, "bad_request", details)


@dataclass(eq=False)
class Client:
    """One connection: what it listens to, and its outbox."""

    sid: str
    user: User
    token: str
    expires_at: float
    eio_sid: str
    channels: set[str] = field(default_factory=set)
    symbols: set[str] | None = None  # quotes filter; None: every symbol
    latest: dict[tuple[str, Hashable], Any] = field(default_factory=dict)
    queue: deque[tuple[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_QUEUED_PER_CLIENT))
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0
    frames_direct: int = 0  # packets written straight to its WebSocket (ws_direct) ...
    packets_queued: int = 0  # ... and through its Engine.IO queue
    ending: bool = False  # told it is disconnected: gets nothing more
    sender: asyncio.Task[None] | None = None
    expiry: asyncio.TimerHandle | None = None
    live_key: tuple[int, str] | None = None  # the live account (login, server) found in its scope

    @property
    def everything(self) -> bool:
        return self.user.scope.everything

    def sees_live(self, info: AccountInfo | None) -> bool:
        if self.everything:
            return True
        return info is not None and self.live_key == (info.login, info.server)

    live: LiveInterest = field(default_factory=LiveInterest)  # seed 002's subscriptions, candles, book

    def wants(self, channel: str, key: Hashable) -> bool:
        if channel not in self.channels:
            return False
        if channel == "accounts" and not self.everything:
            return isinstance(key, int) and self.user.access.sees(key)
        return channel != "quotes" or self.symbols is None or key in self.symbols

    def offer_latest(self, event: str, key: Hashable, payload: Any) -> None:
        self.latest[(event, key)] = payload
        self.ready.set()

    def offer(self, event: str, payload: Any) -> None:
        if len(self.queue) == self.queue.maxlen:
            self.dropped += 1
        self.queue.append((event, payload))
        self.ready.set()

    def drain(self) -> list[tuple[str, Any]]:
        self.ready.clear()
        items = [(event, payload) for (event, _), payload in self.latest.items()]
        self.latest.clear()
        items.extend(self.queue)
        self.queue.clear()
        if self.live.outbox.live or self.live.outbox.closed:
            items.extend(("candles", packet) for packet in self.live.outbox.drain())
        return items

    def forget(self, event: str) -> None:
        for key in [k for k in self.latest if k[0] == event]:
            del self.latest[key]
        if self.queue:
            kept = [(e, p) for e, p in self.queue if e != event]
            self.queue.clear()
            self.queue.extend(kept)


Handler = Callable[..., Awaitable[Any]]


class RealtimeGateway:
    """The Socket.IO server of one running API server."""

    def __init__(self, ctx: ServerContext) -> None:
        settings = ctx.settings.server
        self.ctx = ctx
        self.noise = NoiseLog()
        self._noise_filter = LibraryNoiseFilter(self.noise)
        self.sio = GuardedServer(
            async_mode="asgi",
            cors_allowed_origins=origin_policy(settings.cors_origins),  # same origin + the allow-list
            max_http_buffer_size=settings.max_body_bytes,
            logger=False,
            engineio_logger=False,
            noise=self.noise,
        )
        link_websockets(self.sio.eio)  # live data can then go straight to a WebSocket (ws_direct)
        self.clients: dict[str, Client] = {}
        self.rooms: dict[str, set[Client]] = {name: set() for name in CHANNELS}
        self._pumps: list[asyncio.Task[None]] = []
        self._subscriptions: tuple[Any, ...] = ()
        self._pending_ends: set[asyncio.Future[None]] = set()
        self._closing = False
        self._unsubscribe_revocations: Any = None
        self.feed = LiveFeed(ctx, self.clients, encode_event, self._emit)
        self._register()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        hub = self.ctx.services.hub
        state = hub.subscribe([CHANNELS[c][0] for c in STATE_CHANNELS], Delivery.LATEST)
        stream = hub.subscribe([CHANNELS[c][0] for c in STREAM_CHANNELS], Delivery.ALL, maxlen=10_000)
        self._pumps = [
            asyncio.create_task(self._pump(state), name="socketio-state-pump"),
            asyncio.create_task(self._pump(stream), name="socketio-stream-pump"),
        ]
        self._subscriptions = (state, stream)
        self._unsubscribe_revocations = self.ctx.tokens.revocations.subscribe(self._on_revoked)
        self.feed.start()
        self._noise_filter.install()

    async def close(self, reason: str = "server shutting down") -> None:
        """Tell every client, disconnect them, stop the pumps and senders."""
        self._closing = True
        if self._unsubscribe_revocations is not None:
            self._unsubscribe_revocations()
        for client in list(self.clients.values()):
            try:
                body = {"reason": reason, "reconnect": True, "code": "server_stopping"}
                await self.sio.emit("disconnected", body, to=client.sid)
                await self.sio.disconnect(client.sid)
            except Exception as exc:  # noqa: BLE001 - a broken connection must not stop the shutdown
                log.debug("disconnecting %s: %s", client.sid, exc)
            self._drop(client.sid)
        for task in list(self._pending_ends):
            await asyncio.gather(task, return_exceptions=True)
        self._noise_filter.remove()
        for subscription in self._subscriptions:
            subscription.close()
        for task in self._pumps:
            task.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        self._pumps = []
        await self.feed.close()

    @property
    def connections(self) -> int:
        return len(self.clients)

    # ------------------------------------------------------------------ fan-out

    async def _pump(self, subscription: Any) -> None:
        while True:
            events: list[Event] = await subscription.get()
            if not events:
                return  # closed
            await self.ctx.know_symbols()  # once: prices go out rounded to their symbol's digits
            for event in events:
                try:
                    self._dispatch(event)
                except Exception:  # pragma: no cover - a converter bug must not end the pump
                    log.exception("could not forward a %s event", event.topic)

    def _dispatch(self, event: Event) -> None:
        channel = _TOPIC_CHANNEL[event.topic]
        room = self.rooms[channel]
        if not room:
            return
        if event.topic is Topic.POSITIONS or event.topic is Topic.ORDERS or event.topic is Topic.ACCOUNT:
            if event.key is not None:
                return  # only the live account's (key None) go out on these channels
        name = CHANNELS[channel][1]
        payload = encode_event(name, self._payload(event.topic, event.value))
        stream = channel in STREAM_CHANNELS
        live = self._live_info(event) if channel in LIVE_ACCOUNT_CHANNELS else None
        for client in room:
            if not client.wants(channel, event.key):
                continue
            if channel in LIVE_ACCOUNT_CHANNELS and not client.sees_live(live):
                continue
            if channel == "carousel" and not client.everything:
                mine = scoped_status(event.value, client.user.access)
                client.offer_latest(name, event.key, encode_event(name, self._payload(event.topic, mine)))
            elif stream:
                client.offer(name, payload)
            else:
                client.offer_latest(name, event.key, payload)

    def _live_info(self, event: Event) -> AccountInfo | None:
        if isinstance(event.value, AccountInfo):
            return event.value
        return self.ctx.services.account_state.account

    def _payload(self, topic: Topic, value: Any) -> Any:  # noqa: C901 - one branch per channel
        if topic is Topic.QUOTES:
            return quote_json(value)
        if topic is Topic.POSITIONS:
            return [PositionOut.of(p, self.ctx.digits(p.symbol)).model_dump(mode="json") for p in value]
        if topic is Topic.ORDERS:
            return [OrderOut.of(o, self.ctx.digits(o.symbol)).model_dump(mode="json") for o in value]
        if topic is Topic.ACCOUNT:
            return AccountOut.of(value).model_dump(mode="json")
        if topic is Topic.ACCOUNTS:
            return self._account_update(value)
        if topic is Topic.LOGS:
            return value.to_json()
        if topic is Topic.CAROUSEL:
            return CarouselOut.of(value).model_dump(mode="json")
        if topic is Topic.ALERTS:
            return {"event": value.kind, "alert": AlertOut.of(value.alert).model_dump(mode="json")}
        return _plain(value)  # signals: whatever their producer publishes, made JSON-friendly

    def _account_update(self, update: AccountUpdate) -> dict[str, Any]:
        account = update.account
        out = ManagedAccountOut.of(
            account, update.snapshot, self.ctx.logged_in(account.login, account.server)
        )
        data = out.model_dump(mode="json")
        if update.action is AccountAction.REMOVED:
            data["status"] = "removed"
        return data

    async def _send_loop(self, client: Client) -> None:
        """Deliver the client's outbox; wait while its transport is backed up (the outbox conflates).

        Payloads arrive encoded once (a Socket.IO event packet, shared by every client that gets it).
        When nothing else is on its way to the client, they go out as WebSocket frames built once for
        every client (:mod:`app.server.ws_direct`); otherwise through its Engine.IO session in order."""
        eio = self.sio.eio
        while True:
            await client.ready.wait()
            while self._backed_up(client):  # noqa: ASYNC110 - polls a queue we don't own
                await asyncio.sleep(BACKLOG_POLL_S)
            items = client.drain()
            connection = direct_connection(eio.sockets.get(client.eio_sid))
            if connection is not None:  # no await from the check to the last frame: nothing overtakes
                write = connection.transport.write
                for _, encoded in items:
                    write(frame_of(encoded))
                client.frames_direct += len(items)
                continue
            client.packets_queued += len(items)
            for _, encoded in items:
                await eio.send(client.eio_sid, encoded)

    def _backed_up(self, client: Client) -> bool:
        """Packets waiting in the client's Engine.IO queue, or its connection's buffer over the mark."""
        if self._backlog(client.sid) > MAX_TRANSPORT_BACKLOG:
            return True
        ws = getattr(self.sio.eio.sockets.get(client.eio_sid), "linked_ws", None)
        protocol = ws.protocol if ws is not None else None
        return protocol is not None and not protocol.writable.is_set() and not protocol.disconnected

    def _backlog(self, sid: str) -> int:
        """Packets queued in the client's Engine.IO transport (0 if that cannot be seen)."""
        try:
            client = self.clients.get(sid)
            socket = self.sio.eio.sockets.get(client.eio_sid) if client is not None else None
            return int(socket.queue.qsize()) if socket is not None else 0
        except Exception:  # noqa: BLE001 - internals of python-engineio: never fatal
            return 0

    def _replay(self, client: Client, channels: set[str]) -> None:
        hub = self.ctx.services.hub
        for channel in channels & set(STATE_CHANNELS):
            topic, name = CHANNELS[channel]
            for key, value in hub.latest_all(topic).items():
                if channel in ("positions", "orders", "account") and key is not None:
                    continue
                if channel == "accounts" and value.action is AccountAction.REMOVED:
                    continue
                if channel in LIVE_ACCOUNT_CHANNELS and not client.sees_live(
                    self.ctx.services.account_state.account
                ):
                    continue
                if channel == "carousel":
                    value = scoped_status(value, client.user.access)
                if client.wants(channel, key):
                    client.offer_latest(name, key, encode_event(name, self._payload(topic, value)))

    # ------------------------------------------------------------------ connections

    def _register(self) -> None:
        sio = self.sio
        sio.on("connect", self._on_connect)
        sio.on("disconnect", self._on_disconnect)
        handlers: dict[str, Handler] = {
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "heartbeat": self._heartbeat,
            "get_symbols": self._get_symbols,
            "get_candles": self._get_candles,
            "get_account_info": self._get_account_info,
            "get_order_book": self.feed.order_book,
            "get_indicators": self.feed.indicators,
            "ping": self._ping,
        }
        for name, handler in handlers.items():
            answer_event = ANSWER_EVENTS.get(name)
            sio.on(
                name, self._guarded(name, self._answered(answer_event, handler) if answer_event else handler)
            )
        sio.on("*", self._unknown_event)

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        if self._closing:
            raise _refusal("server shutting down", "unavailable")
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            raise _refusal("not authenticated: connect with auth {token}", "unauthorized")
        try:
            user = self.ctx.tokens.verify(token)
        except AuthError as exc:
            raise _refusal(exc.message, exc.code) from None
        client = Client(sid, user, token, user.expires_at, self.sio.manager.eio_sid_from_sid(sid, "/"))
        self.clients[sid] = client
        client.sender = asyncio.create_task(self._send_loop(client), name=f"socketio-send-{sid}")
        loop = asyncio.get_running_loop()
        client.expiry = loop.call_later(max(0.0, user.expires_at - time.time()), self._expire, sid)
        await sio_emit(
            self.sio, "connected", {"message": f"connected as {user.username}", "server_time": now_iso()}, sid
        )

    def _expire(self, sid: str) -> None:
        if sid in self.clients:
            self._end_soon(sid, "token expired: log in again", "token_expired", reconnect=True)

    def _on_revoked(self, revocation: Revocation) -> None:
        """Close, at once, every connection whose token no longer passes (``reconnect: false``: the
        same token will not work again)."""
        for client in list(self.clients.values()):
            if client.user.subject != revocation.subject:
                continue
            problem = self._token_problem(client)
            if problem is not None:
                self._end_soon(client.sid, problem.message, problem.code, reconnect=False)

    def _token_problem(self, client: Client) -> AuthError | None:
        try:
            self.ctx.tokens.verify(client.token)
        except AuthError as exc:
            return exc
        return None

    def _end_soon(self, sid: str, reason: str, code: str, *, reconnect: bool) -> None:
        client = self.clients.get(sid)
        if client is None or client.ending:
            return
        client.ending = True
        for room in self.rooms.values():
            room.discard(client)  # nothing more goes out to it
        self.feed.drop(client)
        task = asyncio.ensure_future(self._end(sid, reason, code, reconnect=reconnect))
        self._pending_ends.add(task)
        task.add_done_callback(self._pending_ends.discard)

    async def _end(self, sid: str, reason: str, code: str, *, reconnect: bool) -> None:
        body = {"reason": reason, "reconnect": reconnect, "code": code}
        await sio_emit(self.sio, "disconnected", body, sid)
        try:
            await self.sio.disconnect(sid)
        except Exception as exc:  # noqa: BLE001 - the client may be gone already
            log.debug("disconnecting %s: %s", sid, exc)
        self._drop(sid)

    async def _on_disconnect(self, sid: str, reason: Any = None) -> None:
        self._release_long_poll(sid)
        self._drop(sid)

    def _release_long_poll(self, sid: str) -> None:
        """A long-polling client that says goodbye waits for its pending GET to return; Engine.IO would
        hold it until the next ping (25 s). A no-op packet answers it now."""
        try:
            from engineio import packet as eio_packet

            eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
            socket = self.sio.eio.sockets.get(eio_sid)
            if socket is not None and not socket.upgraded:
                socket.queue.put_nowait(eio_packet.Packet(eio_packet.NOOP))
        except Exception as exc:  # noqa: BLE001 - internals of python-engineio: never fatal
            log.debug("could not release the long poll of %s: %s", sid, exc)

    def _drop(self, sid: str) -> None:
        client = self.clients.pop(sid, None)
        if client is None:
            return
        for room in self.rooms.values():
            room.discard(client)
        self.feed.drop(client)
        if client.sender is not None:
            client.sender.cancel()
        if client.expiry is not None:
            client.expiry.cancel()

    # ------------------------------------------------------------------ client events

    def _guarded(self, name: str, handler: Handler) -> Handler:
        """Run ``handler``; any failure becomes an ``error`` event and the acknowledgement's answer."""

        async def guarded(sid: str, data: Any = None) -> Any:
            client = self.clients.get(sid)
            if client is None or client.ending:
                return {"error": "not connected", "code": "unauthorized"}
            problem = self._token_problem(client)
            if problem is not None:  # revoked or expired a moment ago: never answered
                self._end_soon(sid, problem.message, problem.code, reconnect=problem.code == "token_expired")
                return {"error": problem.message, "code": problem.code}
            try:
                client.user.access.require(EVENT_PERMISSIONS.get(name, Permission.TRADE), f"send {name}")
                return await handler(client, data)
            except Exception as exc:  # noqa: BLE001 - the connection survives anything a client sends
                error = to_api_error(exc)
                body = {
                    "error": error.message,
                    "details": {"event": name, **(error.details or {})},
                    "code": error.code,
                }
                await sio_emit(self.sio, "error", body, sid)
                return body

        return guarded

    def _answered(self, event: str, handler: Handler) -> Handler:
        """``handler``'s answer also as the named event (seed 002 reads answers as events)."""

        async def answered(client: Client, data: Any) -> Any:
            answer = await handler(client, data)
            await sio_emit(self.sio, event, answer, client.sid)
            return answer

        return answered

    async def _emit(self, event: str, data: Any, sid: str) -> None:
        await sio_emit(self.sio, event, data, sid)

    async def _unknown_event(self, event: str, sid: str, data: Any = None) -> Any:
        body = {
            "error": f"unknown event {str(event)[:64]!r}",
            "details": {"event": str(event)[:64]},
            "code": "unknown_event",
        }
        await sio_emit(self.sio, "error", body, sid)
        return body

    def _channels(self, data: Any) -> tuple[set[str], set[str] | None]:
        if not isinstance(data, dict):
            raise BadRequest("expected {channels: [...], symbols?: [...]} or {symbol, timeframe}")
        channels = data.get("channels")
        if isinstance(channels, str):
            channels = [channels]
        if not isinstance(channels, list) or not channels or not all(isinstance(c, str) for c in channels):
            raise BadRequest("channels must be a non-empty list of names", {"known": KNOWN_CHANNELS})
        unknown = sorted(set(channels) - set(KNOWN_CHANNELS))
        if unknown:
            raise BadRequest(
                f"unknown channel(s): {', '.join(c[:32] for c in unknown[:5])}", {"known": KNOWN_CHANNELS}
            )
        symbols = data.get("symbols")
        if symbols is None:
            return set(channels), None
        if isinstance(symbols, str):
            symbols = [symbols]
        if (
            not isinstance(symbols, list)
            or len(symbols) > MAX_SYMBOLS
            or not all(isinstance(s, str) and 0 < len(s) <= MAX_SYMBOL_LENGTH for s in symbols)
        ):
            raise BadRequest("symbols must be a list of symbol names")
        return set(channels), set(symbols)

    async def _subscribe(self, client: Client, data: Any) -> dict[str, Any]:
        if is_seed002(data):
            return await self.feed.subscribe(client, data)
        channels, symbols = self._channels(data)
        refused: list[str] = []
        if not client.everything:
            refused = sorted(channels & set(WHOLE_VIEW_CHANNELS))
            channels -= set(refused)
            await self._know_live(client)
        live = channels & LIVE_CHANNELS
        if live:  # checked (and refused whole) before anything else changes
            await self.feed.subscribe_channels(client, live, symbols, data)
            channels -= live
            client.channels |= live
        if "quotes" in channels:
            client.symbols = _widened(client, symbols)
            await self._ensure_streaming(symbols)
        client.channels |= channels
        for channel in channels:
            self.rooms[channel].add(client)
        self._replay(client, channels)
        if "quotes" in channels:
            self.feed.send_summary(client)
        answer: dict[str, Any] = {
            "channels": sorted(client.channels),
            "symbols": sorted(client.symbols) if client.symbols is not None else None,
            **self.feed.channel_answer(client),
        }
        if refused:
            answer["refused"] = refused  # the log names every account: not for a limited scope
        await sio_emit(self.sio, "subscribed", answer, client.sid)
        return answer

    async def _know_live(self, client: Client) -> None:
        """Find whether the live account is one of a limited client's accounts (then its channels
        carry it, as long as the terminal stays on that account)."""
        info = self.ctx.services.account_state.account
        if info is not None and await self.ctx.sees_live(client.user):
            client.live_key = (info.login, info.server)
        else:
            client.live_key = None

    async def _ensure_streaming(self, symbols: set[str] | None) -> None:
        """Quotes for symbols nobody streams yet: ask market data to add them (unknown ones are skipped)."""
        if not symbols:
            return
        market = self.ctx.services.market_data
        streaming = set(market.subscribed)
        if symbols <= streaming:
            return
        known = {spec.name for spec in await market.all_symbols()}
        missing = [s for s in symbols if s in known and s not in streaming]
        if missing:
            await market.subscribe(missing, strict=False)

    async def _unsubscribe(self, client: Client, data: Any) -> dict[str, Any]:
        if is_seed002(data):
            return await self.feed.unsubscribe(client, data)
        channels, symbols = self._channels(data)
        live = channels & LIVE_CHANNELS
        if live:
            client.channels -= self.feed.unsubscribe_channels(client, live, symbols, data)
            channels -= live
        for channel in channels:
            if channel == "quotes" and symbols is not None and client.symbols is not None:
                client.symbols -= symbols
                for symbol in symbols:
                    client.latest.pop(("quotes", symbol), None)
                if client.symbols:
                    continue  # still subscribed to the other symbols
            client.channels.discard(channel)
            self.rooms[channel].discard(client)
            client.forget(CHANNELS[channel][1])
        if "quotes" not in client.channels:
            client.symbols = None
        answer = {
            "channels": sorted(client.channels),
            "symbols": sorted(client.symbols) if client.symbols is not None else None,
            **self.feed.channel_answer(client),
        }
        await sio_emit(self.sio, "unsubscribed", answer, client.sid)
        return answer

    async def _heartbeat(self, client: Client, data: Any) -> dict[str, Any]:
        sent = data.get("timestamp") if isinstance(data, dict) else None
        answer = {
            "timestamp": sent if isinstance(sent, int | float | str) else None,
            "server_time": now_iso(),
        }
        await sio_emit(self.sio, "heartbeat_ack", answer, client.sid)
        return answer

    async def _ping(self, client: Client, data: Any) -> dict[str, Any]:
        return {"pong": True, "server_time": now_iso(), **self.feed.health()}

    async def _get_symbols(self, client: Client, data: Any) -> list[dict[str, Any]]:
        market = self.ctx.services.market_data
        subscribed = set(market.subscribed)
        return [
            SymbolOut.of(s, s.name in subscribed).model_dump(mode="json") for s in await market.all_symbols()
        ]

    async def _get_candles(self, client: Client, data: Any) -> dict[str, Any]:
        from app.server.routes.market import parse_timeframe

        if not isinstance(data, dict):
            raise BadRequest("expected {symbol, timeframe, count}")
        symbol, timeframe, count = data.get("symbol"), data.get("timeframe", "H1"), data.get("count", 100)
        if not isinstance(symbol, str) or not 0 < len(symbol) <= MAX_SYMBOL_LENGTH:
            raise BadRequest("symbol must be a symbol name", {"field": "symbol"})
        if not isinstance(timeframe, str) or len(timeframe) > 8:
            raise BadRequest("timeframe must be like M1, H1, D1 or 1m, 1h, 1d", {"field": "timeframe"})
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BARS:
            raise BadRequest(f"count must be a whole number from 1 to {MAX_BARS}", {"field": "count"})
        series = await self.ctx.services.market_data.bars(symbol, parse_timeframe(timeframe), count)
        return Candles.of(series).model_dump(mode="json")

    async def _get_account_info(self, client: Client, data: Any) -> dict[str, Any]:
        """The live account; from then on ``account_update`` follows its changes (seed 002 has no
        channels to ask for them: its clients get them after asking for the account once)."""
        info = self.ctx.services.account_state.account
        if info is None:
            raise ApiError(503, "the live account is not known yet", "not_ready")
        if not await self.ctx.sees_live(client.user):
            raise ForbiddenError("the live account is not one of your accounts")
        await self._know_live(client)
        if "account" not in client.channels:
            client.channels.add("account")
            self.rooms["account"].add(client)
        return AccountOut.of(info).model_dump(mode="json")


def _refusal(message: str, code: str) -> socketio.exceptions.ConnectionRefusedError:
    """A refused connection as socket.io-client reads it: ``err.message`` a readable line, ``err.data``
    the uniform ``{error, code}``."""
    return socketio.exceptions.ConnectionRefusedError(message, {"error": message, "code": code})


def encode_event(event: str, data: Any) -> str:
    """A Socket.IO EVENT packet for the default namespace, encoded once for every client that gets it."""
    return EventPacket(sio_packet.Packet(sio_packet.EVENT, data=[event, data]).encode())


def _widened(client: Client, symbols: set[str] | None) -> set[str] | None:
    """The client's quote filter after subscribing to ``symbols`` (None: every symbol)."""
    if symbols is None:
        return None
    if "quotes" not in client.channels:
        return set(symbols)
    return None if client.symbols is None else client.symbols | symbols


async def sio_emit(sio: socketio.AsyncServer, event: str, data: Any, sid: str) -> None:
    try:
        await sio.emit(event, data, to=sid)
    except Exception as exc:  # noqa: BLE001 - the client may be gone already
        log.debug("emit %s to %s failed: %s", event, sid, exc)


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a published value (dataclasses, enums, datetimes)."""
    import dataclasses
    import enum

    if hasattr(value, "to_json"):
        return value.to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return iso(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
