"""The SQLite database: one connection, owned by one thread, that runs every statement.

SQLite connections are not to be shared between threads, and a statement (a commit's fsync, a big
query, a lock held by another process) can take long enough to stutter a window. So the app never
touches the connection itself: it hands a function to the database thread, which runs it inside one
transaction and hands back the result.

* ``await db.run(fn)`` from the event loop (GUI, server, carousel): the loop never waits.
* ``db.call(fn)`` from plain synchronous code (the command line, tests); refused on an event-loop
  thread, where it would block.

``fn`` receives a :class:`~app.core.storage.tx.Tx` (the tables' query objects). Jobs run one at a
time in submission order. Everything ``fn`` does commits together, or rolls back if it raises; the
exception reaches the caller. Cancelling an awaiting caller skips the job if it has not started yet.

The file is opened in WAL mode (readers never wait for the writer; the CLI and the app can use it at
once), with foreign keys on, ``synchronous=FULL`` (a committed visit survives a power cut) and a busy
timeout for the moments another process holds the write lock. Opening migrates the schema.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.storage.errors import DatabaseClosedError, StorageError
from app.core.storage.migrations import backup_path, check_not_newer, migrate
from app.core.storage.tx import Tx

log = logging.getLogger(__name__)

DB_FILE_NAME = "mt5-console.db"
MIN_SQLITE = (3, 37, 0)  # STRICT tables
BUSY_TIMEOUT_S = 10.0


def database_path(data_dir: Path) -> Path:
    """Where the app's database lives in ``data_dir``."""
    return data_dir / DB_FILE_NAME


@dataclass(slots=True)
class _Job:
    fn: Callable[[Tx], Any] | None  # None: open the connection
    readonly: bool
    future: concurrent.futures.Future[Any]


class Database:
    """The app's SQLite database, served by its own thread. Nothing happens until :meth:`open` or
    :meth:`start`; :meth:`close` / :meth:`stop` finish the queued jobs, then close the file."""

    name = "storage"

    def __init__(self, path: Path | str, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        self._target = str(path)
        self._busy_timeout_s = busy_timeout_s
        # Each opening gets its own thread and queue; the connection lives on that thread's stack.
        self._thread: threading.Thread | None = None
        self._jobs: queue.SimpleQueue[_Job | None] | None = None
        self._lifecycle = threading.Lock()
        self.previous_version: int | None = None  # the schema version found on opening

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
        conn: sqlite3.Connection | None = None
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

    def _transact(self, conn: sqlite3.Connection | None, fn: Callable[[Tx], Any], readonly: bool) -> Any:
        if conn is None:
            raise DatabaseClosedError(f"the database {self._target} could not be opened")
        conn.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")
        try:
            result = fn(Tx(conn))
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def _connect(self) -> sqlite3.Connection:
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            needed = ".".join(map(str, MIN_SQLITE))
            raise StorageError(f"SQLite {sqlite3.sqlite_version} is too old; {needed} or newer is needed")
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self._target, timeout=self._busy_timeout_s, isolation_level=None)
        try:
            check_not_newer(conn)  # before anything, even the journal mode, changes in the file
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if self.path is not None and str(mode).lower() != "wal":
                raise StorageError(f"cannot use WAL mode on {self._target} (journal mode stays {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = OFF")  # migrations may rebuild referenced tables
            path = self.path
            self.previous_version = migrate(
                conn, backup_to=None if path is None else lambda version: backup_path(path, version)
            )
            conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            conn.close()
            raise
        log.debug("database %s open (schema was version %s)", self._target, self.previous_version)
        return conn

    def _abandon(self, jobs: queue.SimpleQueue[_Job | None]) -> None:
        with self._lifecycle:
            if self._jobs is jobs:
                self._thread = self._jobs = None
        jobs.put(None)

    def _disconnect(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA optimize")
        except sqlite3.Error:
            log.debug("PRAGMA optimize failed", exc_info=True)
        conn.close()
