"""Live data written straight to a client's WebSocket as frames built once for every client.

A server-to-client WebSocket frame is not masked, so the frame of one Socket.IO event is the same bytes
for every connection that negotiated no extension (no ``permessage-deflate``). The fan-out builds each
event's frame once (:class:`EventPacket`) and, where it is safe, appends those bytes to each client's
connection (:class:`~app.server.ws_batching.BatchedTransport`, which writes a connection's frames once a
loop turn) instead of taking each event through Engine.IO's queue, its writer task, the ASGI send,
and the frame encoder once per client — the per-event cost that bound the server's CPU.

*Safe* (:func:`direct_connection`) means nothing sent another way can be overtaken: the Engine.IO
socket is open and upgraded to this WebSocket, its queue is empty and its writer is not in the middle
of a send (acknowledgements, named answers, pings and closes all go through that queue, so they stay in
order with the frames written here), and the connection is open, not backed up, and uncompressed.
Otherwise the sender takes the ordinary path, packet by packet.
"""

from __future__ import annotations

import functools
import struct
from typing import Any

from engineio.async_drivers import asgi as eio_asgi
from websockets.protocol import State

from app.server.ws_batching import BatchedWebSocketProtocol


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked WebSocket text frame (RFC 6455 §5.2) carrying ``payload``."""
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


class EventPacket(str):
    """An encoded Socket.IO packet (it *is* the text Engine.IO sends) that also knows its WebSocket
    frame, built the first time a client needs it and shared by all the others."""

    @functools.cached_property
    def frame(self) -> bytes:
        return text_frame(("4" + self).encode())  # Engine.IO MESSAGE: "4" + the Socket.IO packet


def frame_of(packet: str) -> bytes:
    return packet.frame if isinstance(packet, EventPacket) else text_frame(("4" + packet).encode())


class LinkedWebSocket(eio_asgi.WebSocket):
    """Engine.IO's ASGI WebSocket that tells its socket about itself, and knows when it is mid-send."""

    def __init__(self, handler: Any, server: Any) -> None:
        super().__init__(handler, server)
        self.sending = 0  # sends under way (a send waits while the transport is paused)
        self.eio_socket = getattr(handler, "__self__", None)  # the AsyncSocket whose handler this is

    async def __call__(self, environ: dict[str, Any]) -> Any:
        if self.eio_socket is not None:
            self.eio_socket.linked_ws = self
        return await super().__call__(environ)

    async def send(self, message: Any) -> None:
        self.sending += 1
        try:
            await super().send(message)
        finally:
            self.sending -= 1

    @property
    def protocol(self) -> BatchedWebSocketProtocol | None:
        """uvicorn's protocol of this connection, when the ASGI send is its own (nothing wraps it)."""
        owner = getattr(self.asgi_send, "__self__", None)
        return owner if isinstance(owner, BatchedWebSocketProtocol) else None


def link_websockets(eio_server: Any) -> None:
    """Make ``eio_server`` (an engineio AsyncServer in ASGI mode) build :class:`LinkedWebSocket`\\ s."""
    eio_server._async = {**eio_server._async, "websocket": LinkedWebSocket}  # a copy, not the module's


def direct_connection(eio_socket: Any) -> BatchedWebSocketProtocol | None:
    """The connection to write this Engine.IO socket's frames to right now, or None when the ordinary
    path must be taken (see the module docstring)."""
    ws = getattr(eio_socket, "linked_ws", None)
    if (
        ws is None
        or ws.sending
        or not eio_socket.upgraded
        or eio_socket.closing
        or eio_socket.closed
        or not eio_socket.queue.empty()
    ):
        return None
    protocol = ws.protocol
    if (
        protocol is None
        or not protocol.handshake_complete
        or protocol.close_sent
        or protocol.conn.state is not State.OPEN
        or protocol.disconnected
        or not protocol.writable.is_set()
        or protocol.conn.extensions
        or protocol.transport.is_closing()
    ):
        return None
    return protocol
