"""The trading service: the one choke point for place, modify, close and cancel.

The window, the API and every later caller trade through here, so safety checks and the audit trail
apply to all of them alike. Outcomes come back as app types or as the taxonomy of
:mod:`app.models.errors`:

* :class:`RejectedError` — the terminal or server refused (``code`` = retcode); nothing happened.
* :class:`TemporaryError` — e.g. a requote; nothing happened, the caller may decide to try again.
* :class:`AmbiguousOutcomeError` — the request left for the terminal and its fate is unknown
  (timeout, disconnect or worker crash during the send). It is never resent blindly.
"""

from __future__ import annotations

import logging
import uuid

from app.core.account_state import AccountState
from app.models import (
    AmbiguousOutcomeError,
    CallTimeoutError,
    FillPolicy,
    NotReadyError,
    OrderCheck,
    OrderRequest,
    OrderResult,
    OrderType,
    Position,
    RejectedError,
    Side,
    SymbolSpec,
    TemporaryError,
    TerminalError,
    TradeAction,
    WorkerCrashedError,
)
from app.mt5.pool import TerminalPool

log = logging.getLogger(__name__)

FILLING_PREFERENCE = (FillPolicy.FOK, FillPolicy.IOC, FillPolicy.RETURN)


class TradingService:
    name = "trading"

    def __init__(self, pool: TerminalPool, account_state: AccountState) -> None:
        self._pool = pool
        self._account_state = account_state

    # ------------------------------------------------------------------ requests
    async def spec(self, symbol: str) -> SymbolSpec:
        spec: SymbolSpec = await self._pool.live.call("symbol", symbol)
        return spec

    async def prepare(self, request: OrderRequest) -> OrderRequest:
        """Fill in what the caller may leave out: client id, market price, a filling the symbol allows."""
        changes: dict[str, object] = {}
        if not request.client_id:
            changes["client_id"] = uuid.uuid4().hex
        if request.action in (TradeAction.DEAL, TradeAction.PENDING) and request.symbol:
            spec = await self.spec(request.symbol)
            if request.filling is None or request.filling not in spec.filling_modes:
                allowed = [f for f in FILLING_PREFERENCE if f in spec.filling_modes]
                if request.filling is None and allowed:
                    changes["filling"] = allowed[0]
            if request.action is TradeAction.DEAL and not request.price:
                tick = await self._pool.live.call("tick", request.symbol)
                changes["price"] = tick.ask if request.type.side is Side.BUY else tick.bid
        return request.with_changes(**changes) if changes else request

    async def with_points(
        self, request: OrderRequest, sl_points: float | None = None, tp_points: float | None = None
    ) -> OrderRequest:
        """SL/TP given as distances in points from the order's price, turned into prices on the right
        side of it (below a buy's price for the SL, above for the TP; the reverse for a sell)."""
        if not sl_points and not tp_points:
            return request
        spec = await self.spec(request.symbol)
        price = request.price
        if not price:
            tick = await self._pool.live.call("tick", request.symbol)
            price = tick.ask if request.type.side is Side.BUY else tick.bid
        sign = request.type.side.sign
        changes: dict[str, object] = {}
        if sl_points:
            changes["sl"] = spec.round_price(price - sign * sl_points * spec.point)
        if tp_points:
            changes["tp"] = spec.round_price(price + sign * tp_points * spec.point)
        return request.with_changes(**changes)

    async def check(self, request: OrderRequest, *, actor: str = "gui") -> OrderCheck:
        """``order_check`` of the prepared request: margin, free margin after, the verdict."""
        prepared = await self.prepare(request)
        result: OrderCheck = await self._pool.live.call("order_check", prepared)
        return result

    async def send(self, request: OrderRequest) -> OrderResult:
        """Check, then send once. Never retried here: see the module docstring for the outcomes."""
        prepared = await self.prepare(request)
        check: OrderCheck = await self._pool.live.call("order_check", prepared)
        if not check.ok:
            raise RejectedError(f"{check.retcode_name}: {check.comment}", check.retcode)
        result = await self._send_once(prepared)
        try:
            await self._account_state.refresh()
        except TerminalError as exc:
            log.debug("refresh after trade failed: %s", exc)
        if result.ok:
            log.info(
                "%s %s %s %.2f: %s (order %d, deal %d)",
                prepared.action.value, prepared.type.value, prepared.symbol, prepared.volume,
                result.retcode_name, result.order, result.deal,
            )  # fmt: skip
            return result
        message = f"{result.retcode_name}: {result.comment}" if result.comment else result.retcode_name
        if result.temporary:
            raise TemporaryError(message, result.retcode)
        raise RejectedError(message, result.retcode)

    async def _send_once(self, request: OrderRequest) -> OrderResult:
        try:
            result: OrderResult = await self._pool.live.call("order_send", request)
        except NotReadyError:
            raise  # never left the app: safe
        except RejectedError:
            raise  # refused by the terminal before reaching the server (bad parameters)
        except (CallTimeoutError, WorkerCrashedError, TemporaryError) as exc:
            raise AmbiguousOutcomeError(
                f"order {request.client_id} may or may not have been executed: {exc}",
                client_id=request.client_id,
                code=exc.code,
            ) from exc
        return result

    # ------------------------------------------------------------------ the usual actions
    async def place(self, request: OrderRequest, *, actor: str = "gui", note: str = "") -> OrderResult:
        return await self.send(request)

    async def close_position(
        self,
        ticket: int,
        volume: float | None = None,
        deviation: int = 20,
        *,
        actor: str = "gui",
        note: str = "",
    ) -> OrderResult:
        """Close (all or ``volume`` of) a position by an opposite deal naming it."""
        position = await self._position(ticket)
        request = OrderRequest(
            action=TradeAction.DEAL,
            symbol=position.symbol,
            volume=position.volume if volume is None else volume,
            type=OrderType.SELL if position.side is Side.BUY else OrderType.BUY,
            position=ticket,
            deviation=deviation,
            magic=position.magic,
        )
        return await self.send(request)

    async def modify_position(
        self, ticket: int, sl: float, tp: float, *, actor: str = "gui", note: str = ""
    ) -> OrderResult:
        position = await self._position(ticket)
        request = OrderRequest(action=TradeAction.SLTP, symbol=position.symbol, position=ticket, sl=sl, tp=tp)
        return await self.send(request)

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
    ) -> OrderResult:
        request = OrderRequest(
            action=TradeAction.MODIFY, order=ticket, price=price, sl=sl, tp=tp, stoplimit=stoplimit
        )
        return await self.send(request)

    async def cancel_order(self, ticket: int, *, actor: str = "gui", note: str = "") -> OrderResult:
        return await self.send(OrderRequest(action=TradeAction.REMOVE, order=ticket))

    async def close_by(
        self, ticket: int, opposite: int, *, actor: str = "gui", note: str = ""
    ) -> OrderResult:
        position = await self._position(ticket)
        request = OrderRequest(
            action=TradeAction.CLOSE_BY, symbol=position.symbol, position=ticket, position_by=opposite
        )
        return await self.send(request)

    async def _position(self, ticket: int) -> Position:
        positions: list[Position] = await self._pool.live.call("positions", ticket=ticket)
        if not positions:
            raise RejectedError(f"position {ticket} not found (already closed?)")
        return positions[0]
