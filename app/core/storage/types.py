"""Column types (and constraint names) that mean the same on SQLite and PostgreSQL.

SQLite's STRICT tables accept only INTEGER, REAL, TEXT, BLOB and ANY, so each type here renders one
of those on SQLite and the natural PostgreSQL type there. The migrations use these types too: never
change one, nor the naming convention (that would change what an old migration creates); add a new
one instead.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import BigInteger, Double, Integer, Text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

# A 64-bit integer: MT5 logins and tickets are unsigned 64-bit, times are milliseconds since the
# epoch. INTEGER on SQLite (which is 64-bit, and the only name an AUTOINCREMENT key accepts).
Int64: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")

# Money, prices and volumes: an 8-byte float on both (PostgreSQL's REAL would be 4 bytes).
Float64: TypeEngine[float] = Double().with_variant(sqlite.REAL(), "sqlite")

# Text compared without regard to case (a broker's server name, an account key): SQLite's built-in
# NOCASE collation; on PostgreSQL a nondeterministic ICU collation of the same name, made by the
# first migration, so ``=``, UNIQUE and PRIMARY KEY ignore case there too.
NOCASE = "NOCASE"
CaseInsensitiveText: TypeEngine[str] = Text(collation=NOCASE)

# Constraint and index names, the same on both backends, so that a migration can name what it changes.
NAMING_CONVENTION = {
    "ix": "%(table_name)s_%(column_0_N_name)s_idx",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}

# The PostgreSQL collation behind CaseInsensitiveText (ICU, level 2: case-insensitive, accent-sensitive).
PG_NOCASE_COLLATION_DDL = (
    "CREATE COLLATION IF NOT EXISTS \"NOCASE\" (provider = icu, locale = 'und-u-ks-level2', "
    "deterministic = false)"
)


class JsonDocument(TypeDecorator[Any]):
    """A JSON value: compact text on SQLite (with a ``json_valid`` check beside the column), JSONB on
    PostgreSQL. Python sees the decoded value on both."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value  # JSONB serialises it
        return json.dumps(value, separators=(",", ":"))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return json.loads(value)
