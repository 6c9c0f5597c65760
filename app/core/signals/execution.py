"""What an approved signal does, in the trading service's terms — never around it.

Every command carries a client id derived from the signal's uuid (the uuid itself for the one order an
opening signal places; ``uuid.<ticket>`` for each position a close acts on), so a signal carried out
twice — a second delivery, a retry after a crash — sends nothing the second time: the trading service
answers the first outcome.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.core.trading import AskedAhead, TradingService
from app.models import (
    AccountInfo,
    Order,
    OrderRequest,
    OrderResult,
    OrderType,
    Position,
    RejectedError,
    Side,
    SymbolSpec,
    TradeAction,
)
from app.models.signals import Signal, SignalAction

MAX_CLIENT_ID = 64


def sub_id(uuid: str, part: str) -> str:
    """The client id of one of a signal's commands (fits the 64 characters an id may have)."""
    candidate = f"{uuid}.{part}"
    if len(candidate) <= MAX_CLIENT_ID:
        return candidate
    return f"{hashlib.sha256(uuid.encode()).hexdigest()[:40]}.{part}"[:MAX_CLIENT_ID]


class SizingError(ValueError):
    """The signal's volume cannot be worked out (``str()`` says what is missing)."""


def risk_volume(signal: Signal, spec: SymbolSpec, account: AccountInfo | None, price: float) -> float:
    """The volume that loses ``risk_percent`` of the equity if the SL is hit."""
    if account is None:
        raise SizingError("risk_percent: the account's equity is not known yet")
    if signal.sl_points:
        distance_points = signal.sl_points
    elif signal.sl and price:
        distance_points = abs(price - signal.sl) / spec.point
    else:
        raise SizingError("risk_percent needs an SL (sl or sl_points) to size the position")
    if spec.tick_size <= 0 or spec.tick_value <= 0 or distance_points <= 0:
        raise SizingError(f"risk_percent: {spec.name}'s tick value is not known")
    loss_per_lot = distance_points * spec.point / spec.tick_size * spec.tick_value
    volume = spec.floor_volume(account.equity * (signal.risk_percent or 0) / 100 / loss_per_lot)
    if volume < spec.volume_min:
        raise SizingError(
            f"risk_percent {signal.risk_percent:g}% of {account.equity:g} is less than {spec.name}'s "
            f"minimum volume {spec.volume_min:g} at that SL"
        )
    return min(volume, spec.volume_max)


def opening_side(signal: Signal, positions: list[Position]) -> Side | None:
    """The side an opening signal opens: buy/sell as said; reverse: against the symbol's net position."""
    if signal.action is SignalAction.BUY:
        return Side.BUY
    if signal.action is SignalAction.SELL:
        return Side.SELL
    if signal.action is SignalAction.REVERSE:
        net = sum(p.volume * p.side.sign for p in positions if p.symbol == signal.symbol)
        if net == 0:
            return None
        return Side.SELL if net > 0 else Side.BUY
    return None


def market_request(signal: Signal, side: Side, volume: float) -> OrderRequest:
    return OrderRequest(
        action=TradeAction.DEAL,
        symbol=signal.symbol,
        volume=volume,
        type=OrderType.BUY if side is Side.BUY else OrderType.SELL,
        sl=signal.sl or 0.0,
        tp=signal.tp or 0.0,
        comment=(signal.comment or signal.source)[:19],
        client_id=signal.uuid,
    )


@dataclass
class Outcome:
    """What carrying a signal out did: the tickets touched and one line for the trader."""

    ticket: int | None
    message: str


Describe = Callable[[OrderResult], str]
Positions = Callable[[], Awaitable[list[Position]]]
Orders = Callable[[], Awaitable[list[Order]]]


