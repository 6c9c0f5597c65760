"""PostgreSQL LISTEN on the store, for the nodes and the consoles: what another machine changed.

One connection of its own, LISTENing on the channels the storage triggers NOTIFY (revision 0006).
Notifications are handed to ``on_notify(channel, payload)``. A lost connection (a restarted server, a
network cut) is made again with backoff; notifications sent meanwhile are lost, so ``on_connected``
runs after each (re)connection: the place to read everything again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

import psycopg
from psycopg import sql

from app.distributed.jobs import CONNECT_TIMEOUT_S, conninfo, describe
from app.retry import Backoff

log = logging.getLogger(__name__)

Notify = Callable[[str, str], None]
Connected = Callable[[], Awaitable[None]]
KEEPALIVE_S = 10.0  # a quiet connection is checked this often (a dead one is noticed)


class StoreListener:
    """See the module docstring. A runtime service (``start``/``stop``)."""

    name = "store-listener"

    def __init__(
        self,
        url: str,
        channels: Iterable[str],
        on_notify: Notify,
        *,
        on_connected: Connected | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._conninfo = conninfo(url)
        self._where = describe(url)
        self.channels = tuple(channels)
        self._on_notify = on_notify
        self._on_connected = on_connected
        self._backoff = backoff or Backoff(initial=0.5, maximum=15.0)
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.connections = 0  # how many times it connected (tests watch a reconnection)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="store-listener")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: connect again, later
                self.connected.clear()
                delay = self._backoff.next_delay()
                log.warning("store notifications from %s lost (%s); connecting again in %.1f s",
                            self._where, exc, delay)  # fmt: skip
                await asyncio.sleep(delay)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
        ) as conn:
            for channel in self.channels:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            self.connections += 1
            self.connected.set()
            self._backoff.reset()
            log.info("listening to %s for changes", self._where)
            if self._on_connected is not None:
                await self._on_connected()
            while True:
                async for note in conn.notifies(timeout=KEEPALIVE_S):
                    try:
                        self._on_notify(note.channel, note.payload)
                    except Exception:
                        log.exception("a store notification could not be handled")
                await conn.execute("SELECT 1")  # a dead connection raises here
