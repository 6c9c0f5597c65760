"""The trade server's loopback TCP endpoint: one thread per terminal connection.

Each connection carries a stream of request frames; the thread answers them in order. Fault delays
(latency, a hung call) happen in that thread, outside the server's lock, so one slow terminal never
slows the others.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from types import TracebackType
from typing import TYPE_CHECKING

from app.mt5.sim import wire

if TYPE_CHECKING:
    from app.mt5.sim.server import TradeServer

log = logging.getLogger(__name__)


class _Connection(socketserver.BaseRequestHandler):
    server: _TcpServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        trade = self.server.trade
        with self.server.guard:
            self.server.connections.add(sock)
        try:
            self._serve(sock, trade)
        finally:
            with self.server.guard:
                self.server.connections.discard(sock)

    def _serve(self, sock: socket.socket, trade: TradeServer) -> None:
        while True:
            try:
                message = wire.receive(sock)
            except (OSError, ValueError):
                return
            reply = trade.handle(message)
            try:
                wire.send(sock, reply)
            except OSError:
                return


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], trade: TradeServer) -> None:
        self.trade = trade
        self.connections: set[socket.socket] = set()
        self.guard = threading.Lock()
        super().__init__(address, _Connection)

    def drop_connections(self) -> None:
        """Cut every terminal off, as a server that goes away does."""
        with self.guard:
            connections = list(self.connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Listener:
    """A started :class:`TradeServer` plus its TCP endpoint; ``stop()`` ends both."""

    def __init__(self, server: TradeServer, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = server
        self._tcp = _TcpServer((host, port), server)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        host, port = self._tcp.server_address[:2]
        return f"{host!s}:{port}"

    @property
    def url(self) -> str:
        return f"sim://{self.address}"

    def start(self) -> Listener:
        self._thread = threading.Thread(
            target=self._tcp.serve_forever, args=(0.1,), name="sim-listener", daemon=True
        )
        self._thread.start()
        log.info("sim trade server listening on %s", self.address)
        return self

    def stop(self) -> None:
        self._tcp.shutdown()
        self._tcp.server_close()
        self._tcp.drop_connections()
        if self._thread is not None:
            self._thread.join(5)
        self.server.stop()

    def __enter__(self) -> Listener:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
