"""One shutdown path: SIGINT/SIGTERM (and, in the window, closing it) set the same stop event."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

STOP_SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)


def install_stop_signals(loop: asyncio.AbstractEventLoop, request_stop: Callable[[], None]) -> None:
    """Call ``request_stop`` on the loop's thread when the process is asked to stop."""
    for sig in STOP_SIGNALS:
        try:
            loop.add_signal_handler(sig, request_stop)
        except (NotImplementedError, RuntimeError):  # Windows event loops have no signal handlers
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(request_stop))


def remove_stop_signals(loop: asyncio.AbstractEventLoop) -> None:
    for sig in STOP_SIGNALS:
        try:
            loop.remove_signal_handler(sig)
        except (NotImplementedError, RuntimeError):
            signal.signal(sig, signal.SIG_DFL)
