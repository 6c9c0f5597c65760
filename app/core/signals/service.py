"""The signals service: every signal — from ``POST /api/signals``, a named webhook or a strategy — is
stored, judged by the validator chain, decided by its source's mode, audited, published on the
``signals`` topic (seed 001's ``signals_update``) and, once approved, carried out through the trading
service (:mod:`app.core.signals.execution`), the one choke point.

**Once.** A signal's uuid is its key: a delivery seen before — also concurrently (one lock per uuid),
also after a restart (the signals table) — is answered with the first outcome and does nothing. The
order it places has the uuid as its client id, so even a second process could not place it twice.

**Modes.** ``auto``: approved by the chain → an order at once. ``confirm``: approved by the chain →
``pending`` until a person approves (then the order) or rejects it, or it expires
(``signals.confirm_timeout_s``). ``notify``: recorded and shown only. A source not switched to
``auto`` (``[signals] sources``, or a webhook's own mode) never trades by itself; on a real account
the trading service's real-account gate applies to every order as always.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any

from app.audit import Action, AuditTrail
from app.config import SignalSettings
from app.core.account_state import AccountState
from app.core.hub import EventHub, Topic
from app.core.keyed_locks import KeyedLocks
from app.core.market_data import MarketData
from app.core.signals.execution import Carrier, SizingError, market_request, opening_side, risk_volume
from app.core.signals.symbols import UnknownSymbolError, resolve_symbol
from app.core.signals.validators import (
    AllowList,
    Bounded,
    Chain,
    Context,
    FirstDelivery,
    MaxSpread,
    MinConfidence,
    RatePerSource,
    RiskAndCheck,
    SymbolKnown,
    TradingWindow,
    Validator,
    load_user_validator,
)
from app.core.signals.webhooks import WebhookBook
from app.core.storage import Database
from app.core.times import utc_now
from app.core.trading import AskedAhead, TradingService
from app.models import AmbiguousOutcomeError, Order, Position, RejectedError, TerminalError
from app.models.signals import Signal, SignalAction, SignalMode, SignalRecord, SignalStatus, Verdict, Webhook
from app.mt5.pool import TerminalPool

log = logging.getLogger(__name__)

RESERVED_PREFIXES = ("webhook:", "strategy:")
_OPENS_NOW = (SignalAction.BUY, SignalAction.SELL)  # one order on the signal's symbol, at once


class SignalError(Exception):
    """A signal request that cannot be taken; ``field`` names what was wrong (for a 4xx)."""

    status = 422

    def __init__(self, message: str, field: str = "", code: str = "invalid_signal") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


class SignalNotFoundError(SignalError):
    status = 404


class SignalStateError(SignalError):
    status = 409


def check_shape(signal: Signal) -> None:
    """What each action needs, refused naming the field (nothing is stored then)."""
    a = signal.action
    if (
        a in (SignalAction.BUY, SignalAction.SELL, SignalAction.REVERSE, SignalAction.FLAT)
        and not signal.symbol
    ):
        raise SignalError(f"a {a.value} signal needs a symbol", "symbol")
    if a in (SignalAction.CLOSE, SignalAction.MODIFY, SignalAction.CANCEL, SignalAction.CLOSE_PARTIAL):
        if not signal.symbol and not signal.ticket:
            raise SignalError(f"a {a.value} signal needs a symbol or a ticket", "symbol")
    if a is SignalAction.CLOSE_PARTIAL and not signal.volume:
        raise SignalError("a close_partial signal needs the volume to close", "volume")
    if a is SignalAction.MODIFY and signal.sl is None and signal.tp is None:
        raise SignalError("a modify signal needs sl or tp (prices; 0 removes one)", "sl")
    if signal.risk_percent is not None and signal.volume is not None:
        raise SignalError("give volume or risk_percent, not both", "risk_percent")


class SignalService:
    name = "signals"

    def __init__(
        self,
        settings: SignalSettings,
        db: Database,
        audit: AuditTrail,
        hub: EventHub,
        trading: TradingService,
        market_data: MarketData,
        account_state: AccountState,
        pool: TerminalPool,
    ) -> None:
        self.settings = settings
        self._db = db
        self._audit = audit
        self._hub = hub
        self._trading = trading
        self._market = market_data
        self._account = account_state
        self._pool = pool
        self._locks = KeyedLocks()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._expiry: asyncio.Task[None] | None = None
        self.rate = RatePerSource(settings.max_per_minute)
        self.webhooks = WebhookBook(db, audit)
        self._user: list[Validator] = []

    # ------------------------------------------------------------------ service
    async def start(self) -> None:
        for ref in self.settings.validators:
            try:
                self._user.append(Bounded(load_user_validator(ref), self.settings.validator_timeout_s))
            except Exception as exc:  # noqa: BLE001 - a broken plugin: said once, every signal then refused
                log.error("signal validator %s could not be loaded: %s", ref, exc)
                self._user.append(_Broken(ref, str(exc)))
        await self._settle_unfinished()
        self._expiry = asyncio.create_task(self._expire_loop(), name="signals-expiry")

    async def stop(self) -> None:
        tasks = [t for t in (self._expiry, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def chain(self, webhook: Webhook | None, actor: str, *, dry_run: bool = True) -> Chain:
        """The validators in order. Without ``dry_run`` (auto mode) the risk verdict is the trading
        service's own check as it sends — the same limits and ``order_check``, done once, not twice."""
        s = self.settings
        validators: list[Validator] = [SymbolKnown()]
        if webhook is not None:
            validators.append(AllowList())
        validators += [
            FirstDelivery(),
            MinConfidence(s.min_confidence),
            MaxSpread(s.max_spread_points),
            TradingWindow(s.trading_hours),
            self.rate,
            *([RiskAndCheck(lambda request: self._trading.check(request, actor=actor))] if dry_run else []),
            *self._user,
        ]
        return Chain(validators)

    def mode_for(self, source: str) -> SignalMode:
        return SignalMode(self.settings.sources.get(source, self.settings.default_mode))

    # ------------------------------------------------------------------ intake
    async def submit(
        self, signal: Signal, *, mode: SignalMode | None = None, webhook: Webhook | None = None,
        actor: str = "system", symbol_map: dict[str, str] | None = None,
    ) -> SignalRecord:  # fmt: skip
        """Take a signal: the first outcome if its uuid was seen before, else judge and decide it."""
        check_shape(signal)
        mode = mode or self.mode_for(signal.source)
        async with self._exclusive(signal.uuid):
            signal, problem = await self._resolved(
                signal, symbol_map or (webhook.symbol_map if webhook else {})
            )
            now = utc_now()
            record = SignalRecord(signal, mode, SignalStatus.RECEIVED, created_at=now, updated_at=now)
            # A uuid seen before gets its first outcome (a read: no disk flush). A new one is stored and
            # audited side by side (the database's commit and the trail's fsync: one wait, not two);
            # the insert still refuses a uuid stored meanwhile by another process.
            stored = await self._db.run(lambda tx: tx.signals.get(signal.uuid), readonly=True)
            if stored is not None:
                return stored.with_changes(duplicate=True)
            # An auto signal that opens: the terminal is asked for what its order will be judged against
            # while its row and entry are written (the order goes only after both are durable).
            ahead = (
                self._trading.ask_ahead(signal.symbol)
                if mode is SignalMode.AUTO and signal.action in _OPENS_NOW and signal.symbol and not problem
                else None
            )
            try:
                return await self._judged(signal, record, mode, webhook, actor, problem, ahead)
            finally:
                if ahead is not None:
                    ahead.drop()  # a no-op once the order has used it

    async def _judged(
        self, signal: Signal, record: SignalRecord, mode: SignalMode, webhook: Webhook | None,
        actor: str, problem: str, ahead: AskedAhead | None,
    ) -> SignalRecord:  # fmt: skip
        """A new signal: stored and audited, judged by the chain, decided (and carried out in auto)."""
        added, _ = await asyncio.gather(
            self._db.run(lambda tx: tx.signals.add(record)),
            self._audit.append(
                actor, Action.SIGNAL_RECEIVED, payload={**signal.to_json(), "mode": mode.value}
            ),
        )
        if not added:  # stored by another process a moment ago: its outcome
            stored = await self._db.run(lambda tx: tx.signals.get(signal.uuid), readonly=True)
            if stored is None:  # pragma: no cover - it was there a moment ago
                raise SignalStateError(f"signal {signal.uuid} vanished", "uuid")
            return stored.with_changes(duplicate=True)
        self._publish(record)
        ctx = await self._context(signal, webhook, problem)
        auto = mode is SignalMode.AUTO
        verdicts, approved = await self.chain(webhook, actor, dry_run=not auto).run(ctx)
        record = record.with_changes(validators=verdicts)
        if not approved:
            last = verdicts[-1]
            return await self._decide(
                record, SignalStatus.REJECTED, f"rejected by {last.name}: {last.reason}", actor
            )
        if mode is SignalMode.NOTIFY:
            return await self._decide(record, SignalStatus.NOTIFIED, "notify only: not traded", actor)
        if mode is SignalMode.CONFIRM:
            expires = utc_now() + timedelta(seconds=self.settings.confirm_timeout_s)
            record = record.with_changes(expires_at=expires)
            self._wake.set()
            return await self._decide(record, SignalStatus.PENDING, "waiting for approval", actor)
        # Shown, not stored: the order's own intent is on disk before it is sent, and a crash now is
        # settled from it at the next start (see _settle_unfinished).
        record = record.with_changes(
            status=SignalStatus.APPROVED, message="approved; risk and order_check as it is sent"
        )
        self._publish(record)
        return await self._execute(
            record, ctx, actor=f"signal:{signal.source}", risk_at_send=True, ahead=ahead
        )

    async def _resolved(self, signal: Signal, symbol_map: dict[str, str]) -> tuple[Signal, str]:
        """The signal on the terminal's symbol (and why not, for the symbol validator)."""
        if not signal.symbol:
            return signal, ""
        try:
            known = [spec.name for spec in await self._market.all_symbols()]
            symbol = resolve_symbol(signal.symbol, known, symbol_map)
        except UnknownSymbolError as exc:
            return signal, str(exc)
        except TerminalError as exc:
            return signal, f"the terminal cannot list its symbols: {exc}"
        if symbol == signal.symbol:
            return signal, ""
        return signal.with_changes(symbol=symbol, sent_symbol=signal.symbol), ""

    async def _context(self, signal: Signal, webhook: Webhook | None, problem: str) -> Context:
        ctx = Context(signal, webhook=webhook, problem=problem, server_time=self._market.server_time())
        if problem or not signal.symbol:
            return ctx
        try:
            ctx.spec = await self._market.spec(signal.symbol)
        except TerminalError as exc:
            ctx.problem = f"{signal.symbol}: {exc}"
            return ctx
        ctx.quote = self._market.quote(signal.symbol)
        if signal.action.opens:
            try:
                ctx.request = await self._opening_request(signal, webhook, ctx)
            except (SizingError, TerminalError) as exc:
                ctx.problem = str(exc)
        return ctx

    async def _opening_request(self, signal: Signal, webhook: Webhook | None, ctx: Context) -> Any:
        positions = await self._positions() if signal.action is SignalAction.REVERSE else []
        side = opening_side(signal, positions)
        if side is None:
            return None  # a reverse with nothing open: it only closes (nothing)
        volume = signal.volume or (webhook.volume if webhook else None) or self.settings.default_volume
        if volume is None and signal.action is SignalAction.REVERSE:
            volume = sum(p.volume for p in positions if p.symbol == signal.symbol)
        if volume is None and signal.risk_percent:
            assert ctx.spec is not None  # noqa: S101 - read just before
            price = (
                ctx.quote.ask if ctx.quote and side.value == "buy" else ctx.quote.bid if ctx.quote else 0.0
            )
            volume = risk_volume(signal, ctx.spec, self._account.account, price)
        if volume is None:
            raise SizingError(
                "volume: the signal names none (give volume or risk_percent, or set the webhook's "
                "volume or [signals] default_volume)"
            )
        return market_request(signal, side, volume)

    # ------------------------------------------------------------------ people decide
    async def approve(self, uuid: str, actor: str) -> SignalRecord:
        async with self._exclusive(uuid):
            record = await self._waiting(uuid, "approved")
            verdict = Verdict("person", "manual", True, None, f"approved by {actor}", utc_now())
            record = record.with_changes(validators=(*record.validators, verdict))
            record = await self._decide(record, SignalStatus.APPROVED, f"approved by {actor}", actor)
            ctx = await self._context(record.signal, None, "")
            if ctx.problem:
                return await self._decide(record, SignalStatus.FAILED, ctx.problem, actor)
            return await self._execute(record, ctx, actor=actor)

    async def reject(self, uuid: str, actor: str, reason: str = "") -> SignalRecord:
        async with self._exclusive(uuid):
            record = await self._waiting(uuid, "rejected")
            why = f"rejected by {actor}" + (f": {reason}" if reason else "")
            verdict = Verdict("person", "manual", False, None, why, utc_now())
            record = record.with_changes(validators=(*record.validators, verdict))
            return await self._decide(record, SignalStatus.REJECTED, why, actor)

    async def _waiting(self, uuid: str, wanted: str) -> SignalRecord:
        record = await self._db.run(lambda tx: tx.signals.get(uuid), readonly=True)
        if record is None:
            raise SignalNotFoundError(f"no signal {uuid}", "uuid", "not_found")
        if record.status is SignalStatus.PENDING and record.expires_at and record.expires_at <= utc_now():
            record = await self._decide(record, SignalStatus.EXPIRED, "nobody decided in time", "system")
        if record.status is not SignalStatus.PENDING:
            raise SignalStateError(
                f"signal {uuid} is {record.status.value}, not pending: it cannot be {wanted} now",
                "uuid",
                "signal_not_pending",
            )
        return record

    # ------------------------------------------------------------------ reads
    async def get(self, uuid: str) -> SignalRecord | None:
        return await self._db.run(lambda tx: tx.signals.get(uuid), readonly=True)

    async def recent(
        self, *, since: datetime | None = None, status: str | None = None, limit: int = 200
    ) -> list[SignalRecord]:
        return await self._db.run(
            lambda tx: tx.signals.recent(since=since, status=status, limit=limit), readonly=True
        )

    # ------------------------------------------------------------------ the outcome
    async def _execute(
        self,
        record: SignalRecord,
        ctx: Context,
        *,
        actor: str,
        risk_at_send: bool = False,
        ahead: AskedAhead | None = None,
    ) -> SignalRecord:
        """Carry the signal out. With ``risk_at_send`` the trading service's own check is the chain's
        ``risk`` verdict: an order refused before it was sent (limits, validation, ``order_check``) is a
        rejection by risk; one refused after is a failure."""
        note = f"signal {record.uuid} from {record.signal.source}"
        opens = risk_at_send and record.signal.action in (SignalAction.BUY, SignalAction.SELL)
        carrier = Carrier(self._trading, self._positions, self._orders, actor=actor, note=note, ahead=ahead)
        try:
            outcome = await carrier(record.signal, ctx.request)
        except AmbiguousOutcomeError as exc:
            return await self._decide(record, SignalStatus.FAILED, f"outcome unknown: {exc}", actor)
        except TerminalError as exc:
            if opens and not await self._was_sent(record.uuid):
                verdict = Verdict("risk", "risk", False, None, str(exc), utc_now())
                record = record.with_changes(validators=(*record.validators, verdict))
                return await self._decide(record, SignalStatus.REJECTED, f"rejected by risk: {exc}", actor)
            if isinstance(exc, RejectedError) and not carrier.carried:
                # Refused before it changed anything (no such ticket, a volume the position does not
                # hold, an SL on the wrong side, the server's own refusal): a rejection with its reason.
                return await self._decide(record, SignalStatus.REJECTED, f"rejected: {exc}", actor)
            return await self._decide(record, SignalStatus.FAILED, str(exc), actor)
        except Exception as exc:
            log.exception("signal %s could not be carried out", record.uuid)
            return await self._decide(record, SignalStatus.FAILED, f"{type(exc).__name__}: {exc}", actor)
        if opens:
            passed = "risk limits and order_check passed as the order was sent"
            verdict = Verdict("risk", "risk", True, None, passed, utc_now())
            record = record.with_changes(validators=(*record.validators, verdict))
        return await self._decide(
            record.with_changes(ticket=outcome.ticket), SignalStatus.EXECUTED, outcome.message, actor
        )

    async def _was_sent(self, uuid: str) -> bool:
        """Whether the signal's order reached ``order_send`` (its client id's record says)."""
        order = await self._db.run(lambda tx: tx.client_orders.get(uuid), readonly=True)
        return order is not None and order.sent_at is not None

    async def _decide(
        self, record: SignalRecord, status: SignalStatus, message: str, actor: str
    ) -> SignalRecord:
        record = record.with_changes(status=status, message=message, updated_at=utc_now())
        await self._db.run(lambda tx: tx.signals.save(record))
        await self._audit.append(
            actor,
            Action.SIGNAL_DECISION,
            payload={
                "uuid": record.uuid,
                "status": status.value,
                "message": message,
                "ticket": record.ticket,
                "validators": [v.to_json() for v in record.validators],
            },
        )
        self._publish(record)
        return record

    def _publish(self, record: SignalRecord) -> None:
        # key None: the hub keeps one latest value, not one per signal ever seen.
        self._hub.publish(Topic.SIGNALS, record.to_json())

    async def _positions(self) -> list[Position]:
        positions: list[Position] = await self._pool.live.call("positions")
        return positions

    async def _orders(self) -> list[Order]:
        orders: list[Order] = await self._pool.live.call("orders")
        return orders

    # ------------------------------------------------------------------ time and restarts
    async def _expire_loop(self) -> None:
        while True:
            try:
                await self._expire_due()
                next_at = await self._db.run(lambda tx: tx.signals.next_expiry(), readonly=True)
            except Exception:
                log.exception("signal expiry failed; trying again in a minute")
                next_at = None
            delay = 60.0 if next_at is None else max(0.05, (next_at - utc_now()).total_seconds())
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), min(delay, 60.0))
            except TimeoutError:
                pass

    async def _expire_due(self) -> None:
        due = await self._db.run(lambda tx: tx.signals.due(utc_now()), readonly=True)
        for stale in due:
            async with self._exclusive(stale.uuid):
                current = await self.get(stale.uuid)
                if current is not None and current.status is SignalStatus.PENDING:
                    await self._decide(current, SignalStatus.EXPIRED, "nobody decided in time", "system")

    async def _settle_unfinished(self) -> None:
        """Signals a crash left half-way: judged again never; their order, if any, is the trading
        service's to settle (by the uuid), and the signal says so."""
        unfinished = await self._db.run(lambda tx: tx.signals.unfinished(), readonly=True)
        for record in unfinished:
            await self._settle_one(record)

    async def _settle_one(self, record: SignalRecord) -> None:
        uuid = record.uuid
        order = await self._db.run(lambda tx: tx.client_orders.get(uuid), readonly=True)
        if order is not None and order.state == "done" and order.result is not None:
            done = record.with_changes(ticket=order.result.order or None)
            await self._decide(done, SignalStatus.EXECUTED, "carried out before the app stopped", "system")
        elif order is not None:
            why = f"the app stopped while its order was {order.state}: see order {uuid}"
            await self._decide(record, SignalStatus.FAILED, why, "system")
        else:
            why = "the app stopped before it was carried out: not sent"
            await self._decide(record, SignalStatus.FAILED, why, "system")

    def _exclusive(self, uuid: str) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(uuid)


class _Broken:
    """A configured user validator that could not be loaded: it rejects (never silently skipped)."""

    type = "ai"

    def __init__(self, ref: str, problem: str) -> None:
        self.name = ref
        self.problem = problem

    async def __call__(self, ctx: Context) -> Verdict:
        return Verdict(self.name, self.type, False, None, f"could not be loaded: {self.problem}", utc_now())
