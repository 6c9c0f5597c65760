"""PostgreSQL LISTEN on the store, for the nodes and the consoles: what another machine changed.

One connection of its own, LISTENing on the channels the storage triggers NOTIFY (revision 0010), held
by a thread of its own with psycopg's blocking API: it works under any event loop (a console's window
on Windows runs Qt's proactor loop, where psycopg's asyncio mode cannot). Each notification is handed
to ``on_notify(channel, payload)`` on the event loop that started the listener. A lost connection (a
restarted server, a network cut) is made again with backoff; notifications sent meanwhile are lost,
so ``on_connected`` runs on the loop after each (re)connection: the place to read everything again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable

import psycopg
from psycopg import sql

from app.distributed.jobs import CONNECT_TIMEOUT_S, conninfo, describe
from app.retry import Backoff

log = logging.getLogger(__name__)

Notify = Callable[[str, str], None]
Connected = Callable[[], Awaitable[None]]
KEEPALIVE_S = 5.0  # a quiet connection is checked this often (a dead one is noticed)
WAKE_S = 0.5  # how soon the thread notices it should stop


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
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.connected = asyncio.Event()
        self.connections = 0  # how many times it connected (tests watch a reconnection)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="store-listener", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.join, KEEPALIVE_S + CONNECT_TIMEOUT_S)
        for task in list(self._tasks):
            task.cancel()

    # ------------------------------------------------------------------ the listening thread

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except Exception as exc:  # noqa: BLE001 - any failure: connect again, later
                self._call(self.connected.clear)
                delay = self._backoff.next_delay()
                log.warning("store notifications from %s lost (%s); connecting again in %.1f s",
                            self._where, str(exc).strip().splitlines()[0] if str(exc).strip() else exc,
                            delay)  # fmt: skip
                self._stopping.wait(delay)

    def _listen(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            for channel in self.channels:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            self.connections += 1
            self._backoff.reset()
            log.info("listening to %s for changes", self._where)
            self._call(self.connected.set)
            self._call(self._connected_now)
            quiet = 0.0
            while not self._stopping.is_set():
                got = False
                for note in conn.notifies(timeout=WAKE_S):
                    got = True
                    self._call(self._deliver, note.channel, note.payload)
                quiet = 0.0 if got else quiet + WAKE_S
                if quiet >= KEEPALIVE_S:
                    conn.execute("SELECT 1")  # a dead connection raises here
                    quiet = 0.0

    # ------------------------------------------------------------------ back on the loop

    def _call(self, fn: Callable[..., object], *args: object) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(fn, *args)
            except RuntimeError:  # the loop closed meanwhile: shutting down
                pass

    def _deliver(self, channel: str, payload: str) -> None:
        try:
            self._on_notify(channel, payload)
        except Exception:
            log.exception("a store notification could not be handled")

    def _connected_now(self) -> None:
        if self._on_connected is not None:
            task = asyncio.ensure_future(self._read_again(self._on_connected))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _read_again(self, on_connected: Connected) -> None:
        try:
            await on_connected()
        except Exception as exc:  # noqa: BLE001 - the next notification or reconnection reads again
            log.warning("could not read the store again after connecting: %s", exc)
