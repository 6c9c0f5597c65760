"""The carousel: a runtime service that keeps visiting the managed accounts on the pool's terminals.

Each cycle takes the enabled accounts that are not waiting out a retry backoff, orders them
(``[carousel] priority``: open positions and stale accounts first, failing ones last, then the least
recently seen) and lets every terminal take the next account it may visit — one visit per terminal at
a time, as many in parallel as there are terminals, no wait between accounts. An account assigned to
a terminal is visited only there. A failing account is marked with its reason and retried with
backoff in a later cycle; it never holds up the others (each visit step has its own timeout, and
the other terminals keep going). Cycles start at most every ``cycle_interval_s``.

Terminals: the pool's terminals other than the live one. With a pool of one, the live terminal is
shared (see :mod:`app.core.carousel.shared`): borrowed for each visit, then put back on the live
account; it stays home ``shared_pause_s`` between visits so that orders can go through.

Everything runs on the app's event loop; nothing here blocks it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.audit import Action, Actor, AuditAppender
from app.config import CarouselSettings
from app.core.accounts import AccountRegistry, UnknownAccountError
from app.core.carousel.errors import (
    CarouselError,
    NoTerminalError,
    SharingRefused,
    TerminalUnavailable,
    VisitFailed,
)
from app.core.carousel.proof import ProvenPasswords, verify_by_visit
from app.core.carousel.schedule import CycleQueue, RetryBook, order_accounts, staleness
from app.core.carousel.shared import HomePasswords, SharedTerminal
from app.core.carousel.visit import Visitor
from app.core.hub import EventHub, Topic
from app.core.storage import Visit
from app.core.times import utc_now
from app.models import AccountSnapshot, AccountStatus, CarouselStatus, ManagedAccount
from app.mt5.client import TerminalClient
from app.mt5.pool import TerminalPool
from app.retry import Backoff

log = logging.getLogger(__name__)

# A terminal that cannot make a visit puts the account back; after this many tries in one cycle the
# account is marked as failing instead (a login that crashes every terminal's worker, say).
MAX_UNAVAILABLE_PER_CYCLE = 3
# The runtime gives each service 10 s to stop: visits under way get ``stop_grace_s`` of it, a borrowed
# live terminal the rest to get home.
STOP_BUDGET_S = 9.0


@dataclass(frozen=True, slots=True)
class Lane:
    """A terminal the carousel visits on. ``shared``: the live terminal, borrowed for each visit."""

    terminal: TerminalClient
    shared: bool = False
    takes_unassigned: bool = True

    @property
    def terminal_id(self) -> str:
        return self.terminal.terminal_id

    def accepts(self, account: ManagedAccount) -> bool:
        if account.terminal_id:
            return account.terminal_id == self.terminal_id
        return self.takes_unassigned


@dataclass
class CycleReport:
    """What one cycle did: the stored visits, and the accounts that failed with their reasons."""

    cycle: int
    visits: list[Visit] = field(default_factory=list)
    failures: dict[int, str] = field(default_factory=dict)
    duration_s: float = 0.0
    accounts: int = 0


class Carousel:
    """The carousel service (``name = "carousel"``). See the module docstring for the behaviour."""

    name = "carousel"

    def __init__(
        self,
        registry: AccountRegistry,
        pool: TerminalPool,
        hub: EventHub,
        settings: CarouselSettings,
        *,
        audit: AuditAppender | None = None,
        home_passwords: HomePasswords | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._registry = registry
        self._pool = pool
        self._hub = hub
        self.settings = settings
        self._audit = audit
        self._clock = clock
        self._visitor = Visitor(registry, settings, clock)
        self._shared = SharedTerminal(
            pool,
            registry,
            settings,
            home_passwords=home_passwords,
            on_note=lambda note: self._set_note("shared", note),
            giving_up=lambda: self._closing,
        )
        self._retries = RetryBook(
            timedelta(seconds=settings.retry_initial_s), timedelta(seconds=settings.retry_max_s)
        )
        self._proven = ProvenPasswords()
        self._verifying: set[asyncio.Task[None]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._rotation: asyncio.Task[None] | None = None
        self._running = False  # the rotation is on (user "start")
        self._accepting = False  # terminals may take new accounts (a cycle runs and is not halted)
        self._paused = False
        self._closing = False
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._wake = asyncio.Event()
        self._changed = asyncio.Condition()
        self._in_flight = 0
        self._cycle_lock = asyncio.Lock()
        # what the status shows
        self._cycle = 0
        self._cycle_started_at: datetime | None = None
        self._visited = 0
        self._in_cycle = 0
        self._errors = 0
        self._current: dict[str, int] = {}
        self._last_cycle_s: float | None = None
        self._next_due: datetime | None = None
        self._notes: dict[str, str] = {}
        self._status = CarouselStatus()

    # ------------------------------------------------------------------ lifecycle (a runtime service)

    async def start(self) -> None:
        self._closing = False
        self._publish(force=True)
        if self.settings.autostart:
            try:
                await self._start_rotation(Actor.SYSTEM, autostart=True)
            except Exception as exc:  # noqa: BLE001 - the app starts anyway; the carousel says why not
                log.exception("the carousel could not start")
                self._set_note("start", f"could not start: {exc}")

    async def stop(self) -> None:
        """Stop rotating (no audit entry: the app is shutting down) and let a borrowed live terminal
        get home first, within the stop grace."""
        self._closing = True
        started = time.monotonic()
        await self._stop_rotation()
        for task in list(self._verifying):
            task.cancel()  # a borrowed live terminal still gets home: its return is shielded
        await asyncio.gather(*self._verifying, return_exceptions=True)
        left = max(0.5, STOP_BUDGET_S - (time.monotonic() - started))
        if not await self._shared.wait_returned(left):
            log.error("the carousel stopped before the live terminal was back on the live account")
        self._publish()

    # ------------------------------------------------------------------ commands

    async def run(self, actor: str) -> CarouselStatus:
        """Start rotating (a user's "start": recorded in the audit trail as ``carousel.start``)."""
        if self._closing:
            raise CarouselError("the carousel is shutting down")
        if not self._running:
            await self._start_rotation(actor)
        return self.status()

    async def halt(self, actor: str) -> CarouselStatus:
        """Stop rotating (a user's "stop", recorded as ``carousel.stop``). Visits under way may finish
        within ``stop_grace_s``; a borrowed live terminal is always brought home first."""
        if not self._running:
            return self.status()
        cycle, visited, total = self._cycle, self._visited, self._in_cycle
        await self._stop_rotation()
        if self._audit is not None:
            await self._audit.append(
                actor,
                Action.CAROUSEL_STOP,
                payload={"cycle": cycle, "visited_in_cycle": visited, "accounts_in_cycle": total},
            )
        log.info("carousel stopped by %s", actor)
        return self.status()

    def pause(self) -> None:
        """Finish the visits under way, then take no more accounts until :meth:`resume`."""
        if not self._paused:
            self._paused = True
            self._resumed.clear()
            log.info("carousel paused")
            self._publish()

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            self._resumed.set()
            self._wake.set()
            log.info("carousel resumed")
            self._publish()

    def status(self) -> CarouselStatus:
        return self._build_status()

    async def sync_now(self, account_id: int) -> AccountSnapshot:
        """Visit one account now, on the first free terminal that may visit it (after the visit under
        way there, if all are busy), whether or not the carousel is running.

        Returns the stored snapshot (with its P/L). Raises :class:`UnknownAccountError` for an
        unknown account, :class:`NoTerminalError` when no terminal may visit it, :class:`VisitFailed`
        (the account is marked as failing, with the reason) when the visit fails, and
        :class:`CarouselError` when no terminal could make the visit now.
        """
        if self._closing:
            raise CarouselError("the carousel is shutting down")
        account = await self._registry.get(account_id)
        lanes = [lane for lane in self._lanes() if lane.accepts(account)]
        if not lanes:
            raise NoTerminalError(self._no_terminal_reason(account))
        lanes.sort(key=lambda lane: self._lock(lane.terminal_id).locked())
        problems: list[str] = []
        for lane in lanes:
            try:
                visit = await self._visit(lane, account)
            except TerminalUnavailable as exc:
                problems.append(str(exc))
                continue
            except VisitFailed as exc:
                await self._record_failure(account, exc.reason)
                raise
            if visit is None:
                raise UnknownAccountError(f"account {account.key} was removed during the visit")
            self._retries.succeeded(account.id)
            return visit.snapshot
        raise CarouselError(f"no terminal could visit {account.key} now: {'; '.join(problems)}")

    def verify(self, account: ManagedAccount) -> None:
        """Check the account's (new) password by a login now, in the background: the registry calls
        this when an account is added or its password changed, so a wrong one shows as failing at once
        instead of at the next cycle — and is never shown as ok (the visit logs in even when the live
        terminal is on that account already, since no login has proven this password yet)."""
        self._proven.forget(account.id)
        if self._closing:
            return
        task = asyncio.create_task(self._verify(account), name=f"carousel-verify-{account.id}")
        self._verifying.add(task)
        task.add_done_callback(self._verifying.discard)

    async def _verify(self, account: ManagedAccount) -> None:
        await verify_by_visit(self.sync_now, account)

    async def run_cycle(self) -> CycleReport:
        """Run one cycle now and return what it did (the command line's ``accounts sync --all``).
        Not while the rotation runs: it has cycles of its own."""
        if self._running:
            raise CarouselError("the carousel is running: it visits every account already")
        self._accepting = True
        try:
            return await self._run_cycle()
        finally:
            self._accepting = False
            self._publish()

    # ------------------------------------------------------------------ what else the views want

    def staleness(self, account: ManagedAccount) -> timedelta | None:
        """How old the account's last snapshot is (None: never visited)."""
        return staleness(account, self._clock())

    def is_stale(self, account: ManagedAccount) -> bool:
        age = self.staleness(account)
        return age is None or age.total_seconds() > self.settings.stale_after_s

    def retry_schedule(self) -> dict[int, datetime]:
        """When each failing account will be tried again, by account id."""
        return self._retries.schedule()

    # ------------------------------------------------------------------ the rotation

    async def _start_rotation(self, actor: str, *, autostart: bool = False) -> None:
        if self._rotation is not None and not self._rotation.done():
            await asyncio.gather(self._rotation, return_exceptions=True)  # finishing a halt
        if self._audit is not None:
            payload: dict[str, object] = {"terminals": list(self._terminal_ids())}
            if autostart:
                payload["autostart"] = True
            await self._audit.append(actor, Action.CAROUSEL_START, payload=payload)
        self._running = True
        self._wake.clear()
        self._rotation = asyncio.create_task(self._rotate(), name="carousel")
        log.info("carousel started by %s on %s", actor, ", ".join(self._terminal_ids()) or "no terminal")
        self._publish()

    async def _stop_rotation(self) -> None:
        self._running = False
        self._accepting = False
        self._resumed.set()
        self._wake.set()
        async with self._changed:
            self._changed.notify_all()
        rotation = self._rotation
        if rotation is not None and not rotation.done():
            done, _ = await asyncio.wait({rotation}, timeout=self.settings.stop_grace_s)
            if not done:
                log.warning("carousel: visits under way did not end within %g s; abandoning them",
                            self.settings.stop_grace_s)  # fmt: skip
                rotation.cancel()
                await asyncio.gather(rotation, return_exceptions=True)
        self._next_due = None
        self._publish()

    async def _rotate(self) -> None:
        failures = Backoff(initial=5.0, maximum=300.0)
        while self._running:
            while self._running and self._paused:
                await self._resumed.wait()
            if not self._running:
                break
            started = time.monotonic()
            self._accepting = True
            try:
                await self._run_cycle()
                self._set_note("cycle", "")
                failures.reset()
                pause = max(0.0, self.settings.cycle_interval_s - (time.monotonic() - started))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the rotation outlives a bad cycle
                log.exception("carousel cycle %d failed", self._cycle)
                self._set_note("cycle", f"cycle {self._cycle} failed: {exc}")
                pause = failures.next_delay()
            if not self._running:
                break
            self._next_due = self._clock() + timedelta(seconds=pause)
            self._publish()
            await self._sleep(pause)
            self._next_due = None

    async def _sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (and while paused); a halt or a resume cuts it short."""
        deadline = time.monotonic() + seconds
        while self._running:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not self._paused:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), None if self._paused else remaining)

    async def _may_go_on(self) -> bool:
        """Wait while paused; False once the carousel should stop taking accounts."""
        while self._accepting and self._paused:
            await self._resumed.wait()
        return self._accepting

    # ------------------------------------------------------------------ one cycle

    async def _run_cycle(self) -> CycleReport:
        async with self._cycle_lock:
            now = self._clock()
            accounts = await self._registry.list(enabled_only=True)
            snapshots = await self._registry.latest_snapshots(enabled_only=True)
            self._retries.keep_only(a.id for a in accounts)
            due = [a for a in accounts if self._retries.due(a.id, now)]
            stale_after = timedelta(seconds=self.settings.stale_after_s)
            ordered = order_accounts(due, snapshots, self.settings.priority, now, stale_after)
            lanes = self._lanes()
            self._cycle += 1
            report = CycleReport(self._cycle, accounts=len(ordered))
            self._cycle_started_at, self._visited, self._errors = now, 0, 0
            self._in_cycle = len(ordered)
            started = time.monotonic()
            self._set_note("lanes", "" if lanes else self._no_lanes_reason())
            self._publish()
            placeable: list[ManagedAccount] = []
            for account in ordered:
                if any(lane.accepts(account) for lane in lanes):
                    placeable.append(account)
                elif lanes:
                    await self._failed(account, self._no_terminal_reason(account), report)
            queue = CycleQueue(placeable)
            unavailable: dict[int, int] = {}
            if lanes:
                await asyncio.gather(*(self._lane_loop(lane, queue, report, unavailable) for lane in lanes))
            self._last_cycle_s = report.duration_s = time.monotonic() - started
            # a cycle with nothing to do is routine (DEBUG); one that visited or failed is news
            log.log(
                logging.INFO if report.visits or report.failures else logging.DEBUG,
                "carousel cycle %d done: %d account(s) visited, %d failed, in %.1f s",
                report.cycle, len(report.visits), len(report.failures), report.duration_s,
            )  # fmt: skip
            self._publish()
            return report

    async def _lane_loop(
        self, lane: Lane, queue: CycleQueue, report: CycleReport, unavailable: dict[int, int]
    ) -> None:
        """One terminal's share of a cycle: take the next account it may visit until none is left."""
        backoff = Backoff(initial=1.0, maximum=30.0)
        while await self._may_go_on():
            if not queue.has(lane.accepts):
                if self._in_flight == 0:
                    return
                async with self._changed:  # another terminal may yet put an account back
                    await self._changed.wait()
                continue
            state = lane.terminal.state
            if not state.connected:  # starting or recovering: wait for it, blame no account
                reason = f": {state.reason}" if state.reason else ""
                self._set_note(lane.terminal_id, f"terminal {lane.terminal_id} {state.status.value}{reason}")
                await self._sleep_while_accepting(backoff.next_delay())
                continue
            account = queue.take(lane.accepts)
            if account is None:
                continue
            self._in_flight += 1
            try:
                problem = await self._lane_visit(lane, account, report)
            finally:
                self._in_flight -= 1
                async with self._changed:
                    self._changed.notify_all()
            if isinstance(problem, SharingRefused):  # not the account's fault, and not passing soon
                queue.put_back(account)
                self._set_note(lane.terminal_id, str(problem))
                return
            if problem is not None:  # the terminal could not make the visit: another try, or another
                unavailable[account.id] = tries = unavailable.get(account.id, 0) + 1
                self._set_note(lane.terminal_id, str(problem))
                if tries >= MAX_UNAVAILABLE_PER_CYCLE:
                    await self._failed(account, f"no terminal could visit it: {problem}", report)
                else:
                    queue.put_back(account)
                await self._sleep_while_accepting(backoff.next_delay())
                continue
            self._set_note(lane.terminal_id, "")
            backoff.reset()
            if lane.shared and self.settings.shared_pause_s and len(queue):
                await self._sleep_while_accepting(self.settings.shared_pause_s)

    async def _lane_visit(
        self, lane: Lane, account: ManagedAccount, report: CycleReport
    ) -> TerminalUnavailable | None:
        """Visit and count the outcome; the terminal's own trouble is returned, not counted."""
        try:
            visit = await self._visit(lane, account)
        except TerminalUnavailable as exc:
            return exc
        except VisitFailed as exc:
            await self._failed(account, exc.reason, report)
        except Exception as exc:  # noqa: BLE001 - a lane never dies: the account is marked instead
            log.exception("carousel: visiting %s on %s failed", account.key, lane.terminal_id)
            await self._failed(account, f"unexpected error: {type(exc).__name__}: {exc}", report)
        else:
            self._retries.succeeded(account.id)
            if visit is not None:
                report.visits.append(visit)
            self._visited += 1
            self._publish()
        return None

    async def _sleep_while_accepting(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self._accepting and (remaining := deadline - time.monotonic()) > 0:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), remaining)

    async def _failed(self, account: ManagedAccount, reason: str, report: CycleReport) -> None:
        await self._record_failure(account, reason)
        report.failures[account.id] = reason
        self._visited += 1
        self._errors += 1
        self._publish()

    async def _record_failure(self, account: ManagedAccount, reason: str) -> None:
        retry_at = self._retries.failed(account.id, self._clock())
        log.warning("carousel: %s failed: %s (next try after %s)", account.key, reason,
                    retry_at.isoformat(timespec="seconds"))  # fmt: skip
        try:
            await self._registry.set_status(account.id, AccountStatus.ERROR, reason)
        except UnknownAccountError:
            pass  # removed meanwhile
        except Exception:
            log.exception("could not record the failure of %s", account.key)

    # ------------------------------------------------------------------ one visit

    async def _visit(self, lane: Lane, account: ManagedAccount) -> Visit | None:
        """Visit ``account`` on ``lane`` (one visit per terminal at a time); store it if it went well."""
        async with self._lock(lane.terminal_id):
            self._current[lane.terminal_id] = account.id
            self._publish()
            try:
                visitor = self._visitor
                password = await visitor.password(account)
                home = lane.shared and self._shared.is_home(account.login, account.server)
                if home and self._proven.proves(account.id, password):
                    # On the account already, with a password a login proved: no need to leave it.
                    collected = await visitor.collect(lane.terminal, account, None)
                else:
                    try:
                        if lane.shared:
                            collected = await self._shared.visit(
                                lambda terminal: visitor.collect(terminal, account, password)
                            )
                        else:
                            collected = await visitor.collect(lane.terminal, account, password)
                    except VisitFailed:
                        self._proven.forget(account.id)
                        if home:
                            self._shared.forget_home(account.login, account.server)
                        raise
                    self._proven.remember(account.id, password)
                return await visitor.store(account, collected)
            finally:
                self._current.pop(lane.terminal_id, None)
                self._publish()

    def _lock(self, terminal_id: str) -> asyncio.Lock:
        lock = self._locks.get(terminal_id)
        if lock is None:
            lock = self._locks[terminal_id] = asyncio.Lock()
        return lock

    def _lanes(self) -> list[Lane]:
        """The carousel's terminals: all but the live one; the live one shared when it is alone (or
        for the accounts assigned to it)."""
        others = self._pool.others
        lanes = [Lane(client) for client in others]
        if self.settings.share_live_terminal:
            lanes.append(Lane(self._pool.live, shared=True, takes_unassigned=not others))
        return lanes

    def _terminal_ids(self) -> tuple[str, ...]:
        """The terminals the carousel rotates on (the live one only when it is shared with everyone)."""
        return tuple(lane.terminal_id for lane in self._lanes() if lane.takes_unassigned)

    def _no_lanes_reason(self) -> str:
        return (
            "no terminal for the carousel: the pool has only the live terminal and "
            "[carousel] share_live_terminal is off"
        )

    def _no_terminal_reason(self, account: ManagedAccount) -> str:
        ids = [client.terminal_id for client in self._pool.clients]
        if account.terminal_id and account.terminal_id not in ids:
            pool = ", ".join(ids)
            return f"assigned to terminal {account.terminal_id!r}, which is not in the pool ({pool})"
        if account.terminal_id == self._pool.live.terminal_id:
            return (
                f"assigned to the live terminal {account.terminal_id!r}, which the carousel may not use "
                "([carousel] share_live_terminal is off)"
            )
        return self._no_lanes_reason()

    # ------------------------------------------------------------------ status

    def _set_note(self, source: str, note: str) -> None:
        if self._notes.get(source, "") != note:
            if note:
                self._notes[source] = note
            else:
                self._notes.pop(source, None)
            self._publish()

    def _build_status(self) -> CarouselStatus:
        return CarouselStatus(
            running=self._running,
            paused=self._paused,
            cycle=self._cycle,
            cycle_started_at=self._cycle_started_at,
            visited_in_cycle=self._visited,
            accounts_in_cycle=self._in_cycle,
            current=tuple(sorted(self._current.items())),
            last_cycle_s=self._last_cycle_s,
            next_due=self._next_due if self._running else None,
            errors_in_cycle=self._errors,
            terminals=self._terminal_ids(),
            note="; ".join(note for _, note in sorted(self._notes.items()) if note),
            stale_after_s=self.settings.stale_after_s,
        )

    def _publish(self, *, force: bool = False) -> None:
        status = self._build_status()
        if force or status != self._status:
            self._status = status
            self._hub.publish(Topic.CAROUSEL, status)


__all__ = ["Carousel", "CycleReport", "Lane"]
