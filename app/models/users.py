"""Who may do what: roles, account scopes and the access they give (users and API keys alike).

The policy lives here, once, for every adapter (REST, Socket.IO, the window): an :class:`Access` is
asked before a service acts (:meth:`Access.require`) and before an account's data leaves
(:meth:`Access.sees`).

=========  ======================================================================================
role       may
=========  ======================================================================================
admin      everything: users, API keys, settings, trading, every account
trader     read; trade the live account; manage (add, remove, sync) the accounts in their scope;
           start and stop the carousel
viewer     read only
=========  ======================================================================================

A scope is "every account" or a list of managed account ids: a user sees only those accounts, the
live account only when it is one of them, and the logs and audit trail (which name every account)
only with a scope of every account.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal


class Role(StrEnum):
    ADMIN = "admin"
    TRADER = "trader"
    VIEWER = "viewer"

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise AccessError(
                f"unknown role {text[:20]!r}: one of {', '.join(r.value for r in cls)}", "role"
            ) from None


class Permission(StrEnum):
    READ = "read"  # quotes, charts, the accounts in scope
    TRADE = "trade"  # place, close, modify on the live account
    MANAGE_ACCOUNTS = "manage_accounts"  # add, remove, sync the accounts in scope
    CAROUSEL = "carousel"  # start and stop it
    ADMIN = "admin"  # users, API keys, settings


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.TRADER: frozenset(
        {Permission.READ, Permission.TRADE, Permission.MANAGE_ACCOUNTS, Permission.CAROUSEL}
    ),
    Role.VIEWER: frozenset({Permission.READ}),
}


class AccessError(ValueError):
    """A bad role, scope, user name or key: ``field`` names what was wrong."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class ForbiddenError(Exception):
    """The caller's role or scope does not allow this; nothing was done (REST: 403 ``forbidden``)."""


MAX_SCOPE = 1000


@dataclass(frozen=True, slots=True)
class Scope:
    """The managed accounts a user sees: ``accounts`` None is every account."""

    accounts: frozenset[int] | None = None

    @property
    def everything(self) -> bool:
        return self.accounts is None

    def covers(self, account_id: int) -> bool:
        return self.accounts is None or account_id in self.accounts

    def to_json(self) -> list[int] | None:
        return None if self.accounts is None else sorted(self.accounts)

    def describe(self) -> str:
        return "all" if self.accounts is None else ",".join(str(a) for a in sorted(self.accounts)) or "none"

    @classmethod
    def of(cls, accounts: Iterable[int] | None) -> Scope:
        if accounts is None:
            return cls(None)
        ids = frozenset(accounts)
        if len(ids) > MAX_SCOPE:
            raise AccessError(f"a scope lists at most {MAX_SCOPE} accounts", "accounts")
        for value in ids:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise AccessError(f"account ids are whole numbers from 1: {value!r}", "accounts")
        return cls(ids)

    @classmethod
    def parse(cls, text: str) -> Scope:
        """``all`` or a comma-separated list of account ids (``3,7``), as the command line takes it."""
        cleaned = text.strip()
        if cleaned.lower() == "all":
            return cls(None)
        ids: list[int] = []
        for part in cleaned.split(","):
            part = part.strip()
            if not part.isdigit() or not part.isascii() or int(part) < 1:
                raise AccessError(
                    f"--accounts takes `all` or account ids like 3,7 (not {part[:20]!r})", "accounts"
                )
            ids.append(int(part))
        return cls.of(ids)


@dataclass(frozen=True, slots=True)
class Access:
    """What one caller may do: its role's permissions within its scope."""

    role: Role
    scope: Scope = field(default_factory=Scope)

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission, what: str = "") -> None:
        if not self.may(permission):
            doing = f" {what}" if what else ""
            raise ForbiddenError(f"the {self.role.value} role may not{doing} ({permission.value} is needed)")

    def sees(self, account_id: int) -> bool:
        return self.scope.covers(account_id)

    def require_everything(self, what: str) -> None:
        """For data that names every account (logs, the audit trail, the terminals)."""
        if not self.scope.everything:
            raise ForbiddenError(f"{what} names every account: it needs a scope of all accounts")


FULL_ACCESS = Access(Role.ADMIN)


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user of the server as stored (the hash never leaves the server)."""

    id: int
    username: str
    role: Role
    scope: Scope
    version: int  # every change bumps it: tokens issued before stop working
    created_at: datetime
    updated_at: datetime
    password_hash: str = field(repr=False, default="")

    @property
    def access(self) -> Access:
        return Access(self.role, self.scope)


KEY_PREFIX = "mt5c_"


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """An API key as stored: its visible ``prefix`` (``mt5c_xxxxxxxx``) and the hash of the whole key."""

    id: int
    prefix: str
    name: str
    role: Role
    scope: Scope
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    hash: str = field(repr=False, default="")

    @property
    def access(self) -> Access:
        return Access(self.role, self.scope)

    @property
    def subject(self) -> str:
        return f"key:{self.prefix}"

    def expires_ts(self) -> float:
        return math.inf if self.expires_at is None else self.expires_at.timestamp()

    def status(self, now: datetime) -> Literal["active", "expired", "revoked"]:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"
