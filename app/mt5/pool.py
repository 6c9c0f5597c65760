"""The terminal pool: every configured terminal, and which one holds the live account.

The live terminal streams quotes and takes orders; the others serve the carousel. With one terminal
the carousel borrows the live one (see app.core.carousel).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from app.models import TerminalState
from app.mt5.client import TerminalClient

log = logging.getLogger(__name__)


class TerminalPool:
    """Owns the terminal clients and reports every state change of any of them to ``on_state``."""

    name = "terminal-pool"

    def __init__(
        self, clients: Sequence[TerminalClient], on_state: Callable[[TerminalState], None] | None = None
    ) -> None:
        if not clients:
            raise ValueError("a terminal pool needs at least one terminal")
        self.clients = list(clients)
        self._live_id = self.clients[0].terminal_id
        self.live_lent_to: str | None = None  # who borrowed the live terminal (e.g. the carousel)
        self.lends = 0  # how many times the live terminal has been lent (a reader can tell one happened)
        if on_state is not None:
            for client in self.clients:
                client.add_state_listener(on_state)

    @property
    def live(self) -> TerminalClient:
        return self.get(self._live_id)

    def set_live(self, terminal_id: str) -> None:
        self.get(terminal_id)
        self._live_id = terminal_id

    def get(self, terminal_id: str) -> TerminalClient:
        for client in self.clients:
            if client.terminal_id == terminal_id:
                return client
        raise KeyError(f"no terminal {terminal_id!r} in the pool")

    @property
    def others(self) -> list[TerminalClient]:
        """Terminals that do not hold the live account (the carousel's own)."""
        return [c for c in self.clients if c.terminal_id != self._live_id]

    def states(self) -> list[TerminalState]:
        return [client.state for client in self.clients]

    async def start(self) -> None:
        await asyncio.gather(*(client.start() for client in self.clients))

    async def stop(self) -> None:
        await asyncio.gather(*(client.stop() for client in self.clients), return_exceptions=True)

    @asynccontextmanager
    async def borrow_live(self, borrower: str) -> AsyncIterator[TerminalClient]:
        """Lend the live terminal to ``borrower`` (the carousel, with a one-terminal pool).

        While lent, the trading service refuses orders; the borrower must put the terminal back on the
        live account (``live.home_account``) before leaving the block.
        """
        if self.live_lent_to is not None:
            raise RuntimeError(f"the live terminal is already lent to {self.live_lent_to}")
        self.live_lent_to = borrower
        self.lends += 1
        try:
            yield self.live
        finally:
            self.live_lent_to = None
