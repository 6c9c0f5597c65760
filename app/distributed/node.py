"""A node: one machine's share of the distributed carousel (``mt5-console node``).

It owns its terminals (a pool, every terminal for the carousel: a node trades nothing), one
procrastinate worker per terminal (:class:`~app.distributed.lane.NodeLane`), a :class:`Planner`
candidate, and a :class:`StoreListener` for what other machines change. It serves only the accounts
whose password its own OS keyring holds, and says which in the store (``node_accounts``); it reads
its keyring again when an account is added or changed, and every ``announce_interval_s``. Its
heartbeat (``nodes.seen_ms``) says it runs; procrastinate's per-worker heartbeats say which visits
are really under way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from app import __version__
from app.config import Settings
from app.core.accounts import AccountRegistry
from app.core.credentials import CredentialStore
from app.core.storage import Database, Tx
from app.core.times import utc_now
from app.distributed.jobs import ensure_job_schema, job_app, register_visit_task
from app.distributed.lane import NodeLane
from app.distributed.listener import StoreListener
from app.distributed.names import ACCOUNTS_CHANNEL, CAROUSEL_CHANNEL, sync_queue, visit_queue
from app.distributed.planner import Planner
from app.distributed.visits import NodeVisits, VisitPlace
from app.models import ManagedAccount
from app.mt5.client import TerminalClient
from app.mt5.pool import TerminalPool
from app.retry import Backoff

log = logging.getLogger(__name__)

DB_CONNECTIONS = 3  # the store's connections per node (a visit's statements take milliseconds)
STOP_BUDGET_S = 9.0  # of the runtime's 10 s per service
NOTIFY_BATCH_S = 0.2  # account notifications are gathered this long, then read together


def default_node_name() -> str:
    return socket.gethostname().split(".")[0] or "node"


class Node:
    """See the module docstring. A runtime service; ``name = "node"``."""

    name = "node"

    def __init__(
        self,
        settings: Settings,
        clients: Sequence[TerminalClient],
        *,
        credentials: CredentialStore | None = None,
        node_name: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        url = settings.storage.url
        if not url:
            raise ValueError("a node needs storage.url on PostgreSQL")
        self.settings = settings
        self.url = url
        self.node_name = node_name or settings.distributed.node_name or default_node_name()
        self._clock = clock
        dist = settings.distributed
        self.pool = TerminalPool(list(clients))
        connections = dist.db_connections or DB_CONNECTIONS
        self.db = Database(url, connections=connections)
        self.credentials = credentials or CredentialStore(timeout_s=settings.accounts.keyring_timeout_s)
        self.registry = AccountRegistry(self.db, self.credentials, settings=settings.accounts, clock=clock)
        self.app = job_app(url, pool_size=len(clients) + 1)  # each worker fetches and finishes its jobs
        self.visits = NodeVisits(
            self.db,
            self.registry,
            settings.carousel,
            settings.accounts,
            not_here=self._not_here,
            known=lambda account_id: self.accounts.get(account_id),
            clock=clock,
        )
        register_visit_task(self.app, self._run_job)
        grace = settings.carousel.stop_grace_s
        self.lanes = [
            NodeLane(
                self.app,
                VisitPlace(self.node_name, client),
                self._queues_for,
                heartbeat_interval_s=dist.heartbeat_interval_s,
                heartbeat_timeout_s=dist.heartbeat_timeout_s,
                grace_s=grace,
            )
            for client in self.pool.clients
        ]
        self.planner = Planner(url, self.node_name, self.db, self.app, settings.carousel, dist, clock=clock)
        self.listener = StoreListener(
            url, (ACCOUNTS_CHANNEL, CAROUSEL_CHANNEL), self._notified, on_connected=self._connected
        )
        self.accounts: dict[int, ManagedAccount] = {}  # the enabled accounts, as last read
        self.served: set[int] = set()  # those whose password this node's keyring holds
        self.paused = False
        self.started_at = clock()
        self._tasks: list[asyncio.Task[None]] = []
        self._pending_ids: set[int] = set()
        self._pending: asyncio.Task[None] | None = None
        self._refresh_lock = asyncio.Lock()
        self._announced = asyncio.Event()

    @property
    def terminal_ids(self) -> list[str]:
        return [client.terminal_id for client in self.pool.clients]

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.credentials.ensure_available()
        await ensure_job_schema(self.url)
        await self.db.start()
        await self.app.open_async()
        await self._set_default_control()
        await self.pool.start()
        await self._refresh_all()
        await self.listener.start()
        for lane in self.lanes:
            lane.start()
        self._tasks = [
            asyncio.create_task(self._beat(), name="node-heartbeat"),
            asyncio.create_task(self._reannounce(), name="node-announce"),
            asyncio.create_task(self.planner.run(), name="node-planner"),
        ]
        log.info("node %s running: %d terminal(s), %d of %d account(s) served",
                 self.node_name, len(self.lanes), len(self.served), len(self.accounts))  # fmt: skip

    async def stop(self) -> None:
        started = time.monotonic()
        for task in [*self._tasks, *([self._pending] if self._pending else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await asyncio.gather(*(lane.stop() for lane in self.lanes), return_exceptions=True)
        await self.listener.stop()
        now = self._clock()
        try:
            await asyncio.wait_for(self.db.run(lambda tx: tx.nodes.stopped(self.node_name, now)), 3)
        except Exception:  # noqa: BLE001 - the store may be gone: the heartbeat's age says it then
            log.warning("node %s could not say it stopped", self.node_name)
        left = max(0.5, STOP_BUDGET_S - (time.monotonic() - started))
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.pool.stop(), left)
        with contextlib.suppress(Exception):
            await self.app.close_async()
        await self.db.stop()
        log.info("node %s stopped", self.node_name)

    async def _set_default_control(self) -> None:
        """The first node of a store sets the carousel running as ``carousel.autostart`` says."""
        autostart, now = self.settings.carousel.autostart, self._clock()

        def default(tx: Tx) -> None:
            if tx.cycles.control().changed_at is None:
                tx.cycles.set_control(running=autostart, paused=False, by="system", now=now)

        await self.db.run(default)

    # ------------------------------------------------------------------ jobs

    async def _run_job(self, context: object, account_id: int, cycle: int, attempt: int) -> str:
        place: VisitPlace = context.additional_context["place"]  # type: ignore[attr-defined]
        return await self.visits.run(place, account_id, cycle, attempt)

    def _queues_for(self, lane: NodeLane) -> list[str]:
        queues: list[str] = []
        for account_id in sorted(self.served):
            account = self.accounts.get(account_id)
            if account is None or (account.terminal_id and account.terminal_id != lane.terminal_id):
                continue
            if not self.paused:
                queues.append(visit_queue(account_id))
            queues.append(sync_queue(account_id))
        return queues

    async def _not_here(self, account_id: int) -> None:
        """The keyring did not have the password after all (removed meanwhile): stop serving it."""
        if account_id in self.served:
            self.served.discard(account_id)
            await self._announce()

    async def _connected(self) -> None:
        """The store's notifications reach this node (again): read everything; after a loss, the
        workers are made again (their own listening connections may not have survived it)."""
        if self.listener.connections > 1:
            log.info("node %s: the store is back; renewing its workers", self.node_name)
            for lane in self.lanes:
                lane.renew()
        await self._refresh_all()

    # ------------------------------------------------------------------ what this node can serve

    async def _refresh_all(self) -> None:
        """Read the enabled accounts and this node's keyring again, and announce what it serves."""
        async with self._refresh_lock:
            accounts = await self.db.run(lambda tx: tx.accounts.list(enabled_only=True), readonly=True)
            served = set()
            for account in accounts:
                if await self._has_password(account):
                    served.add(account.id)
            control = await self.db.run(lambda tx: tx.cycles.control(), readonly=True)
            self.accounts = {a.id: a for a in accounts}
            self.served = served
            self.paused = control.paused
            await self._announce()

    async def _refresh_some(self, ids: set[int]) -> None:
        async with self._refresh_lock:
            found = await self.db.run(lambda tx: [tx.accounts.get(i) for i in sorted(ids)], readonly=True)
            changed = False
            for account_id, account in zip(sorted(ids), found, strict=True):
                before = self.accounts.get(account_id)
                if account is None or not account.enabled:
                    changed |= self.accounts.pop(account_id, None) is not None
                    changed |= account_id in self.served
                    self.served.discard(account_id)
                    continue
                self.accounts[account_id] = account
                if (
                    before is not None
                    and before.terminal_id == account.terminal_id
                    and account_id in self.served
                ):
                    continue  # a visit or a status: nothing this node serves differently
                if await self._has_password(account):
                    changed |= account_id not in self.served
                    self.served.add(account_id)
                else:
                    changed |= account_id in self.served
                    self.served.discard(account_id)
            if changed:
                await self._announce()

    async def _has_password(self, account: ManagedAccount) -> bool:
        try:
            return await self.credentials.aread(account.login, account.server) is not None
        except Exception as exc:  # noqa: BLE001 - a keyring that cannot be read serves nothing
            log.warning("node %s cannot read its keyring for %s: %s", self.node_name, account.key, exc)
            return False

    async def _announce(self) -> None:
        now, served, terminals = self._clock(), sorted(self.served), self.terminal_ids
        await self.db.run(
            lambda tx: tx.nodes.announce(
                self.node_name,
                host=socket.gethostname(),
                pid=os.getpid(),
                version=__version__,
                terminals=terminals,
                accounts=served,
                started_at=self.started_at,
                now=now,
            )
        )
        self._announced.set()
        for lane in self.lanes:
            lane.changed()
        self.planner.wake()

    def _notified(self, channel: str, payload: str) -> None:
        if channel == ACCOUNTS_CHANNEL and payload.isdigit():  # not "id:status": a visit changes nothing here
            self._pending_ids.add(int(payload))
        elif channel == CAROUSEL_CHANNEL:
            self.planner.wake()
            if payload == "carousel_control":
                self._pending_ids.add(0)  # 0: read the switch again
        if self._pending_ids and (self._pending is None or self._pending.done()):
            self._pending = asyncio.create_task(self._take_pending(), name="node-notified")

    async def _take_pending(self) -> None:
        await asyncio.sleep(NOTIFY_BATCH_S)
        ids, self._pending_ids = self._pending_ids, set()
        try:
            if 0 in ids:
                ids.discard(0)
                control = await self.db.run(lambda tx: tx.cycles.control(), readonly=True)
                if control.paused != self.paused:
                    self.paused = control.paused
                    log.info("node %s: carousel %s", self.node_name, "paused" if self.paused else "resumed")
                    for lane in self.lanes:
                        lane.changed()
            if ids:
                await self._refresh_some(ids)
        except Exception:
            log.exception("node %s could not read the changed accounts", self.node_name)

    # ------------------------------------------------------------------ heartbeat

    async def _beat(self) -> None:
        interval = self.settings.distributed.heartbeat_interval_s
        backoff = Backoff(initial=interval, maximum=30.0)
        while True:
            await asyncio.sleep(interval)
            try:
                if not await self.db.run(self._beat_once):
                    await self._refresh_all()  # the row was gone: say it all again
                backoff.reset()
            except Exception as exc:  # noqa: BLE001 - the store is away: the next beat tries again
                log.warning("node %s: heartbeat failed: %s", self.node_name, exc)
                await asyncio.sleep(backoff.next_delay())

    def _beat_once(self, tx: Tx) -> bool:
        return tx.nodes.beat(self.node_name, self._clock())

    async def _reannounce(self) -> None:
        while True:
            await asyncio.sleep(self.settings.distributed.announce_interval_s)
            try:
                await self._refresh_all()
            except Exception as exc:  # noqa: BLE001 - the next round tries again
                log.warning("node %s could not read its accounts: %s", self.node_name, exc)