class Carrier:
    """Carries one signal out through the trading service; a refusal raises its TerminalError."""

    def __init__(
        self,
        trading: TradingService,
        positions: Positions,
        orders: Orders,
        *,
        actor: str,
        note: str,
        ahead: AskedAhead | None = None,
    ) -> None:
        self.trading = trading
        self.ahead = ahead  # the terminal's facts for a buy or sell, asked while the signal was stored
        self.positions = positions
        self.orders = orders
        self.actor = actor
        self.note = note
        self.carried = 0  # the commands carried out so far (a refusal after one is a partial failure)

    async def __call__(self, signal: Signal, request: OrderRequest | None) -> Outcome:
        a = signal.action
        if a in (SignalAction.BUY, SignalAction.SELL):
            if request is None:  # pragma: no cover - an opening signal always has its request
                raise RejectedError("the signal's order could not be made")
            result = await self._open(signal, request)
            return Outcome(result.order or None, _line(result))
        if a in (SignalAction.CLOSE, SignalAction.FLAT, SignalAction.CLOSE_ALL, SignalAction.REVERSE):
            return await self._close(signal, request)
        if a is SignalAction.CLOSE_PARTIAL:
            return await self._close_part(signal)
        if a is SignalAction.MODIFY:
            return await self._modify(signal)
        return await self._cancel(signal)

    async def _open(self, signal: Signal, request: OrderRequest) -> OrderResult:
        request = self.trading.with_points(request, signal.sl_points, signal.tp_points)
        ahead, self.ahead = self.ahead, None  # for the first order only (a reverse's follows closes)
        result = await self.trading.place(request, actor=self.actor, note=self.note, ahead=ahead)
        self.carried += 1
        return result

    async def _close(self, signal: Signal, request: OrderRequest | None) -> Outcome:
        every = signal.action is SignalAction.CLOSE_ALL
        mine = await self.positions() if every else await _targets(signal, self.positions)
        lines, ticket = [], None
        for p in mine:
            cid = sub_id(signal.uuid, f"c{p.ticket}")
            result = await self.trading.close_position(
                p.ticket, actor=self.actor, note=self.note, client_id=cid
            )
            self.carried += 1
            lines.append(f"closed {p.ticket}: {_line(result)}")
            ticket = p.ticket
        if signal.action is SignalAction.REVERSE and request is not None:
            result = await self._open(signal, request)
            lines.append(f"opened: {_line(result)}")
            ticket = result.order or None
        if not lines:
            return Outcome(None, f"no open position on {signal.symbol or 'the account'}: nothing to do")
        return Outcome(ticket, "; ".join(lines))

    async def _close_part(self, signal: Signal) -> Outcome:
        target = await _one_position(signal, self.positions)
        cid = sub_id(signal.uuid, f"p{target.ticket}")
        result = await self.trading.close_position(
            target.ticket, signal.volume, actor=self.actor, note=self.note, client_id=cid
        )
        self.carried += 1
        return Outcome(target.ticket, f"closed {signal.volume:g} of {target.ticket}: {_line(result)}")

    async def _modify(self, signal: Signal) -> Outcome:
        targets = await _targets(signal, self.positions)
        if not targets:
            raise RejectedError(f"no open position {signal.ticket or 'on ' + signal.symbol} to modify")
        lines = []
        for p in targets:
            sl = p.sl if signal.sl is None else signal.sl
            tp = p.tp if signal.tp is None else signal.tp
            cid = sub_id(signal.uuid, f"m{p.ticket}")
            result = await self.trading.modify_position(
                p.ticket, sl, tp, actor=self.actor, note=self.note, client_id=cid
            )
            self.carried += 1
            lines.append(f"{p.ticket}: {_line(result)}")
        return Outcome(targets[-1].ticket, "; ".join(lines))

    async def _cancel(self, signal: Signal) -> Outcome:
        orders = await self.orders()
        if signal.ticket:
            pending = [o for o in orders if o.ticket == signal.ticket]
        else:
            pending = [o for o in orders if o.symbol == signal.symbol]
        if not pending:
            raise RejectedError(f"no pending order {signal.ticket or 'on ' + signal.symbol} to cancel")
        lines = []
        for o in pending:
            cid = sub_id(signal.uuid, f"x{o.ticket}")
            result = await self.trading.cancel_order(
                o.ticket, actor=self.actor, note=self.note, client_id=cid
            )
            self.carried += 1
            lines.append(f"cancelled {o.ticket}: {_line(result)}")
        return Outcome(pending[-1].ticket, "; ".join(lines))


async def _targets(signal: Signal, positions: Positions) -> list[Position]:
    every = await positions()
    if signal.ticket:
        return [p for p in every if p.ticket == signal.ticket]
    if signal.symbol:
        return [p for p in every if p.symbol == signal.symbol]
    return []


async def _one_position(signal: Signal, positions: Positions) -> Position:
    targets = sorted(await _targets(signal, positions), key=lambda p: p.time)
    if not targets:
        raise RejectedError(f"no open position {signal.ticket or 'on ' + signal.symbol} to close part of")
    return targets[0]


def _line(result: OrderResult) -> str:
    what = f"{result.retcode_name or result.retcode}: order {result.order}"
    if result.deal:
        what += f", deal {result.deal} at {result.price:g}"
    if result.duplicate:
        what += " (carried out before: nothing was sent again)"
    return what
