"""The few statements whose SQL differs between SQLite and PostgreSQL, written once for both."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import Insert

PG_UNIQUE_VIOLATION = "23505"


def is_unique_violation(exc: IntegrityError) -> bool:
    """Whether ``exc`` broke a UNIQUE or PRIMARY KEY rule (not a foreign key or a CHECK)."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return bool(sqlstate == PG_UNIQUE_VIOLATION)
    return "UNIQUE constraint failed" in str(exc.orig)


def _dialect_insert(dialect_name: str, table: Table) -> sqlite.Insert | postgresql.Insert:
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring_duplicates(dialect_name: str, table: Table, keys: Sequence[str]) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO NOTHING``: a row whose key exists is left as it is."""
    return _dialect_insert(dialect_name, table).on_conflict_do_nothing(index_elements=list(keys))


@functools.cache
def upsert(dialect_name: str, table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET column = excluded.column`` for ``columns``; run it
    with the row's values as parameters. Made once per backend (making one costs more than running it)."""
    statement = _dialect_insert(dialect_name, table)
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in columns}
    )


class BulkStatement:
    """A statement for many rows at the driver's speed: compiled once per backend, then run with plain
    tuples (no per-row work in SQLAlchemy, which would cost more than the database does).

    ``build(dialect_name)`` makes the statement; ``keys`` names its parameters in the order of each
    row's values.
    """

    def __init__(self, build: Callable[[str], ClauseElement], keys: Sequence[str]) -> None:
        self._build = build
        self.keys = tuple(keys)
        self._compiled: dict[str, tuple[str, tuple[int, ...] | None]] = {}

    def run(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        sql, order = self._for(conn.dialect)
        if order is None:  # named parameters
            conn.exec_driver_sql(sql, [dict(zip(self.keys, row, strict=True)) for row in rows])
        elif order == tuple(range(len(self.keys))):
            conn.exec_driver_sql(sql, list(rows))
        else:
            conn.exec_driver_sql(sql, [tuple(row[i] for i in order) for row in rows])

    def _for(self, dialect: Dialect) -> tuple[str, tuple[int, ...] | None]:
        found = self._compiled.get(dialect.name)
        if found is None:
            if dialect.name == "postgresql":  # positional %s: rows go as tuples, no dict per row
                dialect = type(dialect)(paramstyle="format")  # type: ignore[call-arg]
            compiled = self._build(dialect.name).compile(dialect=dialect, column_keys=list(self.keys))
            positions = getattr(compiled, "positiontup", None)  # a positional paramstyle's order
            order = None if positions is None else tuple(self.keys.index(name) for name in positions)
            found = self._compiled[dialect.name] = (compiled.string, order)
        return found
