"""The terminal pool: every configured terminal, and which one holds the live account.

The live terminal streams quotes and takes orders; the others serve the carousel. With one terminal
the carousel borrows the live one (see app.core.carousel).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from app.models import TerminalState, TradingDisabledError
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
        self._users = 0  # operations under way that must see the live terminal on its account
        self._idle = asyncio.Condition()
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
        live account (``live.home_account``) before leaving the block. The loan begins only once the
        operations under way in :meth:`using_live` (an order being sent) have ended; new ones are
        refused from the moment it is asked for.
        """
        if self.live_lent_to is not None:
            raise RuntimeError(f"the live terminal is already lent to {self.live_lent_to}")
        self.live_lent_to = borrower
        self.lends += 1
        try:
            async with self._idle:
                await self._idle.wait_for(lambda: self._users == 0)
            yield self.live
        finally:
            self.live_lent_to = None

    @asynccontextmanager
    async def using_live(self) -> AsyncIterator[TerminalClient]:
        """Use the live terminal for something that must find it on the live account from start to end
        — an order command, from its checks to the send. Raises :class:`TradingDisabledError` while
        it is lent; a loan asked for meanwhile waits for the block to end."""
        if self.live_lent_to is not None:
            raise TradingDisabledError(
                f"the live terminal is visiting another account ({self.live_lent_to}); try again in a moment"
            )
        self._users += 1
        try:
            yield self.live
        finally:
            self._users -= 1
            if self._users == 0:
                async with self._idle:
                    self._idle.notify_all()
