"""The trading service: the one choke point for place, modify, close and cancel.

The window, the API and every later caller trade through here, so every safety rule and the audit
trail apply to all of them alike. For each order command, in this order:

1. **Client id.** Every command carries one (the API's ``uuid``; made here when absent). An id seen
   before returns its first outcome (``duplicate=True``) and sends nothing — also concurrently (one
   lock per id) and after a restart (the ids live in the database).
2. **Can we trade here?** The live terminal must be ready, not lent to the carousel, and logged in to
   the live account (checked before every send); a real account must be enabled in the settings. The
   terminal is asked afresh, in one round trip (``trade_context``: health, account, the symbol's spec
   and tick, the positions when the order adds exposure), never the app's copies of them.
3. **Validation** against the symbol (app.core.order_rules): normalised, or refused naming the field.
4. **Risk limits** for new exposure (app.core.risk), including the daily-loss kill switch.
5. **Audit intent** — on disk (fsynced) before the order is sent; if it cannot be written, nothing is
   sent. The id's reservation (committed) and ``order_check`` (which trades nothing) run alongside it:
   one wait for the three.
6. The check's entry and the "handed to ``order_send``" mark, side by side (one wait), then
   ``order_send`` once. Before the send: two round trips to the terminal, two fsyncs of the trail and
   two commits of the database, in two waits (``tests/core/test_order_path_counts.py``). Outcomes:
   done → returned; refused by the server → :class:`RejectedError` / :class:`TemporaryError` (a
   requote); lost (timeout, disconnect, worker crash) → reconciled from the terminal's orders, deals
   and positions by the id's tag — the true outcome, or :class:`AmbiguousOutcomeError` ("unknown",
   with the id to look up). Never resent.
7. **Audit result** on disk before the outcome is reported; the outcome is stored under the id.

``check()`` is the dry run: steps 2–4 and ``order_check``, nothing sent.

**Whether an id may be sent again** follows from the error's class, the same way every time: a
:class:`TemporaryError` (the check never answered, the terminal was not ready, a requote — nothing
reached the trade server) frees the id, and sending it again is a new attempt; a
:class:`RejectedError` is the id's answer for good (sending it again returns it again, nothing is
sent); an :class:`AmbiguousOutcomeError` is never resent, only looked up. The id is marked as handed
to ``order_send`` just before it is, so after a crash reconciliation (at the next start) tells apart
an order that provably never left — verdict ``not_sent``, its id free again — from one the terminal
must be asked about: ``filled``, ``pending``, ``done``, ``rejected`` or ``unknown``. Every verdict is
an ``order.reconcile`` entry in the audit trail.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from app.audit import AuditTrail, OrderAudit
from app.config import TradingSettings
from app.core.account_state import AccountState
from app.core.client_ids import comment_with_tag, is_valid_client_id, new_client_id, tag_for
from app.core.keyed_locks import KeyedLocks
from app.core.money import rounded
from app.core.order_audit import describe, intent_action, intent_payload, subject_fields
from app.core.order_rules import (
    Market,
    check_close_volume,
    check_order_modify,
    check_order_remove,
    check_position_modify,
    normalize_new_order,
    resolve_points,
)
from app.core.reconcile import find_outcome
from app.core.risk import RiskGuard, opens_exposure
from app.core.storage import Database
from app.core.storage.client_orders import ClientOrder, ClientOrderState, Verdict
from app.core.times import utc_now
from app.models import (
    AccountInfo,
    AmbiguousOutcomeError,
    CallTimeoutError,
    NotReadyError,
    Order,
    OrderCheck,
    OrderRequest,
    OrderResult,
    OrderType,
    OrderValidationError,
    Position,
    RejectedError,
    Side,
    SymbolSpec,
    TemporaryError,
    TerminalError,
    TradeAction,
    TradingDisabledError,
    WorkerCrashedError,
)
from app.models.trading import DEFAULT_DEVIATION
from app.mt5.client import TerminalClient
from app.mt5.pool import TerminalPool
from app.retry import Backoff

log = logging.getLogger(__name__)

# An unknown order looked up again: its time on the terminal's clock is not stored, so look back far.
REPLAY_LOOKBACK = timedelta(days=7)
# At start, orders cut off by a crash are settled once the terminal answers: it is asked until it does
# (every second at first, then less often), for as long as the app runs.
RESTART_PATIENCE_S = math.inf
NOT_SENT = (
    "not sent: the app stopped before the order was handed to the terminal, so it never left; "
    "its uuid may be sent again"
)


def _taken(task: asyncio.Future[Any]) -> None:
    """Its error taken, so that one dropped unawaited is not reported as never retrieved."""
    if not task.cancelled():
        task.exception()


@dataclass(slots=True)
class AskedAhead:
    """The terminal's facts for an order, asked before the order itself (:meth:`TradingService.ask_ahead`)."""

    symbol: str
    lends: int  # the pool's loans when asked: another one since, and the facts are asked again
    task: asyncio.Future[_Context]

    def fits(self, symbol: str) -> bool:
        return symbol == self.symbol  # asked with the positions: good for any order on the symbol

    def drop(self) -> None:
        """Not needed after all (the signal was refused, or was a duplicate)."""
        self.task.cancel()


