"""One visit, as a node's worker makes it for a job: the one-machine carousel's visit
(:class:`~app.core.carousel.visit.Visitor`: log in, check, snapshot, deals), stored so that a job run
twice stores nothing twice.

* A cycle's visit is *claimed* first (``cycle_visits``: visiting, on this node and terminal); a job
  whose visit has ended already — stored by a node that died before telling the job engine, or
  cancelled — does nothing.
* The visit is stored in one transaction that ends the cycle's visit as done: if another run ended it
  first, that transaction is rolled back (deals are one row per account and ticket in any case, and a
  snapshot of the same moment replaces itself).
* A failure marks the account with its reason and its retry backoff, in the same transaction.
* The terminal's own trouble (restarting, disconnected) is not the account's: the job goes back to the
  queue for another terminal (:data:`~app.distributed.jobs.VISIT_TRIES` tries in all).
* A password this node's keyring no longer holds: the node stops announcing the account, and the visit
  goes back to the queue for a node that can.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.config import AccountsSettings, CarouselSettings
from app.core.accounts import AccountRegistry
from app.core.carousel.errors import TerminalUnavailable, VisitFailed
from app.core.carousel.visit import Collected, LatestDeal, Visitor
from app.core.credentials import CredentialMissing
from app.core.pnl import PnLCalendar
from app.core.storage import Database, Tx
from app.core.times import utc_now
from app.distributed.jobs import VISIT_TRIES
from app.models import AccountStatus, ManagedAccount
from app.mt5.client import TerminalClient

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class VisitPlace:
    """Where a visit runs: the node and one of its terminals."""

    node: str
    terminal: TerminalClient

    @property
    def terminal_id(self) -> str:
        return self.terminal.terminal_id


async def _discard(work: asyncio.Future[object] | asyncio.Future[Collected] | None) -> None:
    """Let a terminal step that is no longer wanted finish (a login is never cut off half-way), and
    forget its outcome."""
    if work is not None:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await work


Claim = asyncio.Future[tuple[bool, ManagedAccount | None, datetime | None]]


class _LatestDealOf:
    """The newest stored deal's time, from the claim's transaction, when the Visitor awaits it (only
    once the login and snapshot worked): nothing is made until then, so a visit that fails at its
    login leaves no coroutine behind that was never awaited."""

    def __init__(self, claim: Claim) -> None:
        self._claim = claim

    def __await__(self) -> Generator[Any, None, datetime | None]:
        return self._read().__await__()

    async def _read(self) -> datetime | None:
        return (await asyncio.shield(self._claim))[2]


class _EndedAlready(Exception):
    """Another run of this job ended the visit first: roll back, store nothing."""


class NodeVisits:
    """Makes the visits of one node's jobs. ``not_here(account_id)`` is called when this node's
    keyring turns out not to hold the account's password after all."""

    def __init__(
        self,
        db: Database,
        registry: AccountRegistry,
        carousel: CarouselSettings,
        accounts: AccountsSettings,
        *,
        not_here: Callable[[int], Awaitable[None]],
        known: Callable[[int], ManagedAccount | None] = lambda _: None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self._registry = registry
        self._settings = carousel
        self._accounts = accounts
        self._not_here = not_here
        self._known = known
        self._clock = clock
        self._visitor = Visitor(registry, carousel, clock)
        self.stored = 0  # visits this node stored (its status line says so)

    async def run(self, place: VisitPlace, account_id: int, cycle: int, attempt: int) -> str:
        """Make the visit; returns what became of it, in a few words (the job's result: no secret).

        The store's part at the start (claim the visit, read the account and its newest deal) runs
        while the terminal logs in, when this node knows the account already: a round trip to a
        distant store is then off the visit's path."""
        now = self._clock()

        def start(tx: Tx) -> tuple[bool, ManagedAccount | None, datetime | None]:
            if cycle and not tx.cycles.claim(cycle, account_id, place.node, place.terminal_id, now):
                return False, None, None
            return True, tx.accounts.get(account_id), tx.deals.latest_time(account_id)

        claim = asyncio.ensure_future(self._db.run(start))
        known = self._known(account_id)
        collecting: asyncio.Future[Collected] | None = None
        try:
            if known is not None and known.enabled:
                collecting = asyncio.ensure_future(self._collect(place, known, _LatestDealOf(claim)))
            claimed, account, latest_deal = await claim
            if not claimed or account is None or not account.enabled or (known and account.key != known.key):
                await _discard(collecting)
                if not claimed:
                    return "ended already"
                what = "removed" if account is None else "disabled"
                await self._end(cycle, account_id, "cancelled", f"the account is {what}")
                return f"account {what}"
            if collecting is None:
                collecting = asyncio.ensure_future(self._collect(place, account, latest_deal))
            collected = await collecting
            collecting = None
            return await self._store(account, collected, cycle)
        except TerminalUnavailable as exc:
            if attempt + 1 < VISIT_TRIES:
                if cycle:
                    note = str(exc)
                    await self._db.run(lambda tx: tx.cycles.requeue(cycle, account_id, note))
                raise  # the job engine puts it back in the queue
            reason = f"no terminal could visit it: {exc}"
            await self._failed(account_id, cycle, reason)
            return f"failed: {reason}"
        except VisitFailed as exc:
            await self._failed(account_id, cycle, exc.reason)
            return f"failed: {exc.reason}"
        finally:
            await _discard(collecting)
            if not claim.done():
                claim.cancel()

    async def _collect(
        self, place: VisitPlace, account: ManagedAccount, latest_deal: LatestDeal
    ) -> Collected:
        """The password from this node's keyring, then the Visitor's login, check, snapshot, deals."""
        try:
            password = await self._registry.password(account)
        except CredentialMissing:
            await self._not_here(account.id)
            raise TerminalUnavailable(f"node {place.node} has no password for {account.key}") from None
        except Exception as exc:  # noqa: BLE001 - the keyring's trouble, in the Visitor's words
            raise VisitFailed(account.key, str(exc)) from None
        return await self._visitor.collect(place.terminal, account, password, latest_deal=latest_deal)

    async def _store(self, account: ManagedAccount, collected: Collected, cycle: int) -> str:
        calendar = PnLCalendar.for_server(self._accounts, account.server)
        now = self._clock()

        def store(tx: Tx) -> bool:
            if cycle and not tx.cycles.end(cycle, account.id, "done", now):
                raise _EndedAlready
            visit = tx.record_visit(
                account.id,
                collected.snapshot,
                collected.deals,
                calendar=calendar,
                deals_synced_at=collected.deals_synced_at,
                now=now,
            )
            tx.cycles.succeeded(account.id)
            return visit is not None

        try:
            stored = await self._db.run(store)
        except _EndedAlready:
            return "ended already"
        if not stored:
            return "account removed"
        self.stored += 1
        return f"stored: {len(collected.deals)} deal(s) fetched"

    async def _failed(self, account_id: int, cycle: int, reason: str) -> None:
        now = self._clock()
        settings = self._settings

        def record(tx: Tx) -> None:
            tx.accounts.set_status(account_id, AccountStatus.ERROR, reason, now)
            tx.cycles.failed(account_id, now, settings.retry_initial_s, settings.retry_max_s)
            if cycle:
                tx.cycles.end(cycle, account_id, "failed", now, reason)

        log.warning("visit of account %d failed: %s", account_id, reason)
        await self._db.run(record)

    async def _end(self, cycle: int, account_id: int, state: str, reason: str) -> None:
        if cycle:
            now = self._clock()
            await self._db.run(lambda tx: tx.cycles.end(cycle, account_id, state, now, reason))  # type: ignore[arg-type]
