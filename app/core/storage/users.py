"""The ``users`` and ``api_keys`` tables: who may use the server (hashes only, never a secret)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.core.storage.errors import ConflictError
from app.core.storage.schema import api_keys, users
from app.core.storage.sql import is_unique_violation
from app.core.times import from_ms, to_ms
from app.models.users import ApiKeyRecord, Role, Scope, UserRecord

_USER_COLUMNS = (
    users.c.id,
    users.c.username,
    users.c.role,
    users.c.accounts,
    users.c.version,
    users.c.created_ms,
    users.c.updated_ms,
    users.c.password_hash,
)
_KEY_COLUMNS = (
    api_keys.c.id,
    api_keys.c.prefix,
    api_keys.c.name,
    api_keys.c.role,
    api_keys.c.accounts,
    api_keys.c.created_by,
    api_keys.c.created_ms,
    api_keys.c.expires_ms,
    api_keys.c.revoked_ms,
    api_keys.c.last_used_ms,
    api_keys.c.hash,
)


def _scope(value: Any) -> Scope:
    return Scope.of(None if value is None else [int(v) for v in value])


def _time(ms: int | None) -> datetime | None:
    return None if ms is None else from_ms(ms)


def user_from_row(row: Sequence[Any]) -> UserRecord:
    id_, name, role, scope, version, created, updated, hashed = row
    return UserRecord(
        int(id_),
        str(name),
        Role(role),
        _scope(scope),
        int(version),
        from_ms(created),
        from_ms(updated),
        hashed,
    )


def key_from_row(row: Sequence[Any]) -> ApiKeyRecord:
    id_, prefix, name, role, scope, by, created, expires, revoked, used, hashed = row
    return ApiKeyRecord(
        int(id_),
        str(prefix),
        str(name),
        Role(role),
        _scope(scope),
        str(by),
        from_ms(created),
        _time(expires),
        _time(revoked),
        _time(used),
        str(hashed),
    )


class UserRows:
    """Queries on ``users`` (inside a :class:`~app.core.storage.Tx`)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(
        self, username: str, password_hash: str, role: Role, scope: Scope, now: datetime
    ) -> UserRecord:
        """Add a user; :class:`ConflictError` if the name is taken (names compare without case)."""
        stamp = to_ms(now)
        statement = (
            insert(users)
            .values(
                username=username,
                password_hash=password_hash,
                role=role.value,
                accounts=scope.to_json(),
                version=1,
                created_ms=stamp,
                updated_ms=stamp,
            )
            .returning(*_USER_COLUMNS)
        )
        try:
            with self._conn.begin_nested():
                row = self._conn.execute(statement).one()
        except IntegrityError as exc:
            if is_unique_violation(exc):
                raise ConflictError(f"user {username!r} exists already") from None
            raise
        return user_from_row(row)

    def get(self, username: str) -> UserRecord | None:
        row = self._conn.execute(select(*_USER_COLUMNS).where(users.c.username == username)).first()
        return None if row is None else user_from_row(row)

    def list(self) -> list[UserRecord]:
        return [user_from_row(r) for r in self._conn.execute(select(*_USER_COLUMNS).order_by(users.c.id))]

    def change(self, username: str, now: datetime, **changes: Any) -> UserRecord | None:
        """Set ``role``, ``accounts`` (a :class:`Scope`) or ``password_hash``, bumping the version."""
        values: dict[str, Any] = {"updated_ms": to_ms(now), "version": users.c.version + 1}
        for name, value in changes.items():
            if isinstance(value, Role):
                value = value.value
            elif isinstance(value, Scope):
                value = value.to_json()
            values[name] = value
        statement = update(users).where(users.c.username == username).values(values).returning(*_USER_COLUMNS)
        row = self._conn.execute(statement).first()
        return None if row is None else user_from_row(row)

    def delete(self, username: str) -> UserRecord | None:
        statement = delete(users).where(users.c.username == username).returning(*_USER_COLUMNS)
        row = self._conn.execute(statement).first()
        return None if row is None else user_from_row(row)


class ApiKeyRows:
    """Queries on ``api_keys``."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(
        self,
        prefix: str,
        hashed: str,
        name: str,
        role: Role,
        scope: Scope,
        created_by: str,
        now: datetime,
        expires_at: datetime | None,
    ) -> ApiKeyRecord:
        statement = (
            insert(api_keys)
            .values(
                prefix=prefix,
                hash=hashed,
                name=name,
                role=role.value,
                accounts=scope.to_json(),
                created_by=created_by,
                created_ms=to_ms(now),
                expires_ms=None if expires_at is None else to_ms(expires_at),
            )
            .returning(*_KEY_COLUMNS)
        )
        try:
            with self._conn.begin_nested():
                row = self._conn.execute(statement).one()
        except IntegrityError as exc:
            if is_unique_violation(exc):
                raise ConflictError(f"an API key {prefix} exists already") from None
            raise
        return key_from_row(row)

    def get(self, key_id: int) -> ApiKeyRecord | None:
        row = self._conn.execute(select(*_KEY_COLUMNS).where(api_keys.c.id == key_id)).first()
        return None if row is None else key_from_row(row)

    def list(self) -> list[ApiKeyRecord]:
        rows = self._conn.execute(select(*_KEY_COLUMNS).order_by(api_keys.c.id))
        return [key_from_row(r) for r in rows]

    def revoke(self, key_id: int, now: datetime) -> ApiKeyRecord | None:
        """Mark the key revoked (kept, so its last use and who made it stay visible)."""
        statement = (
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_ms.is_(None))
            .values(revoked_ms=to_ms(now))
            .returning(*_KEY_COLUMNS)
        )
        row = self._conn.execute(statement).first()
        return None if row is None else key_from_row(row)

    def touch(self, used: dict[int, datetime]) -> None:
        """Record when keys were last used."""
        for key_id, moment in used.items():
            self._conn.execute(
                update(api_keys).where(api_keys.c.id == key_id).values(last_used_ms=to_ms(moment))
            )
