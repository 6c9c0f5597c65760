"""The wire format of users, API keys and ``/api/me`` (never a hash, a key only when it is made)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import Field

from app.core.exposure import SymbolExposure
from app.core.money import currency_digits, rounded
from app.models.users import ApiKeyRecord, Scope, UserRecord
from app.server.params import QueryDatetime
from app.server.schemas import NO_CONTROL_PATTERN, _In, _Out, utc

RoleName = Literal["admin", "trader", "viewer"]
AccountIds = list[int] | None  # null: every account


def _scope(accounts: AccountIds) -> Scope:
    return Scope.of(accounts)


class UserIn(_In):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    role: RoleName
    accounts: list[int] | None = Field(default=None, max_length=1000, description="null: every account")

    def scope(self) -> Scope:
        return _scope(self.accounts)


class RoleIn(_In):
    role: RoleName


class PasswordIn(_In):
    password: str = Field(min_length=1, max_length=1024)


class AccountsIn(_In):
    accounts: list[int] | None = Field(max_length=1000, description="null: every account")

    def scope(self) -> Scope:
        return _scope(self.accounts)


class UserRecordOut(_Out):
    username: str
    role: str
    accounts: list[int] | None  # null: every account
    builtin: bool = False  # the administrator whose password `server set-password` sets
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def of(cls, u: UserRecord) -> UserRecordOut:
        return cls(
            username=u.username,
            role=u.role.value,
            accounts=u.scope.to_json(),
            created_at=utc(u.created_at),
            updated_at=utc(u.updated_at),
        )


class KeyIn(_In):
    name: str = Field(min_length=1, max_length=64, pattern=NO_CONTROL_PATTERN)
    role: RoleName
    accounts: list[int] | None = Field(default=None, max_length=1000, description="null: every account")
    expires_at: QueryDatetime | None = Field(default=None, description="ISO 8601; null: never")

    def scope(self) -> Scope:
        return _scope(self.accounts)

    def expiry(self) -> datetime | None:
        return None if self.expires_at is None else utc(self.expires_at)


class KeyOut(_Out):
    id: int
    prefix: str
    name: str
    role: str
    accounts: list[int] | None
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    status: Literal["active", "expired", "revoked"]

    @classmethod
    def of(cls, k: ApiKeyRecord) -> KeyOut:
        status = k.status(datetime.now(UTC))
        return cls(
            id=k.id,
            prefix=k.prefix,
            name=k.name,
            role=k.role.value,
            accounts=k.scope.to_json(),
            created_by=k.created_by,
            created_at=utc(k.created_at),
            expires_at=None if k.expires_at is None else utc(k.expires_at),
            revoked_at=None if k.revoked_at is None else utc(k.revoked_at),
            last_used_at=None if k.last_used_at is None else utc(k.last_used_at),
            status=status,
        )


class NewKeyOut(KeyOut):
    key: str = Field(description="the key itself: shown this once, only its hash is kept")


class MeOut(_Out):
    username: str
    role: str
    kind: Literal["admin", "user", "key"]
    accounts: list[int] | None  # null: every account
    permissions: list[str]
    expires_at: datetime | None


class ExposureOut(_Out):
    """Net volume and floating P/L of one symbol over the caller's accounts (their latest snapshots)."""

    symbol: str
    side: Literal["long", "short", "flat"]
    net_volume: float
    long_volume: float
    short_volume: float
    average_price: float | None
    floating: dict[str, float]  # currency -> P/L
    accounts: int
    positions: int
    oldest: datetime
    newest: datetime

    @classmethod
    def of(cls, e: SymbolExposure) -> ExposureOut:
        volume = 8  # lots: no float noise
        return cls(
            symbol=e.symbol,
            side=e.side,
            net_volume=rounded(e.net_volume, volume),
            long_volume=rounded(e.long_volume, volume),
            short_volume=rounded(e.short_volume, volume),
            average_price=None if e.average_price is None else rounded(e.average_price, e.price_digits),
            floating={currency: rounded(pl, currency_digits(currency)) for currency, pl in e.floating},
            accounts=e.accounts,
            positions=e.positions,
            oldest=utc(e.oldest),
            newest=utc(e.newest),
        )
