"""The live account, its positions and pending orders: refreshed on a timer and after every trade.

Published on the hub (``account``, ``positions``, ``orders`` with key ``None`` = the live account), so
the window and the server answer from this state without waiting on the terminal.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from app.core.hub import EventHub, Topic
from app.models import AccountInfo, Deal, NotReadyError, Order, Position, TerminalError
from app.mt5.pool import TerminalPool

log = logging.getLogger(__name__)


class AccountState:
    name = "account-state"

    def __init__(self, hub: EventHub, pool: TerminalPool, interval_s: float = 0.5) -> None:
        self._hub = hub
        self._pool = pool
        self.interval_s = interval_s
        self.account: AccountInfo | None = None
        self.positions: tuple[Position, ...] = ()
        self.orders: tuple[Order, ...] = ()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.paused = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="account-state")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            if not self.paused:
                try:
                    await self.refresh()
                except TerminalError as exc:
                    log.debug("account refresh skipped: %s", exc)
            await asyncio.sleep(self.interval_s)

    async def refresh(self) -> None:
        """Read account, positions and orders from the live terminal and publish them.

        Skipped while the live terminal is lent to the carousel (it is on another account then), and
        what was read is dropped if a lending began or ended during the read.
        """
        async with self._lock:
            lends = self._pool.lends
            if self._pool.live_lent_to is not None:
                return
            terminal = self._pool.live
            state = await terminal.call("account_state")  # one round trip for the three
            account: AccountInfo = state["account"]
            positions: list[Position] = state["positions"]
            orders: list[Order] = state["orders"]
            if self._pool.live_lent_to is not None or self._pool.lends != lends:
                log.debug("account refresh dropped: the live terminal was lent meanwhile")
                return
        self.account, self.positions, self.orders = account, tuple(positions), tuple(orders)
        self._hub.publish(Topic.ACCOUNT, account)
        self._hub.publish(Topic.POSITIONS, self.positions)
        self._hub.publish(Topic.ORDERS, self.orders)

    async def deals(self, date_from: datetime, date_to: datetime) -> list[Deal]:
        """The live account's deals in ``[date_from, date_to]`` (the History tab, ``/api/history``)."""
        deals: list[Deal] = await self._live_read("history_deals", date_from, date_to)
        return deals

    async def history_orders(self, date_from: datetime, date_to: datetime) -> list[Order]:
        orders: list[Order] = await self._live_read("history_orders", date_from, date_to)
        return orders

    async def _live_read(self, op: str, *args: object) -> Any:
        """A read of the live account's own data: refused while the terminal is on another account."""
        lends = self._pool.lends
        self._refuse_if_lent()
        value = await self._pool.live.call(op, *args)
        if self._pool.lends != lends:
            self._refuse_if_lent(force=True)
        return value

    def _refuse_if_lent(self, force: bool = False) -> None:
        borrower = self._pool.live_lent_to
        if borrower is not None or force:
            raise NotReadyError(
                f"the live terminal is visiting another account for the {borrower or 'carousel'}; "
                "try again in a moment"
            )
