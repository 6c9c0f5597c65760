"""The order of a cycle, the backoff of failing accounts, and the queue the terminals take from.

Pure bookkeeping, no I/O: the carousel service (:mod:`app.core.carousel.service`) drives it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.config import PriorityRule
from app.core.times import EPOCH
from app.models import AccountSnapshot, AccountStatus, ManagedAccount


def staleness(account: ManagedAccount, now: datetime) -> timedelta | None:
    """How old the account's last snapshot is (None: never visited)."""
    if account.last_snapshot_at is None:
        return None
    return max(timedelta(0), now - account.last_snapshot_at)


def is_stale(account: ManagedAccount, now: datetime, stale_after: timedelta) -> bool:
    """No snapshot yet, or the last one is older than ``stale_after``."""
    age = staleness(account, now)
    return age is None or age > stale_after


def order_accounts(
    accounts: Iterable[ManagedAccount],
    snapshots: Mapping[int, AccountSnapshot],
    rules: Sequence[PriorityRule],
    now: datetime,
    stale_after: timedelta,
) -> list[ManagedAccount]:
    """The accounts in the order a cycle visits them: by ``rules`` (earlier rules weigh more), then
    the least recently seen first (never seen before anything), then by id."""

    def key(account: ManagedAccount) -> tuple[object, ...]:
        parts: list[object] = []
        for rule in rules:
            if rule == "open_positions":
                latest = snapshots.get(account.id)
                parts.append(0 if latest is not None and latest.open_positions > 0 else 1)
            elif rule == "stale":
                parts.append(0 if is_stale(account, now, stale_after) else 1)
            elif rule == "errors_last":
                parts.append(1 if account.status is AccountStatus.ERROR else 0)
        parts += [account.last_snapshot_at or EPOCH, account.id]
        return tuple(parts)

    return sorted(accounts, key=key)


class RetryBook:
    """Accounts whose visits failed: how many times in a row, and when each may be tried again
    (``initial`` after the first failure, doubling up to ``maximum``)."""

    def __init__(self, initial: timedelta, maximum: timedelta) -> None:
        self.initial = initial
        self.maximum = maximum
        self._failures: dict[int, int] = {}
        self._retry_at: dict[int, datetime] = {}

    def failed(self, account_id: int, now: datetime) -> datetime:
        """Count a failure; returns when the account may be visited again."""
        failures = self._failures.get(account_id, 0) + 1
        self._failures[account_id] = failures
        delay = min(self.maximum, self.initial * (2 ** min(failures - 1, 30)))
        self._retry_at[account_id] = now + delay
        return self._retry_at[account_id]

    def succeeded(self, account_id: int) -> None:
        self._failures.pop(account_id, None)
        self._retry_at.pop(account_id, None)

    def due(self, account_id: int, now: datetime) -> bool:
        retry_at = self._retry_at.get(account_id)
        return retry_at is None or now >= retry_at

    def retry_at(self, account_id: int) -> datetime | None:
        return self._retry_at.get(account_id)

    def failures(self, account_id: int) -> int:
        return self._failures.get(account_id, 0)

    def keep_only(self, account_ids: Iterable[int]) -> None:
        """Forget accounts that are gone (removed or disabled)."""
        keep = set(account_ids)
        for book in (self._failures, self._retry_at):
            for account_id in [a for a in book if a not in keep]:
                del book[account_id]

    def schedule(self) -> dict[int, datetime]:
        return dict(self._retry_at)


@dataclass
class CycleQueue:
    """The accounts of one cycle, in order. Each terminal takes the first account it may visit; an
    account its terminal could not visit goes back to the front for another (or the same) terminal."""

    accounts: list[ManagedAccount]

    def take(self, accepts: Callable[[ManagedAccount], bool]) -> ManagedAccount | None:
        for index, account in enumerate(self.accounts):
            if accepts(account):
                return self.accounts.pop(index)
        return None

    def has(self, accepts: Callable[[ManagedAccount], bool]) -> bool:
        return any(accepts(account) for account in self.accounts)

    def put_back(self, account: ManagedAccount) -> None:
        self.accounts.insert(0, account)

    def __len__(self) -> int:
        return len(self.accounts)
