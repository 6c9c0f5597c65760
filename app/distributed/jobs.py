"""The job engine: procrastinate on the store's own PostgreSQL database (no second server).

:func:`job_app` makes the :class:`procrastinate.App` every node and console uses (nodes add the visit
task with :func:`register_visit_task`); :func:`ensure_job_schema` creates procrastinate's tables the
first time (under an advisory lock: nodes starting together make them once).
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import procrastinate
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
