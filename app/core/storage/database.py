"""The database: one connection, owned by one thread, that runs every statement.

The database is an SQLite file (the default) or a PostgreSQL server (``storage.url``); see
:mod:`app.core.storage.backends`. A connection is not to be shared between threads, and a statement
(a commit's fsync, a big query, a lock held by another process, a round trip to a server) can take
long enough to stutter a window. So the app never touches the connection itself: it hands a function
to the database thread, which runs it inside one transaction and hands back the result.

* ``await db.run(fn)`` from the event loop (GUI, server, carousel): the loop never waits.
* ``db.call(fn)`` from plain synchronous code (the command line, tests); refused on an event-loop
  thread, where it would block.

``fn`` receives a :class:`~app.core.storage.tx.Tx` (the tables' query objects). Jobs run one at a
time in submission order. Everything ``fn`` does commits together, or rolls back if it raises; the
exception reaches the caller. Cancelling an awaiting caller skips the job if it has not started yet.

Opening migrates the schema (:mod:`app.core.storage.migrate`). A job that loses its PostgreSQL
connection fails with :class:`~app.core.storage.errors.StorageError`; the next job connects again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from app.config import StorageSettings
from app.core.storage.backends import BUSY_TIMEOUT_S, Backend, backend_for
from app.core.storage.errors import DatabaseClosedError, StorageError
from app.core.storage.migrate import SchemaState, backup_path, check_not_newer, migrate
from app.core.storage.tx import Tx

log = logging.getLogger(__name__)

DB_FILE_NAME = "mt5-console.db"


def database_path(data_dir: Path) -> Path:
    """Where the app's SQLite database lives in ``data_dir``."""
    return data_dir / DB_FILE_NAME


def database_target(data_dir: Path, settings: StorageSettings) -> Path | str:
    """The database the settings name: ``storage.url`` if set, else the SQLite file in ``data_dir``."""
    return settings.url or database_path(data_dir)


@dataclass(slots=True)
class _Job:
    fn: Callable[[Tx], Any] | None  # None: open the connection
    readonly: bool
    future: concurrent.futures.Future[Any]


