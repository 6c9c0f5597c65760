"""One terminal of a node and its procrastinate worker: it takes its terminal's work, one visit at a
time, from the queues of the accounts this terminal may visit.

The worker runs only while the terminal is connected (a terminal that is down or restarting takes no
visit: that is not the account's fault) and is made again whenever its queues change (an account
added, a password set, the carousel paused: a paused node takes only "Sync now" visits). A worker that
stops on its own — the store went away: procrastinate stops a worker whose heartbeat or listener
fails — is started again with backoff. Stopping lets the visit under way finish (``grace_s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

import procrastinate

from app.distributed.visits import VisitPlace
from app.retry import Backoff

log = logging.getLogger(__name__)

QueuesFor = Callable[["NodeLane"], Sequence[str]]
WAKE_EVERY_S = 1.0  # a lane looks at its terminal at least this often
# A worker is woken by NOTIFY when a job arrives; it also looks this often, in case a notification
# was lost (the store restarted under its listening connection).
POLLING_INTERVAL_S = 2.0


class NodeLane:
    """See the module docstring."""

    def __init__(
        self,
        app: procrastinate.App,
        place: VisitPlace,
        queues_for: QueuesFor,
        *,
        heartbeat_interval_s: float,
        heartbeat_timeout_s: float,
        grace_s: float,
        polling_interval_s: float = POLLING_INTERVAL_S,
    ) -> None:
        self._app = app
        self.place = place
        self._queues_for = queues_for
        self._heartbeat_interval_s = heartbeat_interval_s
        self._heartbeat_timeout_s = heartbeat_timeout_s
        self._grace_s = grace_s
        self._polling_interval_s = polling_interval_s
        self._changed = asyncio.Event()
        self._stopping = False
        self._renew = False
        self._task: asyncio.Task[None] | None = None
        self.queues: tuple[str, ...] = ()  # what the running worker takes from (empty: no worker)
        self.workers_started = 0

    @property
    def terminal_id(self) -> str:
        return self.place.terminal_id

    @property
    def worker_name(self) -> str:
        return f"{self.place.node}/{self.terminal_id}"

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=f"lane-{self.terminal_id}")

    def changed(self) -> None:
        """The lane's queues may differ now: look again."""
        self._changed.set()

    def renew(self) -> None:
        """Make the worker again (after the visit under way): the store came back after a loss, and a
        procrastinate worker's listening connection may not have (it would then only poll)."""
        self._renew = True
        self._changed.set()

    async def stop(self) -> None:
        self._stopping = True
        self._changed.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, self._grace_s + 5)
            except TimeoutError:
                log.warning("lane %s: the visit under way did not end in time", self.worker_name)

    # ------------------------------------------------------------------ supervision

    def _wanted(self) -> tuple[str, ...]:
        if self._stopping or not self.place.terminal.state.connected:
            return ()
        return tuple(self._queues_for(self))

    async def _supervise(self) -> None:
        backoff = Backoff(initial=1.0, maximum=30.0)
        while not self._stopping:
            queues = self._wanted()
            if not queues:
                self.queues = ()
                await self._wait_for_change(WAKE_EVERY_S)
                continue
            self.queues = queues
            self._renew = False
            worker = asyncio.create_task(self._run_worker(queues), name=f"worker-{self.worker_name}")
            self.workers_started += 1
            ended_by_itself = await self._watch(worker, queues)
            if ended_by_itself:
                delay = backoff.next_delay()
                log.warning(
                    "lane %s: the worker stopped; starting it again in %.1f s", self.worker_name, delay
                )
                await self._wait_for_change(delay, stop_only=True)
            else:
                backoff.reset()
        self.queues = ()

    async def _watch(self, worker: asyncio.Task[None], queues: tuple[str, ...]) -> bool:
        """Wait until the worker ends by itself (True) or must be stopped (False: stopped here)."""
        while True:
            await self._wait_for_change(WAKE_EVERY_S, worker=worker)
            if worker.done():
                exc = None if worker.cancelled() else worker.exception()
                if exc is not None:
                    log.warning("lane %s: worker failed: %s", self.worker_name, exc)
                return True
            if self._renew or self._wanted() != queues:
                await self._stop_worker(worker)
                return False

    async def _stop_worker(self, worker: asyncio.Task[None]) -> None:
        worker.cancel()  # procrastinate stops taking jobs and lets the one under way finish
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(asyncio.shield(worker), self._grace_s)
        if not worker.done():
            log.warning("lane %s: abandoning the visit under way", self.worker_name)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await worker

    async def _wait_for_change(
        self, seconds: float, *, worker: asyncio.Task[None] | None = None, stop_only: bool = False
    ) -> None:
        self._changed.clear()
        waits: set[asyncio.Future[object]] = {asyncio.ensure_future(self._changed.wait())}
        if worker is not None:
            waits.add(worker)  # type: ignore[arg-type]
        try:
            deadline = asyncio.get_running_loop().time() + seconds
            while True:
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    return
                done, _ = await asyncio.wait(waits, timeout=left, return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    return
                if worker is not None and worker in done:
                    return
                if not stop_only or self._stopping:
                    return
                self._changed.clear()
                waits = {asyncio.ensure_future(self._changed.wait())}
        finally:
            for wait in waits:
                if wait is not worker:
                    wait.cancel()

    async def _run_worker(self, queues: tuple[str, ...]) -> None:
        await self._app.run_worker_async(
            queues=list(queues),
            name=self.worker_name,
            concurrency=1,
            wait=True,
            install_signal_handlers=False,
            additional_context={"place": self.place},
            listen_notify=True,
            delete_jobs="successful",
            update_heartbeat_interval=self._heartbeat_interval_s,
            stalled_worker_timeout=self._heartbeat_timeout_s,
            fetch_job_polling_interval=self._polling_interval_s,
            shutdown_graceful_timeout=self._grace_s,
        )
