"""The database: one connection, owned by one thread, that runs every statement.

The database is an SQLite file (the default) or a PostgreSQL server (``storage.url``); see
:mod:`app.core.storage.backends`. A connection is not to be shared between threads, and a statement
(a commit's fsync, a big query, a lock held by another process, a round trip to a server) can take
long enough to stutter a window. So the app never touches the connection itself: it hands a function
to the database thread, which runs it inside one transaction and hands back the result.

* ``await db.run(fn)`` from the event loop (GUI, server, carousel): the loop never waits.
* ``db.call(fn)`` from plain synchronous code (the command line, tests); refused on an event-loop
  thread, where it would block.

``fn`` receives a :class:`~app.core.storage.tx.Tx` (the tables' query objects). With one connection
(the default, and always on SQLite, which has one writer anyway) jobs run one at a time in submission
order; ``connections=N`` on PostgreSQL gives N threads with a connection each, taking jobs from one
queue (a node's visits then never wait behind one slow statement). Everything ``fn`` does commits
together, or rolls back if it raises; the exception reaches the caller. Cancelling an awaiting
caller skips the job if it has not started yet.

Opening migrates the schema (:mod:`app.core.storage.migrate`). A job that finds its PostgreSQL
connection lost (a restarted or unreachable server) is run again on a new connection, with backoff,
for up to ``reconnect_s`` — its transaction was rolled back by the loss, so nothing is done twice.
Only a loss during the COMMIT itself is not retried (the commit may have happened): that job fails
with :class:`~app.core.storage.errors.StorageError`, as does one still without a server after
``reconnect_s``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from app.config import StorageSettings
from app.core.storage.backends import BUSY_TIMEOUT_S, Backend, backend_for
from app.core.storage.errors import DatabaseClosedError, StorageError
from app.core.storage.migrate import SchemaState, backup_path, check_not_newer, migrate
from app.core.storage.tx import Tx

log = logging.getLogger(__name__)

DB_FILE_NAME = "mt5-console.db"
RECONNECT_S = 30.0  # how long a job whose connection was lost keeps trying to get a new one
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)  # between the tries (the last one repeats)


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

    def __init__(
        self,
        target: Path | str,
        *,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
        connections: int = 1,
        reconnect_s: float = RECONNECT_S,
    ) -> None:
        self.backend: Backend = backend_for(target, busy_timeout_s=busy_timeout_s)
        self.path = self.backend.path  # the SQLite file; None for PostgreSQL or in memory
        self._target = self.backend.describe()
        if connections < 1:
            raise ValueError("a database needs at least one connection")
        # SQLite has one writer: more connections would only wait for each other's write lock.
        self.connections = connections if self.backend.name == "postgresql" else 1
        self.reconnect_s = reconnect_s
        # Each opening gets its own threads and queue; a connection lives on its thread's stack.
        self._thread: threading.Thread | None = None  # the first thread: it opens (and migrates)
        self._helpers: list[threading.Thread] = []  # the others, started once the first has opened
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
        """The ident of the (first) database thread (tests check every statement runs there)."""
        thread = self._thread
        return None if thread is None else thread.ident

    @property
    def thread_ids(self) -> set[int]:
        """The idents of every database thread (one per connection)."""
        threads = [self._thread, *self._helpers] if self._thread is not None else []
        return {t.ident for t in threads if t is not None and t.ident is not None}

    def open(self) -> None:
        """Start the thread, open the file and migrate it; blocking (see :meth:`start`)."""
        self._submit(None, readonly=False, starting=True).result()

    async def start(self) -> None:
        """:meth:`open` without blocking the event loop."""
        await asyncio.wrap_future(self._submit(None, readonly=False, starting=True))

    def close(self) -> None:
        """Finish the queued jobs, close the file, end the thread; blocking. Safe to call twice."""
        for thread in self._request_close():
            if thread is not threading.current_thread():
                thread.join()

    async def stop(self) -> None:
        """:meth:`close` without blocking the event loop."""
        for thread in self._request_close():
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
        if threading.get_ident() in self.thread_ids:
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
                self._helpers = []
                self._thread = threading.Thread(
                    target=self._serve, args=(self._jobs, True), name="db", daemon=True
                )
                self._thread.start()
            if self._jobs is None:
                raise DatabaseClosedError(f"the database {self._target} is not open")
            self._jobs.put(_Job(fn, readonly, future))
        return future

    def _request_close(self) -> list[threading.Thread]:
        with self._lifecycle:
            first, jobs = self._thread, self._jobs
            threads = [] if first is None else [first, *self._helpers]
            self._thread = self._jobs = None
            self._helpers = []
            if jobs is not None:
                for _ in range(self.connections):  # one end-of-work mark per thread
                    jobs.put(None)
        return threads

    # ------------------------------------------------------------------ the database threads

    def _serve(self, jobs: queue.SimpleQueue[_Job | None], first: bool) -> None:
        conn: Connection | None = None
        try:
            while (job := jobs.get()) is not None:
                if not job.future.set_running_or_notify_cancel():
                    continue
                try:
                    if job.fn is None:
                        conn = self._connect()
                        result = None
                        self._start_helpers(jobs)
                    else:
                        if conn is None and not first:  # a helper connects at its first job
                            conn = self._connect_again()
                        result = self._transact_retrying(conn, job.fn, job.readonly)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller, who raises it
                    job.future.set_exception(exc)
                    if job.fn is None:
                        self._abandon(jobs)  # could not open: the jobs queued behind fail
                else:
                    job.future.set_result(result)
        finally:
            if conn is not None:
                self._disconnect(conn)

    def _start_helpers(self, jobs: queue.SimpleQueue[_Job | None]) -> None:
        """Open the other connections' threads, once the first has opened (and migrated) the database."""
        with self._lifecycle:
            if self._jobs is not jobs:
                return  # closed meanwhile
            for n in range(2, self.connections + 1):
                helper = threading.Thread(target=self._serve, args=(jobs, False), name=f"db-{n}", daemon=True)
                self._helpers.append(helper)
                helper.start()

    def _transact_retrying(self, conn: Connection | None, fn: Callable[[Tx], Any], readonly: bool) -> Any:
        """Run the job; if the connection was lost before its COMMIT went out, run it again on a new
        one (SQLAlchemy makes it at the next statement), waiting for the server up to ``reconnect_s``."""
        deadline = time.monotonic() + self.reconnect_s
        for attempt in range(1_000_000):
            try:
                return self._transact(conn, fn, readonly)
            except _ConnectionLost as lost:
                if lost.during_commit and not readonly:
                    raise lost.error from lost.error.__cause__
                delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
                if time.monotonic() + delay > deadline:
                    raise lost.error from lost.error.__cause__
                log.info("%s; trying again in %g s", lost.error, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _transact(self, conn: Connection | None, fn: Callable[[Tx], Any], readonly: bool) -> Any:
        if conn is None:
            raise DatabaseClosedError(f"the database {self._target} could not be opened")
        committing = False
        try:
            self.backend.begin(conn, readonly=readonly)
            result = fn(Tx(conn))
            committing = True
            conn.commit()
        except BaseException as exc:
            self._rollback(conn)
            if self._lost(exc):
                orig = getattr(exc, "orig", exc)
                error = StorageError(f"lost the connection to the database {self._target}: {orig}")
                error.__cause__ = exc
                raise _ConnectionLost(error, during_commit=committing) from exc
            raise
        return result

    def _lost(self, exc: BaseException) -> bool:
        """Whether ``exc`` means the connection is gone (not that the statement was wrong)."""
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        # No connection could be made (the server is still down): psycopg's OperationalError.
        return self.backend.name == "postgresql" and isinstance(exc, OperationalError)

    def _connect_again(self) -> Connection:
        """Another connection to a database that is open already (a helper thread's), trying for up
        to ``reconnect_s`` while the server does not answer."""
        deadline = time.monotonic() + self.reconnect_s
        for attempt in range(1_000_000):
            engine = self.backend.create_engine()
            try:
                conn = engine.connect()
                self.backend.prepare(conn)
                self.backend.after_open(conn)
                return conn
            except DBAPIError as exc:
                engine.dispose()
                delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
                if time.monotonic() + delay > deadline:
                    raise StorageError(f"cannot connect to the database {self._target}: {exc.orig}") from None
                time.sleep(delay)
        raise AssertionError("unreachable")

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


class _ConnectionLost(Exception):
    """A job's connection went away; ``during_commit``: after the COMMIT was sent (it may have
    happened, so the job is not run again)."""

    def __init__(self, error: StorageError, *, during_commit: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.during_commit = during_commit
