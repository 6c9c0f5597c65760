"""A console of the distributed carousel: the window or ``--serve`` with ``[distributed] enabled``.

It runs no carousel of its own: it shows the nodes' (every account live, the cycle's progress) and
drives it, through the store. :class:`DistributedCarousel` stands where the one-machine
:class:`~app.core.carousel.Carousel` stands (the Accounts tab, the status bar, ``/api/carousel``):

* **live**: a :class:`~app.distributed.listener.StoreListener` hears the store's NOTIFY triggers; a
  changed account is read and published on the hub's ``accounts`` topic (so the Accounts and Exposure
  tabs and the ``accounts`` socket channel show it at once, whichever machine changed it), and the
  carousel's progress on ``carousel``. After a lost connection everything is read again.
* **start, stop, pause** write the carousel's switch in the store (start and stop are audited); every
  node and console follows it. Stopping cancels the visits still waiting.
* **Sync now** is a job at the front of the queue for a node that can log in to the account.
* **a password added or changed** on this console is checked by such a visit at once, once a node
  announces the account (with the password *its* keyring holds): a wrong one is never shown as ok.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from app.audit import Action, AuditAppender
from app.config import CarouselSettings, DistributedSettings
from app.core.accounts import UnknownAccountError
from app.core.carousel.errors import CarouselError, NoTerminalError, VisitFailed
from app.core.carousel.proof import verify_by_visit
from app.core.carousel.schedule import staleness
from app.core.hub import EventHub, Topic
from app.core.storage import Database, Tx
from app.core.storage.cycles import Control, CycleRow, VisitRow
from app.core.storage.nodes import NodeRow
from app.core.times import utc_now
from app.distributed.jobs import ConsoleJobs
from app.distributed.listener import StoreListener
from app.distributed.names import (
    ACCOUNTS_CHANNEL,
    CAROUSEL_CHANNEL,
    SYNC_PRIORITY,
    SYNC_QUEUEING_LOCK,
    account_lock,
    no_node_reason,
    sync_queue,
)
from app.distributed.planner import servable
from app.models import (
    AccountAction,
    AccountSnapshot,
    AccountStatus,
    AccountUpdate,
    CarouselStatus,
    ManagedAccount,
)

log = logging.getLogger(__name__)

REFRESH_S = 0.2  # notifications are gathered this long, then read together (at most 5 reads a second)
SYNC_MARGIN_S = 15.0
VERIFY_WAIT_S = 10.0  # how long a new password's check waits for a node to announce the account
VERIFY_POLL_S = 0.5


class DistributedCarousel:
    """See the module docstring. A runtime service (``name = "carousel"``)."""

    name = "carousel"

    def __init__(
        self,
        url: str,
        db: Database,
        hub: EventHub,
        settings: CarouselSettings,
        distributed: DistributedSettings,
        *,
        audit: AuditAppender | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.url = url
        self.settings = settings
        self._distributed = distributed
        self._db = db
        self._hub = hub
        self._audit = audit
        self._clock = clock
        self.jobs = ConsoleJobs(url)
        self.listener = StoreListener(
            url, (ACCOUNTS_CHANNEL, CAROUSEL_CHANNEL), self._notified, on_connected=self._read_everything
        )
        self._status = CarouselStatus()
        self._retries: dict[int, datetime] = {}
        self._known: dict[int, tuple[object, ...]] = {}  # what was last published per account
        self._ids: set[int] = set()
        self._progress = False
        self._pending: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[object]] = set()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._hub.publish(Topic.CAROUSEL, self._status)
        await self.listener.start()

    async def stop(self) -> None:
        for task in [*self._tasks, *([self._pending] if self._pending else [])]:
            task.cancel()
        await self.listener.stop()
        with contextlib.suppress(Exception):
            await self.jobs.close()

    # ------------------------------------------------------------------ commands

    def status(self) -> CarouselStatus:
        return self._status

    async def run(self, actor: str) -> CarouselStatus:
        await self._switch(actor, running=True, paused=False)
        if self._audit is not None:
            await self._audit.append(actor, Action.CAROUSEL_START, payload={"distributed": True})
        return await self.refresh()

    async def halt(self, actor: str) -> CarouselStatus:
        before = self._status
        await self._switch(actor, running=False)
        await self._cancel_waiting()
        if self._audit is not None:
            await self._audit.append(
                actor,
                Action.CAROUSEL_STOP,
                payload={
                    "cycle": before.cycle,
                    "visited_in_cycle": before.visited_in_cycle,
                    "accounts_in_cycle": before.accounts_in_cycle,
                    "distributed": True,
                },
            )
        return await self.refresh()

    def pause(self) -> None:
        self._spawn(self._switch("gui", paused=True))

    def resume(self) -> None:
        self._spawn(self._switch("gui", paused=False))

    async def sync_now(self, account_id: int) -> AccountSnapshot:
        """Visit the account now, on a node that can log in to it; its fresh snapshot."""
        now = self._clock()
        account, nodes, before = await self._db.run(
            lambda tx: (
                tx.accounts.get(account_id),
                tx.nodes.live(now, self._distributed.heartbeat_timeout_s),
                tx.snapshots.latest(account_id),
            ),
            readonly=True,
        )
        if account is None:
            raise UnknownAccountError(f"no account with id {account_id}")
        if not servable(account, nodes):
            raise NoTerminalError(no_node_reason(account.id, account.terminal_id))
        job_id = await self.jobs.defer(
            account_id,
            queue=sync_queue(account_id),
            lock=account_lock(account_id),
            queueing_lock=SYNC_QUEUEING_LOCK.format(account_id),
            priority=SYNC_PRIORITY,
        )  # None: one is waiting already, and its outcome is this one's
        settings = self.settings
        limit = settings.login_timeout_s + settings.snapshot_timeout_s + settings.deals_timeout_s
        limit += settings.store_timeout_s + SYNC_MARGIN_S
        deadline = asyncio.get_running_loop().time() + limit
        since = before.taken_at if before is not None else None
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.2)
            account, latest = await self._db.run(
                lambda tx: (tx.accounts.get(account_id), tx.snapshots.latest(account_id)), readonly=True
            )
            if account is None:
                raise UnknownAccountError(f"account {account_id} was removed during the visit")
            if latest is not None and (since is None or latest.taken_at > since):
                return latest
            if job_id is not None:
                status = await self.jobs.status(job_id)
                if status in ("succeeded", "failed", "cancelled", "aborted"):
                    if account.status is AccountStatus.ERROR:
                        raise VisitFailed(account.key, account.status_reason)
                    if status != "succeeded":
                        raise CarouselError(f"the visit of {account.key} ended: {status}")
        raise CarouselError(f"no node visited {account_id} within {limit:g} s")

    def verify(self, account: ManagedAccount) -> None:
        """An added or changed password is checked by a visit now, in the background (the registry
        calls this), on a node that can log in to the account — with the password *that node's*
        keyring holds. A node reads its keyring again when it hears of the change, so this waits a
        little (``VERIFY_WAIT_S``) for one to announce the account; where none does, the account
        stays pending until a cycle visits it."""
        self._spawn(verify_by_visit(self._sync_once_served, account))

    async def _sync_once_served(self, account_id: int) -> AccountSnapshot:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + VERIFY_WAIT_S
        while True:
            try:
                return await self.sync_now(account_id)
            except NoTerminalError:
                if loop.time() >= deadline:
                    raise
            await asyncio.sleep(VERIFY_POLL_S)

    # ------------------------------------------------------------------ what the views want

    def staleness(self, account: ManagedAccount) -> timedelta | None:
        return staleness(account, self._clock())

    def is_stale(self, account: ManagedAccount) -> bool:
        age = self.staleness(account)
        return age is None or age.total_seconds() > self.settings.stale_after_s

    def retry_schedule(self) -> dict[int, datetime]:
        return dict(self._retries)

    # ------------------------------------------------------------------ the store's news

    def _notified(self, channel: str, payload: str) -> None:
        account_id = payload.partition(":")[0]
        if channel == ACCOUNTS_CHANNEL and account_id.isdigit():
            self._ids.add(int(account_id))
        else:
            self._progress = True
        if self._pending is None or self._pending.done():
            self._pending = asyncio.create_task(self._take_news(), name="console-news")

    async def _take_news(self) -> None:
        await asyncio.sleep(REFRESH_S)
        ids, self._ids = self._ids, set()
        progress, self._progress = self._progress, False
        try:
            if ids:
                await self._read_accounts(ids)
            if progress or ids:
                await self.refresh()
        except Exception as exc:  # noqa: BLE001 - the next notification (or reconnection) reads again
            log.warning("could not read the store's changes: %s", exc)

    async def _read_everything(self) -> None:
        """After (re)connecting: every account, and the progress."""
        ids = await self._db.run(lambda tx: [a.id for a in tx.accounts.list()], readonly=True)
        gone = set(self._known) - set(ids)
        await self._read_accounts(set(ids) | gone)
        await self.refresh()

    async def _read_accounts(self, ids: set[int]) -> None:
        ordered = sorted(ids)
        found = await self._db.run(
            lambda tx: [(tx.accounts.get(i), tx.snapshots.latest(i)) for i in ordered], readonly=True
        )
        for account_id, (account, snapshot) in zip(ordered, found, strict=True):
            if account is None:
                last = self._known.pop(account_id, None)
                if last is not None:
                    removed: ManagedAccount = last[0]  # type: ignore[assignment]
                    self._hub.publish(
                        Topic.ACCOUNTS, AccountUpdate(AccountAction.REMOVED, removed), key=account_id
                    )
                continue
            seen = (account, snapshot.taken_at if snapshot else None)
            last = self._known.get(account_id)
            if last is not None and last == seen:
                continue
            visited = snapshot is not None and (last is None or last[1] != seen[1])
            action = AccountAction.VISITED if visited else AccountAction.STATUS
            if last is None and snapshot is None:
                action = AccountAction.ADDED
            self._known[account_id] = seen
            self._hub.publish(Topic.ACCOUNTS, AccountUpdate(action, account, snapshot), key=account_id)

    async def refresh(self) -> CarouselStatus:
        """Read the carousel's progress from the store and publish it."""
        now = self._clock()
        timeout = self._distributed.heartbeat_timeout_s

        def read(
            tx: Tx,
        ) -> tuple[
            Control, CycleRow | None, CycleRow | None, list[VisitRow], list[NodeRow], dict[int, datetime]
        ]:
            latest = tx.cycles.latest()
            visits = tx.cycles.visits(latest.cycle) if latest is not None else []
            return (
                tx.cycles.control(),
                latest,
                tx.cycles.last_finished(),
                visits,
                tx.nodes.live(now, timeout),
                tx.cycles.retry_schedule(),
            )

        control, latest, finished, visits, nodes, retries = await self._db.run(read, readonly=True)
        self._retries = retries
        status = build_status(control, latest, finished, visits, nodes, self.settings, now)
        if status != self._status:
            self._status = status
            self._hub.publish(Topic.CAROUSEL, status)
        return status

    # ------------------------------------------------------------------ helpers

    async def _switch(self, actor: str, *, running: bool | None = None, paused: bool | None = None) -> None:
        now = self._clock()
        await self._db.run(
            lambda tx: tx.cycles.set_control(running=running, paused=paused, by=actor, now=now)
        )
        log.info("carousel %s by %s", _verb(running, paused), actor)

    async def _cancel_waiting(self) -> None:
        """Stopping: the visits of the open cycle that no node has taken yet are called off."""
        latest = await self._db.run(lambda tx: tx.cycles.latest(), readonly=True)
        if latest is None or latest.finished_at is not None:
            return
        cycle, now = latest.cycle, self._clock()
        jobs = await self.jobs.cycle_jobs(cycle)
        cancelled = []
        for account_id, job_id in jobs.items():
            with contextlib.suppress(Exception):
                if await self.jobs.cancel(job_id):
                    cancelled.append(account_id)

        def cancel(tx: Tx) -> None:
            for visit in tx.cycles.visits(cycle, ["queued"]):
                if visit.account_id in cancelled or visit.account_id not in jobs:
                    tx.cycles.end(cycle, visit.account_id, "cancelled", now, "the carousel was stopped")

        await self._db.run(cancel)

    def _spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _verb(running: bool | None, paused: bool | None) -> str:
    if running is not None:
        return "started" if running else "stopped"
    return "paused" if paused else "resumed"


