"""Users and API keys of the server: the directory (rows in the database, hashes only), audited.

* **Users** have a name, an argon2id password hash, a role and an account scope. The first admin is
  not a row: it is the built-in administrator whose password ``server set-password`` sets, as before
  (its name is reserved here). Every change bumps the user's ``version``; tokens carry it, so a change
  of role, scope or password (or a removal) revokes them.
* **API keys** are ``mt5c_<8 chars>_<secret>``: the first part (the prefix) is stored and shown, the
  whole key only as its SHA-256 (a key is 32 random bytes: a fast hash is enough, unlike a password).
  A key is shown once, when it is made.

Every change is appended to the audit trail (actor: who asked) before it is answered; a listener
(the server's token service) hears of it at once, so the sockets of a revoked subject close now.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.audit import Action
from app.core.storage import ConflictError, Database
from app.core.times import utc_now
from app.models.users import KEY_PREFIX, AccessError, ApiKeyRecord, Role, Scope, UserRecord

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
KEY_NAME_MAX = 64
KEY_PATTERN = re.compile(r"^mt5c_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$")
_hasher = PasswordHasher()  # argon2id (RFC 9106 low-memory profile), salted
# Verified against when the user name is unknown, so the answer takes as long either way.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class UserError(AccessError):
    """A refused user or key change (bad name, unknown user, taken name, ...)."""


class UnknownUserError(UserError):
    pass


class UserExistsError(UserError):
    pass


class Auditor(Protocol):
    async def append(
        self, actor: str, action: str, *, account: str | None = None, payload: dict[str, Any] | None = None
    ) -> Any: ...


def check_username(name: str, reserved: str) -> str:
    if not USERNAME_PATTERN.fullmatch(name):
        raise UserError(
            "a user name is 1-64 letters, digits and . _ @ - (starting with a letter or digit)", "username"
        )
    if name.casefold() == reserved.casefold():
        raise UserError(
            f"{reserved!r} is the built-in administrator: its password is set with "
            "`mt5-console server set-password`",
            "username",
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters", "password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"the password is longer than {MAX_PASSWORD_LENGTH} characters", "password")
    if any(unicodedata.category(ch) == "Cc" for ch in password):
        raise UserError("the password contains a control character (a line break?)", "password")
    return password


def check_key_name(name: str) -> str:
    if not name or len(name) > KEY_NAME_MAX or any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise UserError(f"a key's name is 1-{KEY_NAME_MAX} printable characters", "name")
    return name


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(text: str) -> bool:
    return text.startswith(KEY_PREFIX)


def key_prefix(key: str) -> str:
    """The visible part of a key (``mt5c_xxxxxxxx``); :class:`UserError` if it is not shaped as one."""
    if not KEY_PATTERN.fullmatch(key):
        raise UserError("malformed API key (expected mt5c_ followed by 8 and 43 characters)", "key")
    return key[:13]


def new_key() -> tuple[str, str]:
    """A fresh key and its prefix."""
    prefix = KEY_PREFIX + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
    return f"{prefix}_{secrets.token_urlsafe(32)}", prefix


def verify_password(hashed: str, password: str) -> bool:
    """Blocking (argon2 takes time on purpose): call it off the event loop."""
    try:
        return bool(_hasher.verify(hashed, password))
    except (VerificationError, InvalidHashError):
        return False


ChangeListener = Callable[[str, str], None]  # (subject, reason)


class UserDirectory:
    """The users and API keys in ``db``. ``reserved`` is the built-in admin's name; ``audit`` records
    every change; ``listeners`` hear ``(subject, reason)`` after each one (a subject is a user name or
    ``key:<prefix>``)."""

    def __init__(
        self,
        db: Database,
        audit: Auditor,
        reserved: str,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self._audit = audit
        self.reserved = reserved
        self._clock = clock
        self._listeners: list[ChangeListener] = []
        self._lock = asyncio.Lock()

    def on_change(self, listener: ChangeListener) -> Callable[[], None]:
        """Call ``listener`` after each change; returns the way to stop."""
        self._listeners.append(listener)

        def stop() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return stop

    def _changed(self, subject: str, reason: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(subject, reason)
            except Exception:
                log.exception("a user change listener failed")

    # ------------------------------------------------------------------ reading

    async def users(self) -> list[UserRecord]:
        return await self._db.run(lambda tx: tx.users.list(), readonly=True)

    async def get(self, username: str) -> UserRecord:
        found = await self._db.run(lambda tx: tx.users.get(username), readonly=True)
        if found is None:
            raise UnknownUserError(f"no user {username[:64]!r}", "username")
        return found

    async def keys(self) -> list[ApiKeyRecord]:
        return await self._db.run(lambda tx: tx.api_keys.list(), readonly=True)

    async def snapshot(self) -> tuple[list[UserRecord], list[ApiKeyRecord]]:
        """Every user and key (the token service's view, refreshed twice a second)."""
        return await self._db.run(lambda tx: (tx.users.list(), tx.api_keys.list()), readonly=True)

    async def authenticate(self, username: str, password: str) -> UserRecord | None:
        """The user if the password is theirs; None otherwise (as slow for an unknown name)."""
        found = await self._db.run(lambda tx: tx.users.get(username), readonly=True)
        hashed = found.password_hash if found is not None else _DUMMY_HASH
        ok = await asyncio.to_thread(verify_password, hashed, password)
        return found if ok and found is not None else None

    # ------------------------------------------------------------------ users

    async def add(self, username: str, role: Role, scope: Scope, password: str, *, actor: str) -> UserRecord:
        name = check_username(username, self.reserved)
        hashed = await asyncio.to_thread(_hasher.hash, check_password(password))
        await self._check_scope(scope)
        now = self._clock()
        async with self._lock:
            try:
                user = await self._db.run(lambda tx: tx.users.insert(name, hashed, role, scope, now))
            except ConflictError:
                raise UserExistsError(f"user {name!r} exists already", "username") from None
            await self._record(
                actor, Action.USER_ADD, user.username, role=role.value, accounts=scope.describe()
            )
        return user

    async def remove(self, username: str, *, actor: str) -> UserRecord:
        async with self._lock:
            self._not_builtin(username)
            removed = await self._db.run(lambda tx: tx.users.delete(username))
            if removed is None:
                raise UnknownUserError(f"no user {username[:64]!r}", "username")
            await self._record(actor, Action.USER_REMOVE, removed.username)
        self._changed(removed.username, "the user was removed")
        return removed

    async def set_role(self, username: str, role: Role, *, actor: str) -> UserRecord:
        before = await self.get(self._not_builtin(username))
        user = await self._change(username, role=role)
        await self._record(actor, Action.USER_SET_ROLE, user.username, old=before.role.value, new=role.value)
        self._changed(user.username, f"the user's role was changed to {role.value}")
        return user

    async def set_accounts(self, username: str, scope: Scope, *, actor: str) -> UserRecord:
        before = await self.get(self._not_builtin(username))
        await self._check_scope(scope)
        user = await self._change(username, accounts=scope)
        await self._record(
            actor, Action.USER_SET_ACCOUNTS, user.username, old=before.scope.describe(), new=scope.describe()
        )
        self._changed(user.username, "the user's accounts were changed")
        return user

    async def set_password(self, username: str, password: str, *, actor: str) -> UserRecord:
        self._not_builtin(username)
        hashed = await asyncio.to_thread(_hasher.hash, check_password(password))
        user = await self._change(username, password_hash=hashed)
        await self._record(actor, Action.USER_SET_PASSWORD, user.username, password="***")  # noqa: S106 - masked
        self._changed(user.username, "the user's password was changed")
        return user

    # ------------------------------------------------------------------ keys

    async def create_key(
        self, name: str, role: Role, scope: Scope, expires_at: datetime | None, *, actor: str
    ) -> tuple[ApiKeyRecord, str]:
        """A new key: its record and the key itself (shown once: only its hash is kept)."""
        label = check_key_name(name)
        now = self._clock()
        if expires_at is not None and expires_at <= now:
            raise UserError("the expiry is in the past", "expires_at")
        await self._check_scope(scope)
        key, prefix = new_key()
        async with self._lock:
            record = await self._db.run(
                lambda tx: tx.api_keys.insert(
                    prefix, key_hash(key), label, role, scope, actor, now, expires_at
                )
            )
            await self._record(
                actor,
                Action.KEY_CREATE,
                None,
                key=prefix,
                name=label,
                role=role.value,
                accounts=scope.describe(),
                expires_at=None if expires_at is None else expires_at.isoformat(),
            )
        self._changed(record.subject, "the API key was created")
        return record, key

    async def revoke_key(self, ref: str | int, *, actor: str) -> ApiKeyRecord:
        """Revoke the key with this id or prefix."""
        key_id = await self._key_id(ref)
        now = self._clock()
        async with self._lock:
            record = await self._db.run(lambda tx: tx.api_keys.revoke(key_id, now))
            if record is None:
                raise UnknownUserError(f"no active API key {str(ref)[:40]!r}", "key")
            await self._record(actor, Action.KEY_REVOKE, None, key=record.prefix, name=record.name)
        self._changed(record.subject, "the API key was revoked")
        return record

    async def touch_keys(self, used: dict[int, datetime]) -> None:
        if used:
            await self._db.run(lambda tx: tx.api_keys.touch(used))

    # ------------------------------------------------------------------ helpers

    def _not_builtin(self, username: str) -> str:
        if username.casefold() == self.reserved.casefold():
            raise UserError(
                f"{self.reserved!r} is the built-in administrator: it always has every right; its password "
                "is set with `mt5-console server set-password`",
                "username",
            )
        return username

    async def _change(self, username: str, **changes: Any) -> UserRecord:
        now = self._clock()
        async with self._lock:
            user = await self._db.run(lambda tx: tx.users.change(username, now, **changes))
        if user is None:
            raise UnknownUserError(f"no user {username[:64]!r}", "username")
        return user

    async def _key_id(self, ref: str | int) -> int:
        if isinstance(ref, int):
            return ref
        text = ref.strip()
        if text.isdigit() and text.isascii():
            return int(text)
        for record in await self.keys():
            if record.prefix == text or (looks_like_key(text) and text.startswith(record.prefix + "_")):
                return record.id
        raise UnknownUserError(f"no API key {text[:13]!r} (give its id or its mt5c_ prefix)", "key")

    async def _check_scope(self, scope: Scope) -> None:
        if scope.accounts is None:
            return
        known = {a.id for a in await self._db.run(lambda tx: tx.accounts.list(), readonly=True)}
        missing = sorted(scope.accounts - known)
        if missing:
            raise UserError(
                f"no managed account with id {', '.join(map(str, missing[:10]))} (see `accounts list`)",
                "accounts",
            )

    async def _record(self, actor: str, action: Action, user: str | None, **payload: Any) -> None:
        body = {"user": user, **payload} if user is not None else payload
        await self._audit.append(actor, action, payload=body)
