"""One visit to one account on one terminal: log in, check, snapshot, fetch deals, store.

Every step has its own timeout (``[carousel]`` settings) and every failure becomes a one-line reason
that the account's status shows — never a password: the password is revealed only as the argument of
the terminal's login. A failure of the terminal itself (not ready, restarting) is not the account's
fault and is raised as :class:`TerminalUnavailable` so that the account can go to another terminal.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.config import CarouselSettings
from app.core.account_snapshot import snapshot_of
from app.core.accounts import AccountRegistry
from app.core.carousel.errors import TerminalUnavailable, VisitFailed
from app.core.credentials import CredentialError, Secret
from app.core.storage import Visit
from app.core.times import from_ms, to_ms
from app.models import (
    AccountInfo,
    AccountSnapshot,
    AuthorizationError,
    CallTimeoutError,
    Deal,
    ManagedAccount,
    NotConnectedError,
    NotReadyError,
    Order,
    Position,
    TerminalError,
    WorkerCrashedError,
)
from app.mt5.client import TerminalClient

# Deals are fetched up to this far after "now": trade servers stamp deals with their own clock, which
# may run hours ahead of UTC.
DEALS_HORIZON = timedelta(days=7)


class _Unread:
    """Not read yet (the newest stored deal's time, which may itself be None)."""


UNREAD = _Unread()
LatestDeal = datetime | None | _Unread | Awaitable[datetime | None]


@dataclass(frozen=True, slots=True)
class Collected:
    """What a visit read from the terminal, before it is stored."""

    snapshot: AccountSnapshot
    deals: tuple[Deal, ...]
    deals_synced_at: datetime
    deals_since: datetime | None


def same_account(info: AccountInfo, login: int, server: str) -> bool:
    """The terminal reports the account ``login@server`` (server names compare without case)."""
    return info.login == login and info.server.casefold() == server.casefold()


def _terminal_problem(exc: TerminalError) -> bool:
    """The terminal could not act (it never got the call, or its worker died): not the account's fault."""
    return isinstance(exc, NotReadyError | WorkerCrashedError)


class Visitor:
    """Carries out visits; shared by every terminal of the carousel."""

    def __init__(
        self,
        registry: AccountRegistry,
        settings: CarouselSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self._registry = registry
        self._settings = settings
        self._clock = clock

    async def password(self, account: ManagedAccount) -> Secret:
        """The account's password from the keyring, within the store timeout."""
        try:
            return await asyncio.wait_for(self._registry.password(account), self._settings.store_timeout_s)
        except CredentialError as exc:
            raise VisitFailed(account.key, str(exc)) from None
        except TimeoutError:
            raise VisitFailed(
                account.key, f"the OS keyring did not answer within {self._settings.store_timeout_s:g} s"
            ) from None

    async def collect(
        self,
        terminal: TerminalClient,
        account: ManagedAccount,
        password: Secret | None,
        *,
        latest_deal: LatestDeal = UNREAD,
    ) -> Collected:
        """Log in (unless ``password`` is None: the terminal is on the account already), check that the
        terminal is on the account, take the snapshot and fetch the deals. ``latest_deal``: the time of
        the account's newest stored deal, if the caller reads it (a value, or an awaitable that gives
        it, awaited only when the deals are fetched); else it is read here."""
        if password is not None:
            info = await self._login(terminal, account, password)
        else:
            info = await self._step(account, "account check", self._settings.snapshot_timeout_s,
                                    lambda limit: terminal.call("account", timeout_s=limit))  # fmt: skip
        if not same_account(info, account.login, account.server):
            raise VisitFailed(
                account.key,
                f"terminal {terminal.terminal_id} reports account {info.login}@{info.server} instead",
            )
        snapshot = await self._snapshot(terminal, account)
        deals, since, synced_at = await self._deals(terminal, account, latest_deal)
        return Collected(snapshot, deals, synced_at, since)

    async def store(self, account: ManagedAccount, collected: Collected) -> Visit | None:
        """Store the visit (deals, snapshot with its P/L, status ok) in one transaction."""
        try:
            return await asyncio.wait_for(
                self._registry.record_visit(
                    account, collected.snapshot, collected.deals, deals_synced_at=collected.deals_synced_at
                ),
                self._settings.store_timeout_s,
            )
        except TimeoutError:
            raise VisitFailed(
                account.key, f"storing the visit took longer than {self._settings.store_timeout_s:g} s"
            ) from None

    # ------------------------------------------------------------------ steps

    async def _login(
        self, terminal: TerminalClient, account: ManagedAccount, password: Secret
    ) -> AccountInfo:
        limit = self._settings.login_timeout_s
        try:
            return await terminal.login(account.login, password.reveal(), account.server, timeout_s=limit)
        except AuthorizationError as exc:
            raise VisitFailed(
                account.key, f"login refused (wrong password, login or server?): {exc.message}"
            ) from None
        except CallTimeoutError:
            raise VisitFailed(account.key, f"login timed out after {limit:g} s") from None
        except TerminalError as exc:
            if _terminal_problem(exc):
                raise TerminalUnavailable(f"terminal {terminal.terminal_id}: {exc.message}") from None
            if isinstance(exc, NotConnectedError):
                raise VisitFailed(account.key, f"no connection to the trade server: {exc.message}") from None
            raise VisitFailed(account.key, f"login failed: {exc.message}") from None

    async def _snapshot(self, terminal: TerminalClient, account: ManagedAccount) -> AccountSnapshot:
        async def read(limit: float) -> tuple[AccountInfo, list[Position], list[Order]]:
            deadline = time.monotonic() + limit

            def left() -> float:
                return max(0.05, deadline - time.monotonic())

            info: AccountInfo = await terminal.call("account", timeout_s=left())
            positions: list[Position] = await terminal.call("positions", timeout_s=left())
            orders: list[Order] = await terminal.call("orders", timeout_s=left())
            return info, positions, orders

        limit = self._settings.snapshot_timeout_s
        info, positions, orders = await self._step(account, "snapshot", limit, read)
        if not same_account(info, account.login, account.server):
            raise VisitFailed(account.key, f"the terminal left the account during the snapshot ({info.key})")
        return snapshot_of(account.key, info, positions, len(orders), self._now())

    async def _deals(
        self, terminal: TerminalClient, account: ManagedAccount, latest: LatestDeal
    ) -> tuple[tuple[Deal, ...], datetime | None, datetime]:
        since = await self._deals_since(account, latest)
        synced_at = self._now()
        until = synced_at + DEALS_HORIZON

        async def fetch(limit: float) -> list[Deal]:
            deals: list[Deal] = await terminal.call("history_deals", since or 0, until, timeout_s=limit)
            return deals

        deals = await self._step(account, "fetching deals", self._settings.deals_timeout_s, fetch)
        return tuple(deals), since, synced_at

    async def _deals_since(self, account: ManagedAccount, latest: LatestDeal) -> datetime | None:
        """Where the deal fetch starts: a little (the overlap) before both the last sync and the newest
        stored deal — whichever is earlier, since the trade server's clock is not ours. None: from the
        beginning (the first visit), or ``history_days`` back."""
        overlap = timedelta(seconds=self._settings.deals_overlap_s)
        if isinstance(latest, _Unread):
            latest = await asyncio.wait_for(
                self._registry.latest_deal_time(account.id), self._settings.store_timeout_s
            )
        elif inspect.isawaitable(latest):
            latest = await asyncio.wait_for(latest, self._settings.store_timeout_s)
        marks = [m for m in (account.last_deal_sync_at, latest) if m is not None]
        if marks:
            return min(marks) - overlap
        if self._settings.history_days:
            return self._clock() - timedelta(days=self._settings.history_days)
        return None

    def _now(self) -> datetime:
        """Now, to the millisecond (as the database keeps it: what a visit returns is what it stored)."""
        return from_ms(to_ms(self._clock()))

    async def _step[T](
        self, account: ManagedAccount, what: str, limit: float, run: Callable[[float], Awaitable[T]]
    ) -> T:
        """Run one terminal step within ``limit`` seconds, turning failures into one-line reasons."""
        try:
            return await run(limit)
        except CallTimeoutError:
            raise VisitFailed(account.key, f"{what} timed out after {limit:g} s") from None
        except TerminalError as exc:
            # Logged in already: a lost connection now is the terminal's trouble, not the account's.
            if _terminal_problem(exc) or isinstance(exc, NotConnectedError):
                raise TerminalUnavailable(f"{what}: {exc.message}") from None
            raise VisitFailed(account.key, f"{what} failed: {exc.message}") from None