def build_status(
    control: Control,
    latest: CycleRow | None,
    finished: CycleRow | None,
    visits: list[VisitRow],
    nodes: list[NodeRow],
    settings: CarouselSettings,
    now: datetime,
) -> CarouselStatus:
    """The carousel's progress as the status bar, the Accounts tab and ``/api/carousel`` show it:
    terminals as ``node/terminal``, visits under way as ``(node/terminal, account id)``."""
    open_cycle = latest is not None and latest.finished_at is None
    ended = [v for v in visits if v.state in ("done", "failed", "cancelled")]
    failed = [v for v in visits if v.state == "failed"]
    current = tuple(sorted((f"{v.node}/{v.terminal}", v.account_id) for v in visits if v.state == "visiting"))
    next_due = None
    if control.running and not open_cycle and latest is not None:
        next_due = latest.started_at + timedelta(seconds=settings.cycle_interval_s)
    unserved = sorted({v.account_id for v in failed if v.reason.startswith("no node can log in")})
    described = ", ".join(
        f"{n.name} ({len(n.terminals)} terminal(s), {len(n.accounts)} account(s))" for n in nodes
    )
    notes = [f"{len(nodes)} node(s): {described or 'none'}"]
    if unserved:
        notes.append(f"{len(unserved)} account(s) no node can log in to")
    return CarouselStatus(
        running=control.running,
        paused=control.paused,
        cycle=latest.cycle if latest is not None else 0,
        cycle_started_at=latest.started_at if latest is not None else None,
        visited_in_cycle=len(ended),
        accounts_in_cycle=len(visits),
        current=current,
        last_cycle_s=finished.duration_s if finished is not None else None,
        next_due=next_due,
        errors_in_cycle=len(failed),
        terminals=tuple(f"{n.name}/{t}" for n in nodes for t in n.terminals),
        note="; ".join(notes),
        stale_after_s=settings.stale_after_s,
    )
