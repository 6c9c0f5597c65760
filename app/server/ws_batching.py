"""WebSocket frames written to the socket once per connection and event-loop turn, not once per frame.

A dashboard client at the storm rate gets a dozen small frames each time its sender runs (a tick per
symbol, a few live candles); uvicorn writes each one to the transport as it is made, and each write to
an idle asyncio socket transport is a ``send()`` system call. Those calls were the largest single cost
of the server's fan-out (a third of its CPU at 100 clients × 8 symbols). :class:`BatchedTransport`
collects what one loop turn writes to a connection and hands it to the real transport in one piece at
the end of that turn (``loop.call_soon``): the same bytes, in the same order, one system call.

Nothing else changes: close, abort and EOF flush (or drop) first; flow control still comes from the
real transport, whose buffer sees the collected bytes one loop turn later at most.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class BatchedTransport:
    """A write-collecting front for one connection's asyncio transport (everything else passes through)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._flush_handle: asyncio.Handle | None = None

    @property
    def wrapped(self) -> asyncio.Transport:
        return self._transport

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        self._pending.append(data if isinstance(data, bytes) else bytes(data))
        if self._flush_handle is None:
            self._flush_handle = self._loop.call_soon(self.flush)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Hand what was collected to the real transport now (one write)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._pending:
            return
        pending = self._pending
        self._pending = []
        self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(d) for d in self._pending)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._pending = []
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, pause_reading, ...
        return getattr(self._transport, name)


class BatchedWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol (the one it picks by default) over a :class:`BatchedTransport`."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 - uvicorn hands over a socket transport
        super().connection_made(BatchedTransport(transport, asyncio.get_running_loop()))  # type: ignore[arg-type]
