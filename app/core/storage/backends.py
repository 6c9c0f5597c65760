"""Where the database lives and what that backend needs: an SQLite file (the default, one machine) or a
PostgreSQL server (``storage.url``, several machines sharing one store).

A backend makes the engine and says how a transaction begins; everything above it (the tables, the
migrations) is the same SQLAlchemy Core on both. Every method runs on the database thread.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, create_engine, pool
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from app.core.storage.errors import StorageError

log = logging.getLogger(__name__)

MIN_SQLITE = (3, 37, 0)  # STRICT tables
BUSY_TIMEOUT_S = 10.0
PG_CONNECT_TIMEOUT_S = 10
# pg_advisory_xact_lock key held while migrating: two nodes starting at once upgrade one after the other.
PG_MIGRATION_LOCK = 0x6D74_3563_6462  # "mt5cdb"


class Backend(Protocol):
    name: str  # "sqlite" or "postgresql"
    path: Path | None  # the SQLite file; None for PostgreSQL and an in-memory SQLite

    def describe(self) -> str:
        """Where the database is, fit for a message (never with a password)."""
        ...

    def create_engine(self) -> Engine: ...

    def prepare(self, conn: Connection) -> None:
        """Per-connection settings, once the schema is known not to be newer than this code."""
        ...

    def begin(self, conn: Connection, *, readonly: bool) -> None:
        """Start a job's transaction."""
        ...

    def begin_migration(self, conn: Connection) -> None:
        """Start the migration's transaction, holding off every other process that would migrate."""
        ...

    def finish_migration(self, conn: Connection) -> None:
        """Checks and settings after the migrations ran, still inside their transaction."""
        ...

    def after_open(self, conn: Connection) -> None:
        """Settings once the schema is up to date (outside any transaction)."""
        ...

    def before_close(self, conn: Connection) -> None: ...


@dataclass(slots=True)
class SqliteBackend:
    """An SQLite file in WAL mode (readers never wait for the writer; the CLI and the app can use it at
    once), ``synchronous=FULL`` (a committed visit survives a power cut), foreign keys on and a busy
    timeout for the moments another process holds the write lock."""

    path: Path | None  # None: in memory (tests)
    busy_timeout_s: float = BUSY_TIMEOUT_S
    name: str = "sqlite"
    _query_only: bool = False  # the connection's PRAGMA query_only, as last set

    def describe(self) -> str:
        return ":memory:" if self.path is None else str(self.path)

    def create_engine(self) -> Engine:
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            needed = ".".join(map(str, MIN_SQLITE))
            raise StorageError(f"SQLite {sqlite3.sqlite_version} is too old; {needed} or newer is needed")
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: the driver starts no transaction of its own; begin() says which kind.
        return create_engine(
            URL.create("sqlite", database=None if self.path is None else str(self.path)),
            connect_args={"timeout": self.busy_timeout_s, "isolation_level": None},
            poolclass=pool.StaticPool if self.path is None else pool.NullPool,
        )

    def prepare(self, conn: Connection) -> None:
        mode = conn.exec_driver_sql("PRAGMA journal_mode = WAL").scalar()
        if self.path is not None and str(mode).lower() != "wal":
            raise StorageError(f"cannot use WAL mode on {self.path} (journal mode stays {mode})")
        conn.exec_driver_sql("PRAGMA synchronous = FULL")
        conn.exec_driver_sql("PRAGMA foreign_keys = OFF")  # migrations may rebuild referenced tables
        conn.commit()

    def begin(self, conn: Connection, *, readonly: bool) -> None:
        if readonly != self._query_only:  # a read-only job cannot write, as on PostgreSQL
            conn.exec_driver_sql(f"PRAGMA query_only = {int(readonly)}")
            self._query_only = readonly
        # A writer takes the write lock at once (IMMEDIATE): it never fails half-way on a lock upgrade.
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    def begin_migration(self, conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # also serialises two processes opening the file at once

    def finish_migration(self, conn: Connection) -> None:
        violations = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if violations:
            raise StorageError(f"migration left foreign key violations: {violations[:5]}")

    def after_open(self, conn: Connection) -> None:
        conn.exec_driver_sql("PRAGMA foreign_keys = ON")
        conn.commit()

    def before_close(self, conn: Connection) -> None:
        try:
            conn.exec_driver_sql("PRAGMA optimize")
            conn.commit()
        except Exception:  # noqa: BLE001 - closing goes on regardless
            log.debug("PRAGMA optimize failed", exc_info=True)


@dataclass(slots=True)
class PostgresBackend:
    """A PostgreSQL database through psycopg 3. Read-only jobs run in READ ONLY transactions; a lost
    connection (a restarted server) fails the job it interrupted and is made again for the next."""

    url: URL
    path: Path | None = None
    name: str = "postgresql"

    def describe(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def create_engine(self) -> Engine:
        return create_engine(
            self.url,
            poolclass=pool.NullPool,  # one connection, held by the database thread
            connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S, "application_name": "mt5-console"},
        )

    def prepare(self, conn: Connection) -> None:
        conn.rollback()

    def begin(self, conn: Connection, *, readonly: bool) -> None:
        conn.execution_options(postgresql_readonly=readonly)
        conn.begin()

    def begin_migration(self, conn: Connection) -> None:
        conn.execution_options(postgresql_readonly=False)
        conn.begin()
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")

    def finish_migration(self, conn: Connection) -> None:
        pass

    def after_open(self, conn: Connection) -> None:
        pass

    def before_close(self, conn: Connection) -> None:
        pass


POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def backend_for(target: Path | str, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Backend:
    """The backend for a file path, ``":memory:"``, an ``sqlite:///PATH`` URL or a
    ``postgresql://user@host:port/dbname`` URL (driven by psycopg 3)."""
    if isinstance(target, Path):
        return SqliteBackend(target, busy_timeout_s)
    if target == ":memory:":
        return SqliteBackend(None, busy_timeout_s)
    if "://" not in target:
        return SqliteBackend(Path(target), busy_timeout_s)
    url = parse_url(target)
    if url.get_backend_name() == "sqlite":
        return SqliteBackend(Path(url.database) if url.database else None, busy_timeout_s)
    return PostgresBackend(url)


def parse_url(text: str) -> URL:
    """``storage.url`` as SQLAlchemy's URL with psycopg 3 as the PostgreSQL driver; a clear
    :class:`StorageError` for anything else (the message never shows the password)."""
    try:
        url = make_url(text)
    except ArgumentError:
        raise StorageError("storage.url is not a database URL (postgresql://user@host:5432/dbname)") from None
    scheme = url.drivername
    if scheme == "sqlite":
        return url
    if scheme not in POSTGRES_SCHEMES:
        raise StorageError(
            f"storage.url: unsupported database {scheme!r} (use postgresql://user@host:5432/dbname, or "
            "leave it unset for the SQLite file in the data dir)"
        )
    if not url.database:
        raise StorageError(f"storage.url names no database: {url.render_as_string(hide_password=True)}")
    return url.set(drivername="postgresql+psycopg")