class Database:
    """The app's database, served by its own thread. ``target`` is an SQLite file's path (or
    ``":memory:"``) or a database URL (``postgresql://user@host/dbname``, ``sqlite:///path``). Nothing
    happens until :meth:`open` or :meth:`start`; :meth:`close` / :meth:`stop` finish the queued jobs,
    then close the connection."""

    name = "storage"

    def __init__(self, target: Path | str, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.backend: Backend = backend_for(target, busy_timeout_s=busy_timeout_s)
        self.path = self.backend.path  # the SQLite file; None for PostgreSQL or in memory
        self._target = self.backend.describe()
        # Each opening gets its own thread and queue; the connection lives on that thread's stack.
        self._thread: threading.Thread | None = None
        self._jobs: queue.SimpleQueue[_Job | None] | None = None
        self._lifecycle = threading.Lock()
        self.previous_schema: SchemaState | None = None  # the schema found on opening

    def __repr__(self) -> str:
        return f"Database({self._target!r})"

    @property
    def target(self) -> str:
        """Where the database is (a path, or a URL without its password): for messages."""
        return self._target

    # ------------------------------------------------------------------ lifecycle

    @property
    def is_open(self) -> bool:
        return self._thread is not None

    @property
    def thread_id(self) -> int | None:
        """The ident of the database thread (tests check every statement runs there)."""
        thread = self._thread
        return None if thread is None else thread.ident

    def open(self) -> None:
        """Start the thread, open the file and migrate it; blocking (see :meth:`start`)."""
        self._submit(None, readonly=False, starting=True).result()

    async def start(self) -> None:
        """:meth:`open` without blocking the event loop."""
        await asyncio.wrap_future(self._submit(None, readonly=False, starting=True))

    def close(self) -> None:
        """Finish the queued jobs, close the file, end the thread; blocking. Safe to call twice."""
        thread = self._request_close()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    async def stop(self) -> None:
        """:meth:`close` without blocking the event loop."""
        thread = self._request_close()
        if thread is not None:
            await asyncio.to_thread(thread.join)

    def __enter__(self) -> Database:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ running work

    async def run[R](self, fn: Callable[[Tx], R], *, readonly: bool = False) -> R:
        """Run ``fn(tx)`` in one transaction on the database thread and return its result."""
        return await asyncio.wrap_future(self._submit(fn, readonly=readonly))

    def call[R](self, fn: Callable[[Tx], R], *, readonly: bool = False) -> R:
        """The blocking form of :meth:`run`, for code that has no event loop (the CLI)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("Database.call() would block the event loop: use `await Database.run()`")
        if threading.get_ident() == self.thread_id:
            raise RuntimeError("Database.call() on the database thread would wait for itself")
        return self._submit(fn, readonly=readonly).result()

    def _submit(
        self, fn: Callable[[Tx], Any] | None, *, readonly: bool, starting: bool = False
    ) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lifecycle:
            if starting:
                if self._thread is not None:
                    future.set_result(None)  # already open (or opening: later jobs queue behind it)
                    return future
                self._jobs = queue.SimpleQueue()
                self._thread = threading.Thread(
                    target=self._serve, args=(self._jobs,), name="db", daemon=True
                )
                self._thread.start()
            if self._jobs is None:
                raise DatabaseClosedError(f"the database {self._target} is not open")
            self._jobs.put(_Job(fn, readonly, future))
        return future

    def _request_close(self) -> threading.Thread | None:
        with self._lifecycle:
            thread, jobs = self._thread, self._jobs
            self._thread = self._jobs = None
            if jobs is not None:
                jobs.put(None)
        return thread

    # ------------------------------------------------------------------ the database thread

    def _serve(self, jobs: queue.SimpleQueue[_Job | None]) -> None:
        conn: Connection | None = None
        try:
            while (job := jobs.get()) is not None:
                if not job.future.set_running_or_notify_cancel():
                    continue
                try:
                    if job.fn is None:
                        conn = self._connect()
                        result = None
                    else:
                        result = self._transact(conn, job.fn, job.readonly)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller, who raises it
                    job.future.set_exception(exc)
                    if job.fn is None:
                        self._abandon(jobs)  # could not open: the jobs queued behind fail
                else:
                    job.future.set_result(result)
        finally:
            if conn is not None:
                self._disconnect(conn)

    def _transact(self, conn: Connection | None, fn: Callable[[Tx], Any], readonly: bool) -> Any:
        if conn is None:
            raise DatabaseClosedError(f"the database {self._target} could not be opened")
        try:
            self.backend.begin(conn, readonly=readonly)
            result = fn(Tx(conn))
            conn.commit()
        except BaseException as exc:
            self._rollback(conn)
            if isinstance(exc, DBAPIError) and exc.connection_invalidated:
                raise StorageError(f"lost the connection to the database {self._target}: {exc.orig}") from exc
            raise
        return result

    def _rollback(self, conn: Connection) -> None:
        try:
            conn.rollback()
        except DBAPIError:  # the connection is gone: it is made again for the next job
            log.debug("rollback failed", exc_info=True)

    def _connect(self) -> Connection:
        engine = self.backend.create_engine()
        try:
            conn = engine.connect()
        except DBAPIError as exc:
            engine.dispose()
            raise StorageError(f"cannot connect to the database {self._target}: {exc.orig}") from None
        try:
            check_not_newer(conn)  # reads only: before prepare() changes the file (its journal mode)
            conn.rollback()
            self.backend.prepare(conn)
            path = self.path
            found = migrate(
                conn,
                self.backend,
                backup_to=None if path is None else lambda state: backup_path(path, state),
            )
            self.backend.after_open(conn)
        except BaseException:
            conn.close()
            engine.dispose()
            raise
        self.previous_schema = found
        log.debug("database %s open (schema was %s)", self._target, found.label())
        return conn

    def _abandon(self, jobs: queue.SimpleQueue[_Job | None]) -> None:
        with self._lifecycle:
            if self._jobs is jobs:
                self._thread = self._jobs = None
        jobs.put(None)

    def _disconnect(self, conn: Connection) -> None:
        self.backend.before_close(conn)
        engine = conn.engine
        conn.close()
        engine.dispose()
