"""The planner: one node at a time turns the carousel's rules into jobs.

Every node runs a :class:`Planner`; the one holding the planner's lease in the store (renewed on each
look, for ``heartbeat_timeout_s``) plans. A node that dies or is cut off stops renewing it, and another
node takes over when it runs out — a session lock would not do: the server keeps the session of a
cut-off node open for as long as its connection seems alive. The planner's state is all in the store,
so a new planner carries on the cycle where the old one was; should two ever plan at once, a cycle's
number is its key, so they cannot both start one.

Each tick (``planner_interval_s``):

* **no cycle open**, the carousel running and not paused, ``cycle_interval_s`` since the last one
  began: a new cycle. The enabled accounts that are not waiting out a retry backoff, in the
  carousel's order (:func:`app.core.carousel.schedule.order_accounts`: open positions and stale
  first, failing last, then the least recently seen) become visit jobs whose priority keeps that
  order, each in its account's queue (only nodes that can log in to it take it) and under its
  account's lock (never two visits of one account at once). An account that no running node can log
  in to is marked so at once, and gets no job.
* **a cycle open**: the visits of dead nodes (no heartbeat for ``heartbeat_timeout_s``) go back to the
  queue; a visit whose account no running node can log in to any more ends as failed (and its job is
  cancelled); a visit that has no job yet (a planner that died half-way) gets one; when no visit is
  left open, the cycle ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import procrastinate
from procrastinate import jobs as procrastinate_jobs

from app.config import CarouselSettings, DistributedSettings
from app.core.carousel.schedule import order_accounts
from app.core.storage import Database, Tx
from app.core.storage.cycles import OPEN_STATES, PlannedVisit, VisitRow
from app.core.storage.nodes import NodeRow
from app.core.times import utc_now
from app.distributed.jobs import jobs_of_cycle
from app.distributed.names import (
    VISIT_TASK,
    account_lock,
    no_node_reason,
    visit_queue,
)
from app.models import AccountStatus, ManagedAccount
from app.retry import Backoff

log = logging.getLogger(__name__)

CANDIDATE_EVERY_S = 2.0  # a node that does not plan asks for the planner's lease this often
CHECK_EVERY_S = 2.0  # how often an open cycle's visits are looked at closely (stalled, stranded)
MIN_TICK_GAP_S = 0.5  # wakes closer together than this are one look
FIRST_JOBS = 64  # a new cycle's first jobs, deferred before the rest
PRUNE_EVERY = 100  # ticks between prunings of old cycles and finished jobs
JOBS_KEPT_HOURS = 24  # failed and cancelled jobs are kept this long (for a look), then deleted


async def cycle_jobs(app: procrastinate.App, cycle: int) -> dict[int, int]:
    """The waiting and running visit jobs of ``cycle``: job id by account id."""
    manager = app.job_manager
    todo = await manager.list_jobs_async(task=VISIT_TASK, status="todo")
    doing = await manager.list_jobs_async(task=VISIT_TASK, status="doing")
    return jobs_of_cycle([*todo, *doing], cycle)


def servable(account: ManagedAccount, nodes: list[NodeRow]) -> bool:
    """Some running node can log in to the account (on its assigned terminal, if it has one)."""
    return any(
        account.id in node.accounts and (not account.terminal_id or account.terminal_id in node.terminals)
        for node in nodes
    )


class Planner:
    """See the module docstring. ``run()`` until cancelled; ``tick()`` once (tests)."""

    def __init__(
        self,
        url: str,
        node: str,
        db: Database,
        app: procrastinate.App,
        carousel: CarouselSettings,
        distributed: DistributedSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.url = url  # the store (the planner works through `db` on it)
        self.node = node
        self._db = db
        self._app = app
        self._carousel = carousel
        self._settings = distributed
        self._clock = clock
        self.leading = False
        self.cycles_planned = 0
        self._ticks = 0
        self._wake = asyncio.Event()
        self._nodes_seen: list[tuple[str, int]] = []
        self._checked_at: datetime | None = None

    def wake(self) -> None:
        """Something changed (a visit ended, the carousel was started): the planner looks now."""
        if self.leading:
            self._wake.set()

    async def run(self) -> None:
        backoff = Backoff(initial=1.0, maximum=15.0)
        try:
            while True:
                try:
                    await self._candidate()
                    backoff.reset()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the store went away: try again later
                    self.leading = False
                    delay = backoff.next_delay()
                    log.warning("planner: %s; trying again in %.1f s", exc, delay)
                    await asyncio.sleep(delay)
        finally:
            if self.leading:
                self.leading = False
                with contextlib.suppress(Exception):  # let another node take over at once
                    await asyncio.wait_for(self._db.run(lambda tx: tx.cycles.give_up_lease(self.node)), 2)

    def _take_lease(self, tx: Tx) -> bool:
        return tx.cycles.take_lease(self.node, self._clock(), self._settings.heartbeat_timeout_s)

    async def _candidate(self) -> None:
        """Hold the planner's lease (renewed on every look) and plan; or ask for it again shortly."""
        while True:
            leading = await self._db.run(self._take_lease)
            if leading and not self.leading:
                log.info("node %s plans the carousel's cycles", self.node)
            self.leading = leading
            if leading:
                await self.tick()
                await self._sleep(self._settings.planner_interval_s)
            else:
                await asyncio.sleep(CANDIDATE_EVERY_S)

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(min(seconds, MIN_TICK_GAP_S))
        rest = seconds - MIN_TICK_GAP_S
        # Not with a timeout of 0: wait_for would wrap wake.wait() in a task it cancels before it
        # starts, and that coroutine is reported (under pytest: fails a later test) as never awaited.
        if rest > 0 and not self._wake.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), rest)
        self._wake.clear()  # what woke it is read by the next look

    # ------------------------------------------------------------------ one look

    async def tick(self) -> int | None:
        """Look at the carousel once; returns the number of a cycle it started, if it did."""
        self._ticks += 1
        now = self._clock()
        timeout = self._settings.heartbeat_timeout_s
        control, latest = await self._db.run(
            lambda tx: (tx.cycles.control(), tx.cycles.latest()), readonly=True
        )
        started = None
        if latest is not None and latest.finished_at is None:
            await self._tend(latest.cycle, now)
        elif control.running and not control.paused:
            interval = timedelta(seconds=self._carousel.cycle_interval_s)
            if latest is None or now >= latest.started_at + interval:
                live = await self._db.run(lambda tx: tx.nodes.live(now, timeout), readonly=True)
                started = await self._plan(live, now)
        if self._ticks % PRUNE_EVERY == 0:
            await self._prune()
        return started

    async def _plan(self, live: list[NodeRow], now: datetime) -> int:
        settings = self._carousel
        stale_after = timedelta(seconds=settings.stale_after_s)

        def plan(tx: Tx) -> tuple[int, list[ManagedAccount]]:
            accounts = tx.accounts.list(enabled_only=True)
            snapshots = tx.snapshots.latest_all(enabled_only=True)
            waiting = tx.cycles.not_due(now)
            due = [a for a in accounts if a.id not in waiting]
            ordered = order_accounts(due, snapshots, settings.priority, now, stale_after)
            visits: list[PlannedVisit] = []
            queued: list[ManagedAccount] = []
            for account in ordered:
                if servable(account, live):
                    visits.append(PlannedVisit(account.id))
                    queued.append(account)
                else:
                    reason = no_node_reason(account.id, account.terminal_id)
                    visits.append(PlannedVisit(account.id, "failed", reason))
                    if account.status is not AccountStatus.ERROR or account.status_reason != reason:
                        tx.accounts.set_status(account.id, AccountStatus.ERROR, reason, now)
            return tx.cycles.start(self.node, now, visits), queued

        cycle, queued = await self._db.run(plan)
        self.cycles_planned += 1
        await self._enqueue(cycle, [(a.id, n) for n, a in enumerate(queued)], len(queued))
        log.info("cycle %d planned by %s: %d visit(s) queued", cycle, self.node, len(queued))
        return cycle

    async def _enqueue(self, cycle: int, visits: list[tuple[int, int]], total: int) -> None:
        """Defer the visits' jobs (``(account_id, position)``), first positions first. (Their ids are
        not written back: that would hold the visits' rows while the first of them are claimed.)"""
        if not visits:
            return
        jobs = [
            procrastinate_jobs.Job(
                queue=visit_queue(account_id),
                lock=account_lock(account_id),
                queueing_lock=None,
                task_name=VISIT_TASK,
                priority=total - position,
                task_kwargs={"account_id": account_id, "cycle": cycle},
            )
            for account_id, position in visits
        ]
        # The first few at once, so the terminals start while the rest are deferred (1,000 jobs take
        # a few tenths of a second): later positions have lower priorities, so the order holds.
        for start, end in ((0, FIRST_JOBS), (FIRST_JOBS, len(jobs))):
            if jobs[start:end]:
                await self._app.job_manager.batch_defer_jobs_async(jobs[start:end])

    async def _tend(self, cycle: int, now: datetime) -> None:
        timeout = self._settings.heartbeat_timeout_s
        counts, nodes = await self._db.run(
            lambda tx: (tx.cycles.counts(cycle), tx.nodes.live_summary(now, timeout)), readonly=True
        )
        if not any(counts.get(state) for state in OPEN_STATES):
            await self._db.run(lambda tx: tx.cycles.finish(cycle, now))
            log.info(
                "cycle %d done: %s", cycle, ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
            )
            self.wake()
            return
        # The closer look (all open visits, every account) only when the nodes changed, or now and then.
        checked = self._checked_at
        if (
            nodes == self._nodes_seen
            and checked is not None
            and (now - checked).total_seconds() < CHECK_EVERY_S
        ):
            return
        self._nodes_seen, self._checked_at = nodes, now
        await self._retry_stalled()
        visits, accounts, live = await self._db.run(
            lambda tx: (
                tx.cycles.visits(cycle, OPEN_STATES),
                {a.id: a for a in tx.accounts.list()},
                tx.nodes.live(now, timeout),
            ),
            readonly=True,
        )
        jobs = await cycle_jobs(self._app, cycle)
        stranded: list[VisitRow] = []
        jobless: list[VisitRow] = []
        for visit in visits:
            account = accounts.get(visit.account_id)
            if account is None or not servable(account, live):
                stranded.append(visit)
            elif visit.state == "queued" and visit.account_id not in jobs:
                jobless.append(visit)  # a planner that died between planning and deferring
        for visit in stranded:
            await self._strand(cycle, visit, accounts.get(visit.account_id), jobs.get(visit.account_id), now)
        if jobless:
            await self._enqueue(cycle, [(v.account_id, v.position) for v in jobless], len(visits) + 1)

    async def _strand(
        self, cycle: int, visit: VisitRow, account: ManagedAccount | None, job_id: int | None, now: datetime
    ) -> None:
        """No running node can make this visit now: end it as failed (its job, if waiting, cancelled)."""
        if job_id is not None:
            with contextlib.suppress(Exception):
                await self._app.job_manager.cancel_job_by_id_async(job_id)
        reason = no_node_reason(visit.account_id, account.terminal_id if account else None)

        def end(tx: Tx) -> None:
            if tx.cycles.end(cycle, visit.account_id, "failed", now, reason) and account is not None:
                tx.accounts.set_status(account.id, AccountStatus.ERROR, reason, now)

        await self._db.run(end)
        log.warning("cycle %d: %s", cycle, reason.replace("it", f"account {visit.account_id}", 1))

    async def _retry_stalled(self) -> None:
        """Visits under way on nodes that stopped beating run again, on whichever node takes them."""
        manager = self._app.job_manager
        stalled = await manager.get_stalled_jobs(
            task_name=VISIT_TASK, seconds_since_heartbeat=self._settings.heartbeat_timeout_s
        )
        for job in stalled:
            log.warning("the visit job %s of a node that stopped beating runs again elsewhere", job.id)
            await manager.retry_job(job)

    async def _prune(self) -> None:
        keep = self._settings.cycles_kept
        await self._db.run(lambda tx: tx.cycles.prune(keep))
        with contextlib.suppress(Exception):
            await self._app.job_manager.delete_old_jobs(
                nb_hours=JOBS_KEPT_HOURS, include_failed=True, include_cancelled=True
            )
