"""A sim terminal's connection to its trade server (one socket, one call at a time).

Transport failures become MT5's IPC errors: no answer within the terminal's timeout is
(-10005, 'IPC timeout'); a refused or broken connection is (-10004, 'No IPC connection'). After
either, the socket is dropped (a late answer must never be taken for the next call's) and the next
call reconnects — to a restarted server too, as a terminal reconnects to its broker — trying at
most every ``RECONNECT_INTERVAL_S`` while the server is away.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from typing import Any

from app.mt5.sim import errors, wire
from app.mt5.sim.errors import SimError

CONNECT_TIMEOUT_S = 5.0
RECONNECT_INTERVAL_S = 0.1  # a terminal polling ticks every 10 ms must not hammer a server that is gone


class Connection:
    def __init__(self, host: str, port: int, terminal: str, timeout_s: float) -> None:
        self.host = host
        self.port = port
        self.terminal = terminal
        self.timeout_s = timeout_s
        self._sock: socket.socket | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._refused_at: float | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _connect(self) -> socket.socket:
        if self._refused_at is not None and time.monotonic() - self._refused_at < RECONNECT_INTERVAL_S:
            raise errors.no_ipc()
        try:
            sock = socket.create_connection(
                (self.host, self.port), timeout=min(self.timeout_s, CONNECT_TIMEOUT_S)
            )
        except OSError:
            self._refused_at = time.monotonic()
            raise errors.no_ipc() from None
        self._refused_at = None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.timeout_s)
        return sock

    def call(self, op: str, function: str, **args: Any) -> Any:
        """Run ``op`` on the server for MT5 function ``function``; raise :class:`SimError` on failure."""
        with self._lock:
            if self._sock is None:
                self._sock = self._connect()
            message = {
                "id": next(self._ids),
                "op": op,
                "fn": function,
                "terminal": self.terminal,
                "args": args,
            }
            try:
                wire.send(self._sock, message)
                reply = wire.receive(self._sock)
            except TimeoutError:
                self._drop()
                raise errors.ipc_timeout() from None
            except (OSError, ValueError):
                self._drop()
                raise errors.no_ipc() from None
        if reply.get("ok"):
            return reply.get("result")
        error = SimError(int(reply.get("code", -1)), str(reply.get("message", "")))
        error.reauth = bool(reply.get("reauth"))  # type: ignore[attr-defined]
        raise error

    def _drop(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def close(self) -> None:
        with self._lock:
            self._drop()


def probe(host: str, port: int, timeout_s: float = 0.3) -> bool:
    """Whether a trade server answers at host:port."""
    try:
        connection = Connection(host, port, "probe", timeout_s)
        connection.call("hello", "initialize")
    except SimError:
        return False
    connection.close()
    return True
