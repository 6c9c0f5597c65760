"""The job engine: procrastinate on the store's own PostgreSQL database (no second server).

:func:`job_app` makes the :class:`procrastinate.App` every node and console uses (nodes add the visit
task with :func:`register_visit_task`); :func:`ensure_job_schema` creates procrastinate's tables the
first time (under an advisory lock: nodes starting together make them once).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import procrastinate
import procrastinate.exceptions
import procrastinate.jobs
import psycopg
from procrastinate import RetryStrategy
from procrastinate.schema import SchemaManager

from app.core.carousel.errors import TerminalUnavailable
from app.core.storage.backends import parse_url
from app.distributed.names import JOB_SCHEMA_LOCK, VISIT_TASK

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10
# A visit whose terminal could not make it (restarting, not connected) is tried again, on whichever
# terminal takes it next: three tries in all, as the one-machine carousel gives it.
VISIT_TRIES = 3


def conninfo(url: str) -> str:
    """``storage.url`` as libpq connection info (psycopg's own form; the password, if the URL holds one,
    stays in it, and never reaches a log: see :func:`describe`)."""
    parsed = parse_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def describe(url: str) -> str:
    """Where the store is, fit for a message."""
    return parse_url(url).set(drivername="postgresql").render_as_string(hide_password=True)


def job_app(url: str, *, pool_size: int = 4) -> procrastinate.App:
    """The job engine on the database ``url``: a pool of up to ``pool_size`` connections."""
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(url),
        min_size=1,
        max_size=max(2, pool_size),
        kwargs={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "mt5-console jobs"},
    )
    return procrastinate.App(connector=connector)


VisitRunner = Callable[[Any, int, int, int], Awaitable[str]]


def register_visit_task(app: procrastinate.App, run: VisitRunner) -> None:
    """The visit task: ``run(context, account_id, cycle, attempt)`` makes the visit on the terminal of
    the worker that took the job (its ``additional_context["lane"]``). A visit whose terminal could
    not make it raises :class:`TerminalUnavailable` and goes back to the queue, up to
    :data:`VISIT_TRIES` tries."""

    async def visit(context: Any, account_id: int, cycle: int = 0) -> str:
        return await run(context, account_id, cycle, context.job.attempts)

    app.task(
        name=VISIT_TASK,
        pass_context=True,
        retry=RetryStrategy(max_attempts=VISIT_TRIES - 1, wait=1, retry_exceptions={TerminalUnavailable}),
    )(visit)


async def ensure_job_schema(url: str) -> bool:
    """Create procrastinate's tables in the store unless they are there; True if it made them."""
    async with await psycopg.AsyncConnection.connect(
        conninfo(url), connect_timeout=CONNECT_TIMEOUT_S, autocommit=False
    ) as conn:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (JOB_SCHEMA_LOCK,))
            cursor = await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
            row = await cursor.fetchone()
            if row is not None and row[0]:
                return False
            schema = SchemaManager.get_schema()
            await conn.execute(schema)
    version = importlib.metadata.version("procrastinate")
    log.info("made the job engine's tables (procrastinate %s) in %s", version, describe(url))
    return True


class ConsoleJobs:
    """What a console asks of the job engine — defer a "Sync now", follow it, call off a cycle's
    waiting visits — through procrastinate's *blocking* connector on worker threads, so that it works
    under any event loop (psycopg's asyncio mode needs the selector loop, which a window on Windows
    does not run). Opened on first use; every call blocks only its thread."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._app: procrastinate.App | None = None
        self._lock = threading.Lock()

    def _opened(self) -> procrastinate.App:
        with self._lock:
            if self._app is None:
                connector = procrastinate.SyncPsycopgConnector(
                    conninfo=conninfo(self._url),
                    min_size=1,
                    max_size=2,
                    kwargs={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "mt5-console console"},
                )
                app = procrastinate.App(connector=connector)
                app.open()
                self._app = app
            return self._app

    async def close(self) -> None:
        app, self._app = self._app, None
        if app is not None:
            await asyncio.to_thread(app.close)

    async def defer(
        self, account_id: int, *, queue: str, lock: str, queueing_lock: str, priority: int
    ) -> int | None:
        """Defer a visit of the account; None when one with that queueing lock is waiting already."""

        def defer() -> int | None:
            deferrer = self._opened().configure_task(
                VISIT_TASK, queue=queue, lock=lock, queueing_lock=queueing_lock, priority=priority
            )
            try:
                return int(deferrer.defer(account_id=account_id, cycle=0))
            except procrastinate.exceptions.AlreadyEnqueued:
                return None

        return await asyncio.to_thread(defer)

    async def status(self, job_id: int) -> str:
        return await asyncio.to_thread(lambda: self._opened().job_manager.get_job_status(job_id).value)

    async def cycle_jobs(self, cycle: int) -> dict[int, int]:
        """The waiting and running visit jobs of ``cycle``: job id by account id."""

        def find() -> dict[int, int]:
            manager = self._opened().job_manager
            jobs = [
                *manager.list_jobs(task=VISIT_TASK, status="todo"),
                *manager.list_jobs(task=VISIT_TASK, status="doing"),
            ]
            return jobs_of_cycle(jobs, cycle)

        return await asyncio.to_thread(find)

    async def cancel(self, job_id: int) -> bool:
        return await asyncio.to_thread(lambda: bool(self._opened().job_manager.cancel_job_by_id(job_id)))


def jobs_of_cycle(jobs: Iterable[procrastinate.jobs.Job], cycle: int) -> dict[int, int]:
    """Of these visit jobs, those of ``cycle``: job id by account id."""
    found: dict[int, int] = {}
    for job in jobs:
        args = job.task_kwargs
        account_id = args.get("account_id")
        if args.get("cycle") == cycle and isinstance(account_id, int) and job.id is not None:
            found[account_id] = job.id
    return found
