"""Bringing a database up to this code's schema with Alembic, on SQLite and PostgreSQL alike.

Rules, so that an upgrade never loses data:

* Migrations (``migrations/versions``) are append-only. Never edit one that has shipped; add the next.
* An upgrade runs every pending migration in one transaction: the database ends up at the latest
  revision or exactly as it was. Two processes opening it at once upgrade one after the other.
* An SQLite file that already holds a schema is first copied aside (``<db>.<old schema>.bak``).
* A database from a newer app (a revision this code does not know) is refused, never touched.
* SQLite migrations run with foreign keys off (so a table can be rebuilt under the tables that
  reference it) and commit only if ``PRAGMA foreign_key_check`` is clean.

Files from before Alembic kept their version in ``PRAGMA user_version`` (1 to 4, the first four
revisions). Such a file is adopted in the same transaction: its tables are renamed aside, Alembic
creates that version's tables afresh, the rows are copied over and the old tables dropped, so an old
file ends up with exactly the schema of a new one. An Alembic-managed file has ``user_version``
:data:`ALEMBIC_USER_VERSION`, which the older apps refuse as "written by a newer mt5-console".
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from app.core.storage.backends import Backend
from app.core.storage.errors import SchemaTooNewError, StorageError
from app.core.storage.schema import metadata

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ALEMBIC_USER_VERSION = 1000
# The tables each pre-Alembic version added; version N is revision "000N".
LEGACY_TABLES: dict[int, tuple[str, ...]] = {
    1: ("accounts",),
    2: ("snapshots",),
    3: ("deals",),
    4: ("client_orders", "kill_switches"),
}
LEGACY_PREFIX = "legacy_"


@dataclass(frozen=True, slots=True)
class SchemaState:
    """What schema a database holds: an Alembic ``revision``, a pre-Alembic ``legacy_version``, or
    neither (an empty database)."""

    revision: str | None = None
    legacy_version: int = 0

    @property
    def empty(self) -> bool:
        return self.revision is None and self.legacy_version == 0

    def label(self) -> str:
        """A short name for file names and messages: ``r0005``, ``v3`` (pre-Alembic), ``empty``."""
        if self.revision is not None:
            return f"r{self.revision}"
        return f"v{self.legacy_version}" if self.legacy_version else "empty"


@functools.cache
def script_directory() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS_DIR))


def head_revision(script: ScriptDirectory | None = None) -> str:
    head = (script or script_directory()).get_current_head()
    if head is None:  # pragma: no cover - the migrations ship with the code
        raise StorageError(f"no migrations in {MIGRATIONS_DIR}")
    return head


def legacy_revision(version: int) -> str:
    return f"{version:04d}"


def schema_state(conn: Connection) -> SchemaState:
    """Read which schema the database holds; reads only."""
    revision = None
    if inspect(conn).has_table("alembic_version"):
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    legacy = 0
    if conn.dialect.name == "sqlite":
        user_version = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
        if revision is None and user_version == ALEMBIC_USER_VERSION:
            raise StorageError(
                "the database is damaged: it is marked as migrated, but has no alembic_version"
            )
        if revision is None:
            legacy = user_version
    return SchemaState(revision, legacy)


def check_not_newer(conn: Connection, script: ScriptDirectory | None = None) -> SchemaState:
    """The database's schema; :class:`SchemaTooNewError` if this code does not know it. Reads only:
    call it before changing anything about a file (even its journal mode)."""
    script = script or script_directory()
    state = schema_state(conn)
    known = state.revision is None or _is_known(script, state.revision)
    if not known or state.legacy_version > max(LEGACY_TABLES) or state.legacy_version < 0:
        raise SchemaTooNewError(
            f"the database was written by a newer mt5-console (schema {state.label()}; this one knows up "
            f"to r{head_revision(script)}): upgrade the app, or use another database"
        )
    return state


def _is_known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown revision
        return False


def migrate(
    conn: Connection,
    backend: Backend,
    *,
    target: str | None = None,
    backup_to: Callable[[SchemaState], Path] | None = None,
    script: ScriptDirectory | None = None,
) -> SchemaState:
    """Bring the database up to ``target`` (default: the latest revision); return the schema it had.

    ``conn`` is outside any transaction. With ``backup_to`` (SQLite), a database that already holds a
    schema is first copied to ``backup_to(its schema)``. ``script``: the migrations (tests give others).
    """
    script = script or script_directory()
    target = target or head_revision(script)
    state = check_not_newer(conn, script)
    conn.rollback()
    if state.revision == target:
        return state
    if backup_to is not None and not state.empty:
        _backup(conn, backup_to(state))  # outside the transaction: a backup inside it would wait on itself
    backend.begin_migration(conn)
    try:
        state = check_not_newer(conn, script)  # another process may have upgraded it meanwhile
        if state.legacy_version:
            _adopt_legacy(conn, state.legacy_version, script)
        _upgrade(conn, target, script)
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA user_version = {ALEMBIC_USER_VERSION}")
        backend.finish_migration(conn)
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    log.info("database schema %s upgraded to r%s", state.label(), target)
    return state


def _upgrade(conn: Connection, target: str, script: ScriptDirectory) -> None:
    """Run Alembic's upgrade to ``target`` inside the caller's transaction."""
    with EnvironmentContext(
        Config(),
        script,
        fn=lambda revision, _context: script._upgrade_revs(target, revision),
        destination_rev=target,
    ) as env:
        env.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with env.begin_transaction():  # joins the caller's transaction: commits nothing itself
            env.run_migrations()


def _adopt_legacy(conn: Connection, version: int, script: ScriptDirectory) -> None:
    """Rebuild a pre-Alembic SQLite file's tables (at ``version``) as Alembic creates them."""
    tables = [table for v in range(1, version + 1) for table in LEGACY_TABLES[v]]
    sequences: dict[str, int] = (
        dict(conn.exec_driver_sql("SELECT name, seq FROM sqlite_sequence").all())
        if _has_sequences(conn)
        else {}
    )
    for table in tables:
        conn.exec_driver_sql(f'ALTER TABLE "{table}" RENAME TO "{LEGACY_PREFIX}{table}"')
    renamed = tuple(LEGACY_PREFIX + table for table in tables)
    indexes = conn.exec_driver_sql(
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).all()
    indexes = [name for name, table in indexes if table in renamed]  # the old tables' own indexes
    for index in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{index}"')
    _upgrade(conn, legacy_revision(version), script)
    for table in tables:
        columns = ", ".join(f'"{row[1]}"' for row in conn.exec_driver_sql(f'PRAGMA table_info("{table}")'))
        conn.exec_driver_sql(
            f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{LEGACY_PREFIX}{table}"'  # noqa: S608
        )
    for table in reversed(tables):
        conn.exec_driver_sql(f'DROP TABLE "{LEGACY_PREFIX}{table}"')
    for table in tables:  # AUTOINCREMENT: an id given before the upgrade is never given again
        if (seq := sequences.get(table)) is not None:
            now = conn.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).scalar()
            conn.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
            conn.exec_driver_sql(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, max(int(seq), int(now or 0)))
            )


def _has_sequences(conn: Connection) -> bool:
    return (
        conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").first() is not None
    )


def _backup(conn: Connection, destination: Path) -> None:
    """Copy the SQLite database (as it is now) to ``destination``, replacing an older copy."""
    raw = conn.connection.dbapi_connection
    if not isinstance(raw, sqlite3.Connection):
        raise StorageError("only an SQLite database is backed up by the app")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(partial) as copy:
        raw.backup(copy)
    copy.close()
    partial.replace(destination)
    conn.rollback()


def backup_path(db_path: Path, state: SchemaState) -> Path:
    """Where the copy of ``db_path`` taken before upgrading it from ``state`` goes."""
    return db_path.with_name(f"{db_path.name}.{state.label()}.bak")