async def _dropped(task: asyncio.Future[Any]) -> None:
    """A side-by-side question whose answer is not needed: cancelled, and its error (if any) taken
    (a cancellation of the caller itself still reaches the caller)."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def _restart_audit(trail: AuditTrail, stored: ClientOrder) -> OrderAudit:
    """The entries of a verdict on a stored order: named as its own entries were (side, type, volume
    of a new order; the ticket a command acted on, the only thing its request knows of it)."""
    request = stored.request
    if request.action in (TradeAction.DEAL, TradeAction.PENDING) and not request.position:
        subject = subject_fields(request, None)
    else:
        subject = {"symbol": request.symbol}
        for name in ("position", "order"):
            if getattr(request, name):
                subject[name] = getattr(request, name)
    return OrderAudit(trail, "system", stored.account, stored.client_id, subject)


@dataclass(frozen=True, slots=True)
class _Context:
    """Where an order goes and what it is judged against."""

    terminal: TerminalClient
    account: AccountInfo
    spec: SymbolSpec | None
    market: Market | None
    server_time: datetime | None  # the terminal's clock (its latest tick): history is searched by it
    positions: list[Position] | None = None  # the open positions, when asked with the rest


class TradingService:
    name = "trading"

    def __init__(
        self,
        pool: TerminalPool,
        account_state: AccountState,
        db: Database,
        audit: AuditTrail,
        risk: RiskGuard,
        settings: TradingSettings,
    ) -> None:
        self._pool = pool
        self._account_state = account_state
        self._db = db
        self._audit = audit
        self.risk = risk
        self.settings = settings
        self._locks = KeyedLocks()
        self._reconciling: set[asyncio.Task[None]] = set()
        self._accepting = False  # until start(): the kill switches and past orders are loaded first
        risk.close_all = self._close_all_for_risk

    async def start(self) -> None:
        self._accepting = True
        unsettled = await self._db.run(lambda tx: tx.client_orders.unsettled(), readonly=True)
        if unsettled:
            log.warning("%d order(s) from before have no known outcome: reconciling", len(unsettled))
            task = asyncio.create_task(self._settle_all(unsettled), name="reconcile-unsettled")
            self._reconciling.add(task)
            task.add_done_callback(self._reconciling.discard)

    async def stop(self) -> None:
        self._accepting = False
        for task in list(self._reconciling):
            task.cancel()
        await asyncio.gather(*self._reconciling, return_exceptions=True)

    # ------------------------------------------------------------------ helpers for callers
    async def spec(self, symbol: str) -> SymbolSpec:
        spec: SymbolSpec = await self._pool.live.call("symbol", symbol)
        return spec

    @staticmethod
    def with_points(
        request: OrderRequest, sl_points: float | None = None, tp_points: float | None = None
    ) -> OrderRequest:
        """SL/TP given as distances in points from the order's price. They are turned into prices when
        the order is judged, against the same fresh tick its price comes from (``resolve_points``), so
        a market moving meanwhile cannot put them off by the distance it moved."""
        if not sl_points and not tp_points:
            return request
        return request.with_changes(sl_points=sl_points or 0.0, tp_points=tp_points or 0.0)

    # ------------------------------------------------------------------ can we trade?
    async def _context(self, symbol: str, *, positions: bool = False) -> _Context:
        """The terminal's own state, asked fresh in ONE round trip (``trade_context``: health, account,
        and the symbol's spec and tick, the positions when a new exposure is judged) — never the app's
        copies, which may be a refresh behind."""
        if not self._accepting:
            raise NotReadyError("trading is not available yet: the app is starting (or stopping)")
        if self._pool.live_lent_to is not None:
            raise TradingDisabledError(
                f"the live terminal is visiting another account ({self._pool.live_lent_to}); "
                "orders are refused until it is back — try again in a moment"
            )
        terminal = self._pool.live
        facts = await terminal.call("trade_context", symbol, positions=positions)
        health = facts["health"]
        home = terminal.home_account
        if home is not None and health.get("login") != home[0]:
            raise TradingDisabledError(
                f"the live terminal is logged in to {health.get('login')}@{health.get('server')}, "
                f"not the live account {home[0]}@{home[1]}: order refused"
            )
        account: AccountInfo = facts["account"]
        if account.is_real and not self.settings.real_trading_enabled(account.key):
            raise TradingDisabledError(
                f"{account.key} is a REAL account and trading on it is off: enable it in the settings "
                f'([trading] real_enabled = ["{account.key}"])'
            )
        held: list[Position] | None = facts.get("positions")
        if not symbol:
            return _Context(terminal, account, None, None, None, held)
        spec: SymbolSpec = facts["spec"]
        tick = facts["tick"]
        return _Context(terminal, account, spec, Market(tick.bid, tick.ask), tick.time, held)

    def _exclusive(self, client_id: str) -> AbstractAsyncContextManager[None]:
        """One command per client id at a time (the lock is dropped when no one holds or waits)."""
        return self._locks.hold(client_id)

    def ask_ahead(self, symbol: str) -> AskedAhead:
        """Start asking the terminal for what an order on ``symbol`` that adds exposure will be judged
        against, while the caller writes its own records (a signal's row and entry) — to be handed to
        :meth:`place` as ``ahead``, or dropped. The facts are the same fresh ones ``send`` would ask
        for, a moment earlier; a carousel visit in between makes ``send`` ask again."""
        task = asyncio.ensure_future(self._context(symbol, positions=True))
        task.add_done_callback(_taken)
        return AskedAhead(symbol, self._pool.lends, task)

    # ------------------------------------------------------------------ the pipeline
    def _with_client_id(self, request: OrderRequest) -> OrderRequest:
        if not request.client_id:
            return request.with_changes(client_id=new_client_id())
        if not is_valid_client_id(request.client_id):
            raise OrderValidationError("uuid", "a client order id is 1 to 64 letters, digits or ._:-")
        return request

    async def _validated(self, request: OrderRequest, ctx: _Context) -> OrderRequest:
        """The request normalised against the symbol and the current prices (or a refusal)."""
        if request.action in (TradeAction.DEAL, TradeAction.PENDING):
            assert ctx.spec is not None and ctx.market is not None  # noqa: S101 - a symbol was given
            checked = normalize_new_order(resolve_points(request, ctx.spec, ctx.market), ctx.spec, ctx.market)
            if checked.action is TradeAction.DEAL and not checked.price:
                checked = checked.with_changes(
                    price=ctx.market.ask if checked.type.side is Side.BUY else ctx.market.bid
                )
            if checked.deviation == DEFAULT_DEVIATION:  # not chosen by the caller: the setting
                checked = checked.with_changes(deviation=self.settings.deviation_points)
            return checked
        return request

    async def _check_risk(self, request: OrderRequest, ctx: _Context) -> None:
        """Limits on new exposure; with a daily-loss limit, today's P/L is evaluated afresh first."""
        if not opens_exposure(request):
            return
        positions = ctx.positions
        if positions is None:
            positions = await ctx.terminal.call("positions")
        if self.settings.limits_for(ctx.account.key).max_daily_loss:
            await self.risk.evaluate(ctx.account, positions, self._account_state.deals, ctx.server_time)
        self.risk.check_new_order(ctx.account, request, len(positions))

    async def check(self, request: OrderRequest, *, actor: str = "gui") -> OrderCheck:
        """The dry run: everything up to and including ``order_check``; nothing is sent."""
        request = self._with_client_id(request)
        async with self._pool.using_live():  # the carousel cannot switch accounts meanwhile
            ctx = await self._context(request.symbol, positions=opens_exposure(request))
            prepared = await self._validated(request, ctx)
            await self._check_risk(prepared, ctx)
            result: OrderCheck = await ctx.terminal.call("order_check", prepared)
        await OrderAudit(
            self._audit, actor, ctx.account.key, prepared.client_id, subject_fields(prepared, None)
        ).check(
            retcode=result.retcode,
            dry_run=True,
            margin=result.margin,
            margin_free=result.margin_free,
            comment=result.comment,
        )
        return result

    async def send(
        self,
        request: OrderRequest,
        *,
        actor: str = "gui",
        note: str = "",
        subject: Position | Order | None = None,
        opposite: Position | None = None,
        ahead: AskedAhead | None = None,
    ) -> OrderResult:
        """Run the whole pipeline for one command (see the module docstring). ``subject`` is the order
        or position the command acts on (``opposite``: a close-by's other position): the audit trail
        names them, not the request's defaults. ``ahead``: the terminal's facts asked a moment before
        by the caller (:meth:`ask_ahead`), used when they are for this order's symbol."""
        request = self._with_client_id(request)
        exposure = opens_exposure(request)
        async with self._exclusive(request.client_id):
            # The id's record and the terminal's facts are asked side by side (each a read; the facts
            # are dropped when the id turns out to be known, and asked again if a carousel visit came
            # in between).
            if ahead is not None and ahead.fits(request.symbol):
                lends, asking = ahead.lends, ahead.task
            else:
                if ahead is not None:
                    ahead.drop()
                lends = self._pool.lends
                asking = asyncio.ensure_future(self._context(request.symbol, positions=exposure))
            try:
                stored = await self._db.run(lambda tx: tx.client_orders.get(request.client_id), readonly=True)
                resent = stored is not None and stored.verdict == "not_sent"
                if resent:  # it never left: a new attempt under the same id
                    log.info("order %s was not sent before: sending it now", request.client_id)
                    await self._db.run(lambda tx: tx.client_orders.forget(request.client_id))
            except BaseException:
                await _dropped(asking)
                raise
            if stored is not None and not resent:
                await _dropped(asking)
                return await self._replay(stored)
            # From the checks to the send (and any reconciliation) the live terminal stays on the live
            # account: a carousel visit asked for meanwhile waits, and none may be under way.
            async with self._pool.using_live():
                try:
                    ctx: _Context | None = await asking
                except TerminalError:
                    if self._pool.lends == lends:
                        raise
                    ctx = None  # refused while the terminal was away: asked again below
                if ctx is None or self._pool.lends != lends:
                    ctx = await self._context(request.symbol, positions=exposure)
                prepared = await self._validated(request, ctx)
                await self._check_risk(prepared, ctx)
                result = await self._send_recorded(prepared, ctx, actor, note, subject, opposite)
            return replace(result, extra={**result.extra, "resent": "not_sent"}) if resent else result

    async def _send_recorded(
        self,
        request: OrderRequest,
        ctx: _Context,
        actor: str,
        note: str,
        subject: Position | Order | None = None,
        opposite: Position | None = None,
    ) -> OrderResult:
        tag = tag_for(request.client_id)
        if request.action in (TradeAction.DEAL, TradeAction.PENDING):
            request = request.with_changes(comment=comment_with_tag(request.comment, tag))
        audit = OrderAudit(
            self._audit, actor, ctx.account.key, request.client_id, subject_fields(request, subject)
        )
        now = utc_now()
        # Three things side by side, one wait: the intent (audit trail, fsynced), the id's reservation
        # (database, committed) and ``order_check`` (a question to the terminal that trades nothing).
        # The order itself is sent only once both records are durable; if either failed, nothing is
        # sent and the id is released.
        outcomes: list[object] = await asyncio.gather(
            audit.intent(intent_action(request), **intent_payload(request, note, subject, opposite)),
            self._db.run(
                lambda tx: tx.client_orders.start(request.client_id, ctx.account.key, tag, request, now)
            ),
            ctx.terminal.call("order_check", request),
            return_exceptions=True,
        )
        noted, reserved, checked = outcomes
        await self._recorded(request.client_id, noted, reserved, new_row=True)
        sent_at = ctx.server_time or now
        try:
            if isinstance(checked, BaseException):
                raise checked
            check = cast(OrderCheck, checked)  # the call's answer (an error was raised above)
        except TemporaryError as exc:  # the check never answered (worker died, timeout): nothing left
            await self._release(request.client_id, str(exc), exc.code)
            await audit.result(
                retcode=None, ticket=None, latency_ms=0.0, outcome="not_sent", message=str(exc)
            )
            raise
        except TerminalError as exc:  # the terminal refused to check it: that is its answer
            await self._settle(request.client_id, "rejected", message=str(exc), code=exc.code)
            await audit.result(retcode=exc.code, ticket=None, latency_ms=0.0, outcome="refused",
                               message=str(exc))  # fmt: skip
            raise
        money = ctx.account.currency_digits  # amounts enter the trail in the account currency's digits
        check_entry = audit.check(
            retcode=check.retcode,
            margin=rounded(check.margin, money),
            margin_free=rounded(check.margin_free, money),
            comment=check.comment,
        )
        if check.ok:
            self.risk.note_sent(ctx.account.key)
            # From here a crash leaves an order that may have left: reconciliation must ask the terminal.
            # The check's entry and the "handed to order_send" mark are written side by side, one wait.
            await self._durably(
                request.client_id,
                check_entry,
                self._db.run(lambda tx: tx.client_orders.mark_sent(request.client_id, utc_now())),
                new_row=False,
            )
        else:
            await check_entry
            message = f"{check.retcode_name}: {check.comment}"
            await self._settle(request.client_id, "rejected", message=message, code=check.retcode)
            await audit.result(retcode=check.retcode, ticket=None, latency_ms=0.0, outcome="refused_by_check",
                               message=message)  # fmt: skip
            raise RejectedError(message, check.retcode)
        started = time.perf_counter()
        try:
            result: OrderResult = await ctx.terminal.call("order_send", request)
        except NotReadyError as exc:  # never left the app
            await self._release(request.client_id, str(exc), exc.code)
            await audit.result(
                retcode=None, ticket=None, latency_ms=0.0, outcome="not_sent", message=str(exc)
            )
            raise
        except RejectedError as exc:  # refused by the terminal itself (bad parameters): nothing sent
            await self._settle(request.client_id, "rejected", message=str(exc), code=exc.code)
            await audit.result(
                retcode=exc.code, ticket=None, latency_ms=0.0, outcome="refused", message=str(exc)
            )
            raise
        except (CallTimeoutError, WorkerCrashedError, TemporaryError) as exc:
            latency = (time.perf_counter() - started) * 1000
            await audit.result(retcode=exc.code, ticket=None, latency_ms=latency, outcome="ambiguous",
                               message=str(exc))  # fmt: skip
            log.error(
                "order %s: the answer was lost (%s); reconciling, not resending", request.client_id, exc
            )
            return await self._reconcile(request, tag, sent_at, audit)
        latency = (time.perf_counter() - started) * 1000
        price = rounded(result.price, ctx.spec.digits) if ctx.spec is not None else result.price
        await audit.result(retcode=result.retcode, ticket=result.order or None, latency_ms=latency,
                           deal=result.deal, volume=result.volume, price=price,
                           outcome="done" if result.ok else "refused", message=result.comment)  # fmt: skip
        return await self._finish(request, result)

    async def _durably(
        self, client_id: str, record: Awaitable[object], row: Awaitable[object], *, new_row: bool
    ) -> None:
        """Wait for an audit ``record`` and a database write on the id's ``row``, made side by side (two
        files on two threads: one wait instead of two); see :meth:`_recorded`."""
        noted, stored = await asyncio.gather(record, row, return_exceptions=True)
        await self._recorded(client_id, noted, stored, new_row=new_row)

    async def _recorded(self, client_id: str, noted: object, stored: object, *, new_row: bool) -> None:
        """Go on only if the audit entry was ``noted`` and the id's row ``stored``. If either failed,
        nothing has been sent: the id is released when its row is ours (reserved by this command, or
        ``new_row=False``), so that a new attempt may use it, and the first error is raised — the order
        never goes ahead on a record that is not on disk."""
        failed = [o for o in (noted, stored) if isinstance(o, BaseException)]
        if not failed:
            return
        if not (new_row and isinstance(stored, BaseException)):  # a row that is not ours stays as it is
            try:
                await self._release(client_id, f"not recorded: {failed[0]}")
            except Exception as exc:  # the database itself failing: the id stays "sending", settled later
                log.error("order %s: could not release its id after a failed record: %s", client_id, exc)
        raise failed[0]

    async def _finish(
        self, request: OrderRequest, result: OrderResult, verdict: Verdict | None = None
    ) -> OrderResult:
        if not result.ok and result.temporary:  # a requote and its kind: the server executed nothing
            await self._release(request.client_id, result.comment, result.retcode)
        else:
            state: ClientOrderState = "done" if result.ok else "rejected"
            await self._settle(request.client_id, state, result=result, message=result.comment,
                               code=result.retcode, verdict=verdict)  # fmt: skip
        try:
            await self._account_state.refresh()
        except TerminalError as exc:
            log.debug("refresh after trade failed: %s", exc)
        if result.ok:
            log.info("%s: %s (order %d, deal %d, id %s)", describe(request), result.retcode_name,
                     result.order, result.deal, request.client_id)  # fmt: skip
            return result
        raise _refusal(result)

    async def _settle(
        self,
        client_id: str,
        state: ClientOrderState,
        *,
        result: OrderResult | None = None,
        message: str = "",
        code: int | None = None,
        verdict: Verdict | None = None,
    ) -> None:
        now = utc_now()
        await self._db.run(
            lambda tx: tx.client_orders.finish(
                client_id, state, now, result=result, message=message, code=code, verdict=verdict
            )
        )

    async def _release(self, client_id: str, message: str, code: int | None = None) -> None:
        """Nothing reached the trade server: the id is free to be sent again (a new attempt)."""
        await self._settle(
            client_id, "rejected", message=f"not sent: {message}", code=code, verdict="not_sent"
        )

    # ------------------------------------------------------------------ ambiguity
    async def _reconcile(
        self, request: OrderRequest, tag: str, sent_at: datetime, audit: OrderAudit
    ) -> OrderResult:
        """Look for the order until the window closes; the true outcome, or "unknown"."""
        terminal = self._pool.live
        deadline = time.monotonic() + self.settings.reconcile_window_s
        found: OrderResult | None = None
        while True:
            try:
                found = await find_outcome(terminal, request, tag, sent_at)
            except TerminalError as exc:
                log.info("reconciling %s: terminal not ready yet (%s)", request.client_id, exc)
            if found is not None or time.monotonic() >= deadline:
                break
            await asyncio.sleep(min(1.0, max(0.1, deadline - time.monotonic())))
        if found is None:
            await audit.reconciled(
                verdict="unknown", outcome="unknown", window_s=self.settings.reconcile_window_s
            )
            message = (
                f"the outcome of order {request.client_id} is unknown: it was not found in the terminal's "
                f"orders, positions or deals within {self.settings.reconcile_window_s:g}s. It was NOT sent "
                f"again; look it up by this id (tag {tag}) before placing it anew"
            )
            await self._settle(request.client_id, "unknown", message=message, verdict="unknown")
            raise AmbiguousOutcomeError(message, client_id=request.client_id)
        verdict = verdict_of(request, found)
        found = _with_verdict(found, verdict)
        await audit.reconciled(verdict=verdict, outcome="done" if found.ok else "refused",
                               retcode=found.retcode, ticket=found.order, deal=found.deal,
                               how=found.comment)  # fmt: skip
        return await self._finish(request, found, verdict)

    async def _replay(self, stored: ClientOrder) -> OrderResult:
        """The first outcome of an id seen before; an unknown one is looked up again, never resent."""
        if stored.state == "done" and stored.result is not None:
            return _as_duplicate(stored.result)
        if stored.state == "rejected":
            if stored.result is not None:
                raise _refusal(stored.result)
            raise RejectedError(f"{stored.message} (order {stored.client_id}, refused before)", stored.code)
        found, asked = await self._look_up(stored, patience_s=0.0)
        if found is None:
            if asked and stored.verdict != "unknown":
                await self._record_unknown(stored)
            raise AmbiguousOutcomeError(
                stored.message
                or f"the outcome of order {stored.client_id} is still unknown; it was not resent",
                client_id=stored.client_id,
            )
        result = await self._record_found(stored, found)
        if result.ok:
            return _as_duplicate(result)
        raise _refusal(result)

    async def _look_up(self, stored: ClientOrder, patience_s: float) -> tuple[OrderResult | None, bool]:
        """What the terminal shows for a stored order, asking for up to ``patience_s`` while it cannot
        answer; and whether it answered at all."""
        deadline = time.monotonic() + patience_s
        backoff = Backoff(initial=1.0, maximum=30.0)
        while True:
            try:
                terminal = self._pool.live
                tick = await terminal.call("tick", stored.request.symbol)
                since = min(tick.time, stored.created_at) - REPLAY_LOOKBACK
                return await find_outcome(terminal, stored.request, stored.tag, since), True
            except TerminalError as exc:
                if time.monotonic() >= deadline:
                    log.info("looking up %s failed: %s", stored.client_id, exc)
                    return None, False
            await asyncio.sleep(backoff.next_delay())

    async def _record_found(self, stored: ClientOrder, found: OrderResult) -> OrderResult:
        verdict = verdict_of(stored.request, found)
        found = _with_verdict(found, verdict)
        await _restart_audit(self._audit, stored).reconciled(
            verdict=verdict,
            outcome="done" if found.ok else "refused",
            retcode=found.retcode,
            ticket=found.order,
            how=found.comment,
        )
        settled: ClientOrderState = "done" if found.ok else "rejected"
        await self._settle(stored.client_id, settled, result=found, message=found.comment, code=found.retcode,
                           verdict=verdict)  # fmt: skip
        return found

    async def _record_unknown(self, stored: ClientOrder) -> None:
        how = (
            "it was handed to the terminal, and the terminal's orders, positions and deals show no trace "
            "of it: never resent, look it up by its uuid"
        )
        await _restart_audit(self._audit, stored).reconciled(verdict="unknown", outcome="unknown", how=how)
        await self._settle(stored.client_id, "unknown", message=stored.message or how, verdict="unknown")

    async def _settle_after_restart(self, stored: ClientOrder) -> None:
        """A verdict for an order the app was cut off from (a crash, a kill): recorded in the trail."""
        if stored.state == "sending" and stored.sent_at is None:
            await _restart_audit(self._audit, stored).reconciled(
                verdict="not_sent", outcome="not_sent", how=NOT_SENT
            )
            await self._settle(stored.client_id, "rejected", message=NOT_SENT, verdict="not_sent")
            return
        found, asked = await self._look_up(stored, patience_s=RESTART_PATIENCE_S)
        if found is not None:
            await self._record_found(stored, found)
        elif asked and stored.verdict != "unknown":
            await self._record_unknown(stored)

    async def _settle_all(self, unsettled: list[ClientOrder]) -> None:
        for stored in unsettled:
            try:
                await self._settle_one_after_restart(stored.client_id)
            except Exception:
                log.exception("could not settle order %s", stored.client_id)

    async def _settle_one_after_restart(self, client_id: str) -> None:
        async with self._exclusive(client_id):  # not while the same id is being sent again
            current = await self._db.run(lambda tx: tx.client_orders.get(client_id), readonly=True)
            if current is not None and current.state in ("sending", "unknown"):
                await self._settle_after_restart(current)

    # ------------------------------------------------------------------ the usual actions
    async def place(
        self, request: OrderRequest, *, actor: str = "gui", note: str = "", ahead: AskedAhead | None = None
    ) -> OrderResult:
        """A market or pending order (``ahead``: see :meth:`send`)."""
        if request.action not in (TradeAction.DEAL, TradeAction.PENDING):
            if ahead is not None:
                ahead.drop()
            raise OrderValidationError("action", "place() takes market and pending orders")
        return await self.send(request, actor=actor, note=note, ahead=ahead)

    async def close_position(
        self,
        ticket: int,
        volume: float | None = None,
        deviation: int | None = None,
        *,
        actor: str = "gui",
        note: str = "",
        client_id: str = "",
    ) -> OrderResult:
        """Close all or ``volume`` of a position by an opposite deal naming it."""
        position = await self._position(ticket)
        spec = await self.spec(position.symbol)
        request = OrderRequest(
            action=TradeAction.DEAL,
            symbol=position.symbol,
            volume=check_close_volume(position, volume, spec),
            type=OrderType.SELL if position.side is Side.BUY else OrderType.BUY,
            position=ticket,
            deviation=self.settings.deviation_points if deviation is None else deviation,
            magic=position.magic,
            comment="close",
            client_id=client_id,
        )
        return await self.send(request, actor=actor, note=note, subject=position)

    async def modify_position(
        self, ticket: int, sl: float, tp: float, *, actor: str = "gui", note: str = "", client_id: str = ""
    ) -> OrderResult:
        position = await self._position(ticket)
        ctx = await self._context(position.symbol)
        assert ctx.spec is not None and ctx.market is not None  # noqa: S101 - a symbol was given
        new_sl, new_tp = check_position_modify(position, sl, tp, ctx.spec, ctx.market)
        request = OrderRequest(
            action=TradeAction.SLTP,
            symbol=position.symbol,
            position=ticket,
            sl=new_sl,
            tp=new_tp,
            client_id=client_id,
        )
        return await self.send(request, actor=actor, note=note, subject=position)

    async def modify_order(
        self,
        ticket: int,
        price: float,
        sl: float,
        tp: float,
        stoplimit: float = 0.0,
        *,
        actor: str = "gui",
        note: str = "",
        client_id: str = "",
    ) -> OrderResult:
        order = await self._order(ticket)
        ctx = await self._context(order.symbol)
        assert ctx.spec is not None and ctx.market is not None  # noqa: S101 - a symbol was given
        request = check_order_modify(order, price, sl, tp, stoplimit, ctx.spec, ctx.market)
        return await self.send(
            request.with_changes(client_id=client_id), actor=actor, note=note, subject=order
        )

    async def cancel_order(
        self, ticket: int, *, actor: str = "gui", note: str = "", client_id: str = ""
    ) -> OrderResult:
        order = await self._order(ticket)
        ctx = await self._context(order.symbol)
        assert ctx.spec is not None and ctx.market is not None  # noqa: S101 - a symbol was given
        check_order_remove(order, ctx.spec, ctx.market)
        request = OrderRequest(
            action=TradeAction.REMOVE, symbol=order.symbol, order=ticket, client_id=client_id
        )
        return await self.send(request, actor=actor, note=note, subject=order)

    async def close_by(
        self, ticket: int, opposite: int, *, actor: str = "gui", note: str = "", client_id: str = ""
    ) -> OrderResult:
        position = await self._position(ticket)
        by = await self._position(opposite)
        request = OrderRequest(
            action=TradeAction.CLOSE_BY, symbol=position.symbol, position=ticket, position_by=opposite,
            client_id=client_id,
        )  # fmt: skip
        return await self.send(request, actor=actor, note=note, subject=position, opposite=by)

    async def reset_kill_switch(self, account: str, *, actor: str) -> bool:
        return await self.risk.reset(account, actor)

    async def _close_all_for_risk(self, account: str) -> None:
        for position in list(self._account_state.positions):
            try:
                await self.close_position(position.ticket, actor="risk", note="kill switch: close all")
            except TerminalError as exc:
                log.error("kill switch could not close position %d: %s", position.ticket, exc)

    async def _position(self, ticket: int) -> Position:
        positions: list[Position] = await self._pool.live.call("positions", ticket=ticket)
        if not positions:
            raise RejectedError(f"position {ticket} not found (already closed?)")
        return positions[0]

    async def _order(self, ticket: int) -> Order:
        orders: list[Order] = await self._pool.live.call("orders", ticket=ticket)
        if not orders:
            raise RejectedError(f"pending order {ticket} not found (filled or removed already?)")
        return orders[0]


def _as_duplicate(result: OrderResult) -> OrderResult:
    return replace(result, duplicate=True)


def verdict_of(request: OrderRequest, found: OrderResult) -> Verdict:
    """What a reconciled outcome was: an order filled, placed as pending, a change done, or rejected."""
    if not found.ok:
        return "rejected"
    if request.action in (TradeAction.DEAL, TradeAction.PENDING):
        return "pending" if found.retcode_name == "PLACED" else "filled"
    return "done"


def _with_verdict(result: OrderResult, verdict: Verdict) -> OrderResult:
    return replace(result, extra={**result.extra, "verdict": verdict})


def _refusal(result: OrderResult) -> TerminalError:
    """The error a refused result raises: a requote and its kind are temporary, the rest rejected."""
    message = f"{result.retcode_name}: {result.comment}" if result.comment else result.retcode_name
    if result.temporary:
        return TemporaryError(message, result.retcode)
    return RejectedError(message, result.retcode)
