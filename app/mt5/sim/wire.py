"""The terminal <-> trade server protocol: length-prefixed frames over loopback TCP.

A frame is ``!II`` (JSON length, number of binary parts), the JSON message, then each binary part as
``!I`` length + bytes. Numpy arrays (rates, ticks) travel as raw bytes referenced from the JSON
(``{"__nd__": index, "dtype": "rates"|"ticks"}``), so a 100,000-tick answer costs one memcpy, not a
JSON encoding. Nothing is unpickled: a peer can only send data.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

import numpy as np

from app.mt5.sim.structs import RATES_DTYPE, TICKS_DTYPE

_HEAD = struct.Struct("!II")
_PART = struct.Struct("!I")
MAX_JSON = 64 * 1024 * 1024
DTYPES = {"rates": RATES_DTYPE, "ticks": TICKS_DTYPE}
_NAMES = {RATES_DTYPE: "rates", TICKS_DTYPE: "ticks"}


class WireError(ConnectionError):
    """The peer closed the connection or sent something that is not a frame."""


def encode(message: dict[str, Any]) -> bytes:
    parts: list[bytes] = []

    def default(value: object) -> object:
        if isinstance(value, np.ndarray):
            parts.append(value.tobytes())
            return {"__nd__": len(parts) - 1, "dtype": _NAMES[value.dtype]}
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            return float(value)
        if isinstance(value, (tuple, frozenset, set)):
            return list(value)
        raise TypeError(f"cannot send {type(value).__name__}")

    body = json.dumps(message, default=default, separators=(",", ":")).encode()
    chunks = [_HEAD.pack(len(body), len(parts)), body]
    for part in parts:
        chunks.append(_PART.pack(len(part)))
        chunks.append(part)
    return b"".join(chunks)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:], size - got)
        if n == 0:
            raise WireError("connection closed")
        got += n
    return bytes(buffer)


def receive(sock: socket.socket) -> dict[str, Any]:
    length, count = _HEAD.unpack(_recv_exact(sock, _HEAD.size))
    if length > MAX_JSON or count > 16:
        raise WireError("oversized frame")
    body = _recv_exact(sock, length)
    parts = [_recv_exact(sock, _PART.unpack(_recv_exact(sock, _PART.size))[0]) for _ in range(count)]

    def hook(obj: dict[str, Any]) -> object:
        if "__nd__" in obj:
            return np.frombuffer(bytearray(parts[obj["__nd__"]]), dtype=DTYPES[obj["dtype"]])
        return obj

    message = json.loads(body, object_hook=hook if count else None)
    if not isinstance(message, dict):
        raise WireError("not a message")
    return message


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(encode(message))
