"""Socket.IO and Engine.IO under garbage: handled without a traceback, at most one log line per client
address and minute, and an ``error`` event where the client can get one.

python-socketio and python-engineio log a traceback for every packet they cannot decode (and anyone
can send them, before any token: the Engine.IO handshake needs none), let a client emit the reserved
``connect``/``disconnect`` events into the server's own handlers, and close a WebSocket on a frame they
cannot parse. Three guards, from the outside in:

* :class:`FrameGuard` (ASGI) checks every Engine.IO packet — WebSocket text frames, long-polling POST
  bodies — before python-engineio sees it. A packet that is not one (``9``, ``\\x00\\xff``, bad base64)
  is dropped: a WebSocket gets an ``error`` event and stays open, a POST gets a 400.
* :class:`GuardedServer` (python-socketio) answers a Socket.IO packet it cannot decode (``4Z``,
  ``40{bad``) or an event with a reserved or missing name with an ``error`` event; the connection and
  its subscriptions stay as they were.
* :class:`~app.server.noise.NoiseLog` is where all of it is told: one line per client address per
  minute, with a count, never a traceback. A logging filter puts whatever the two libraries still log
  through it.
"""

from __future__ import annotations

import binascii
import logging
from typing import Any

import socketio
from socketio import packet as sio_packet
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.server.limits import read_body, replaying
from app.server.noise import NoiseLog, client_address

log = logging.getLogger(__name__)

RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)
# What an Engine.IO 4 client may send: close, pong, message, upgrade — and ping, on a WebSocket (the
# upgrade probe). python-engineio answers anything else sent by long-polling by disconnecting, which
# waits forever on packets the client will never poll for.
_POLLING_TYPES = frozenset("1345")
_WEBSOCKET_TYPES = frozenset("12345")


def error_body(message: str, code: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": message, "details": details or {}, "code": code}


def error_frame(message: str, code: str) -> str:
    """An Engine.IO message carrying a Socket.IO ``error`` event for the default namespace."""
    event = sio_packet.Packet(sio_packet.EVENT, data=["error", error_body(message, code)]).encode()
    return "4" + str(event)


def is_engineio_packet(text: str, *, websocket: bool = False) -> bool:
    """Whether ``text`` is one packet an Engine.IO client may send (a type digit, or ``b`` + base64)."""
    if not text:
        return False
    if text[0] == "b":
        try:
            binascii.a2b_base64(text[1:].encode("ascii"), strict_mode=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            return False
        return True
    return text[0] in (_WEBSOCKET_TYPES if websocket else _POLLING_TYPES)


class FrameGuard:
    """ASGI middleware in front of the Socket.IO app (see the module docstring)."""

    def __init__(self, app: ASGIApp, noise: NoiseLog, max_bytes: int, path: str = "/socket.io") -> None:
        self.app = app
        self.noise = noise
        self.max_bytes = max_bytes
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not scope.get("path", "").startswith(self.path):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        client_address.set(str(client[0]) if client else "unknown")
        if scope["type"] == "websocket":
            await self.app(scope, self._websocket_receive(receive, send), send)
        elif scope.get("method") == "POST":
            await self._post(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _websocket_receive(self, receive: Receive, send: Send) -> Receive:
        async def guarded() -> Message:
            while True:
                message = await receive()
                if message["type"] != "websocket.receive":
                    return message
                text = message.get("text")
                if text is None or is_engineio_packet(text, websocket=True):
                    return message  # binary frames are Socket.IO attachments: GuardedServer checks them
                self.noise.note(f"a frame that is no Engine.IO packet ({text[:16]!r})")
                await send({"type": "websocket.send", "text": error_frame("malformed frame", "bad_frame")})

        return guarded

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, over = await read_body(receive, self.max_bytes)
        if over is not None:
            await _plain(send, 413, b"payload too large")
            return
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and (not text or all(is_engineio_packet(p) for p in text.split("\x1e"))):
            await self.app(scope, replaying(body, receive), send)
            return
        self.noise.note(f"a long-polling payload that is no Engine.IO packet ({body[:16]!r})")
        await _plain(send, 400, b"bad request: not an Engine.IO payload")


async def _plain(send: Send, status: int, payload: bytes) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class GuardedServer(socketio.AsyncServer):
    """python-socketio's server with undecodable packets and reserved event names answered by an
    ``error`` event instead of crashing a handler or reaching the connect/disconnect handlers."""

    def __init__(self, *args: Any, noise: NoiseLog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.noise = noise

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except Exception as exc:  # noqa: BLE001 - anything a client sends is answered, never a crash
            self._binary_packet.pop(eio_sid, None)
            self.noise.note(f"an undecodable Socket.IO packet ({type(exc).__name__})")
            await self._tell(eio_sid, None, error_body("malformed packet", "bad_packet"))

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: Any, data: Any) -> None:  # noqa: A002
        name = data[0] if isinstance(data, list) and data else None
        if not isinstance(name, str):
            self.noise.note("an event without a name")
            await self._tell(eio_sid, id, error_body("an event needs a name: [name, data?]", "bad_packet"))
            return
        if name in RESERVED_EVENTS:
            body = error_body(
                f"{name!r} is a reserved event name: a client may not emit it",
                "reserved_event",
                {"event": name},
            )
            await self._tell(eio_sid, id, body)
            return
        await super()._handle_event(eio_sid, namespace, id, data)

    async def _tell(self, eio_sid: str, ack_id: Any, body: dict[str, Any]) -> None:
        """An ``error`` event to the client (and its acknowledgement, if it asked for one)."""
        try:
            event = self.packet_class(sio_packet.EVENT, namespace="/", data=["error", body])
            await self._send_packet(eio_sid, event)
            if isinstance(ack_id, int):
                await self._send_packet(
                    eio_sid, self.packet_class(sio_packet.ACK, namespace="/", id=ack_id, data=[body])
                )
        except Exception as exc:  # noqa: BLE001 - the client may be gone already
            log.debug("could not tell %s about its bad packet: %s", eio_sid, exc)
