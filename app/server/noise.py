"""Noise from the network, told once: at most one log line per client address and minute, with a
count, never a traceback.

Anyone who can reach the port can send garbage (no token is needed to open an Engine.IO session or to
send a malformed HTTP request), and a library that logs a traceback per bad packet lets a few thousand
tiny frames rotate every log file away. What the server handles it notes here instead
(:class:`NoiseLog`); :class:`LibraryNoiseFilter` does the same for what python-engineio,
python-socketio and uvicorn would log about such input.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

NOISE_WINDOW_S = 60.0
MAX_ADDRESSES = 10_000
ENGINEIO_LOGGERS = ("engineio.server", "socketio.server")
# What uvicorn logs, one line each and without the peer, for input it could not take.
UVICORN_NOISE = ("Invalid HTTP request received.", "Unsupported upgrade request.")

client_address: contextvars.ContextVar[str] = contextvars.ContextVar("socketio_client", default="unknown")


class NoiseLog:
    """At most one line per client address per ``window_s``: "what, how many times since the last
    line". Bounded: the oldest addresses are forgotten beyond ``max_addresses``."""

    def __init__(
        self,
        window_s: float = NOISE_WINDOW_S,
        *,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_s = window_s
        self.max_addresses = max_addresses
        self._clock = clock
        self._seen: OrderedDict[str, tuple[float, int]] = OrderedDict()  # address -> (last line, muted)

    def note(self, what: str, address: str | None = None) -> None:
        address = address or client_address.get()
        now = self._clock()
        last = self._seen.get(address)
        if last is not None and now - last[0] < self.window_s:
            self._seen[address] = (last[0], last[1] + 1)
            self._seen.move_to_end(address)
            return
        muted = last[1] if last is not None else 0
        self._seen[address] = (now, 0)
        self._seen.move_to_end(address)
        while len(self._seen) > self.max_addresses:
            self._seen.popitem(last=False)
        more = f" ({muted} more since the last line)" if muted else ""
        log.warning("from %s: %s — ignored%s", address, what[:200], more)


class LibraryNoiseFilter(logging.Filter):
    """On the libraries' loggers: their records (all of them on ``loggers``; those whose message is in
    ``messages`` on ``matching``) go through :class:`NoiseLog` — one line, no traceback."""

    def __init__(
        self,
        noise: NoiseLog,
        loggers: Iterable[str] = ENGINEIO_LOGGERS,
        matching: Iterable[str] = ("uvicorn.error",),
        messages: Iterable[str] = UVICORN_NOISE,
    ) -> None:
        super().__init__()
        self.noise = noise
        self.loggers = tuple(loggers)
        self.matching = tuple(matching)
        self.messages = frozenset(messages)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in self.matching and record.msg not in self.messages:
            return True
        what = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            what += f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        self.noise.note(what)
        return False

    def install(self) -> None:
        for name in self.loggers + self.matching:
            logging.getLogger(name).addFilter(self)

    def remove(self) -> None:
        for name in self.loggers + self.matching:
            logging.getLogger(name).removeFilter(self)
