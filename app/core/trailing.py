"""Client-side trailing stops, as MT5's terminal runs them: in this app, on the tick stream.

MT5's trailing stop is not an order the trade server holds: the terminal watches the price and sends
a modify of the SL when it has moved far enough (app.core.trailing_rule). So does this service, and
like MT5's it **runs only while this app runs** — the window says so. Every move is a modify through
the trading service (the one choke point: validation, client id, audit), at most one in flight per
position; a refused one is logged and tried again after a backoff on the ticks' own clock (a refusal
storm is impossible: one attempt per backoff step). The distances are kept in the database per
account and ticket, so a restart goes on trailing; a position that closed has its row removed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, Protocol

from app.core.hub import Delivery, EventHub, Subscription, Topic
from app.core.market_data import MarketData
from app.core.storage import Database
from app.core.times import utc_now
from app.core.trailing_rule import MAX_TRAILING_POINTS, tighter, trailed_stop
from app.models import OrderResult, Position, TemporaryError, TerminalError, TickBatch

log = logging.getLogger(__name__)

HOLDER = "trailing"  # what keeps trailed positions' symbols in the quote stream
RETRY_INITIAL_S = 2.0
RETRY_MAX_S = 60.0


class Modifier(Protocol):
    async def modify_position(
        self, ticket: int, sl: float, tp: float, *, actor: str = ..., note: str = ..., client_id: str = ...
    ) -> OrderResult: ...


class AccountView(Protocol):
    """What the service reads of the live account (app.core.account_state.AccountState)."""

    @property
    def positions(self) -> tuple[Position, ...]: ...

    @property
    def account(self) -> Any: ...


class TrailingError(ValueError):
    """A trailing stop that cannot be set as asked (the message says why)."""


class TrailingService:
    name = "trailing"

    def __init__(
        self,
        db: Database,
        hub: EventHub,
        market_data: MarketData,
        trading: Modifier,
        account_state: AccountView,
        *,
        retry_initial_s: float = RETRY_INITIAL_S,
        retry_max_s: float = RETRY_MAX_S,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self._hub = hub
        self._market = market_data
        self._trading = trading
        self._account_state = account_state
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self._clock = clock
        self._stops: dict[tuple[str, int], int] = {}  # (account, ticket) -> points
        self._positions: dict[int, Position] = {}  # the live account's, by ticket
        self._by_symbol: dict[str, list[Position]] = {}  # the trailed ones per symbol (the tick path)
        self._sent: dict[int, float] = {}  # the last SL sent per ticket (the terminal may not show it yet)
        self.in_flight: set[int] = set()
        self._failures: dict[int, int] = {}
        self._retry_at_msc: dict[int, int] = {}
        self.modifies_sent = 0
        self._following: set[str] = set()  # symbols being subscribed for a trailed position
        self._subscription: Subscription | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self._stops = await self._db.run(lambda tx: tx.trailing.all(), readonly=True)
        self._subscription = self._hub.subscribe((Topic.TICKS, Topic.POSITIONS), Delivery.ALL, maxlen=10_000)
        self._watcher = asyncio.create_task(self._watch(self._subscription), name="trailing-watch")
        if self._stops:
            log.info("%d client-side trailing stop(s) kept from before", len(self._stops))

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
            self._watcher = None
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
        await asyncio.gather(*list(self._tasks), return_exceptions=True)  # modifies on their way end

    # ------------------------------------------------------------------ what callers do
    def _account(self) -> str:
        account = self._account_state.account
        return str(account.key) if account is not None else ""

    def distance(self, ticket: int) -> int | None:
        """The trailing distance in points of the live account's position ``ticket`` (None: off)."""
        return self._stops.get((self._account(), ticket))

    async def set(self, ticket: int, points: int, *, actor: str = "gui") -> None:
        """Trail the live account's position ``ticket`` by ``points`` (kept until it closes)."""
        account = self._account()
        if not account:
            raise TrailingError("the live account is not known yet: try again in a moment")
        if not isinstance(points, int) or not 0 < points <= MAX_TRAILING_POINTS:
            raise TrailingError(f"a trailing distance is 1 to {MAX_TRAILING_POINTS} points, not {points!r}")
        position = self._position(ticket)
        if position is None:
            raise TrailingError(f"position {ticket} is not open (closed already?)")
        now = self._clock()
        await self._db.run(lambda tx: tx.trailing.put(account, ticket, points, now, created_by=actor))
        self._stops[(account, ticket)] = points
        self._positions.setdefault(ticket, position)
        self._reindex()
        self._failures.pop(ticket, None)
        self._retry_at_msc.pop(ticket, None)
        log.info("Trailing stop on #%d (%s): %d points, client-side: it runs while this app runs",
                 ticket, position.symbol, points)  # fmt: skip
        self._follow([position.symbol])  # the next tick moves the SL if the price is far enough

    async def clear(self, ticket: int, *, actor: str = "gui") -> bool:
        """Stop trailing ``ticket`` (its SL stays where it is); False if it was not trailed."""
        account = self._account()
        if (account, ticket) not in self._stops:
            return False
        await self._db.run(lambda tx: tx.trailing.remove(account, [ticket]))
        self._forget(account, ticket)
        log.info("Trailing stop on #%d switched off (by %s); the SL stays where it is", ticket, actor)
        return True

    # ------------------------------------------------------------------ the stream
    async def _watch(self, subscription: Subscription) -> None:
        async for events in subscription:
            for event in events:
                try:
                    if event.topic is Topic.POSITIONS:
                        self.observe_positions(event.value)
                    else:
                        self.check(event.value)
                except Exception:  # one bad event must not end the watch
                    log.exception("trailing: an event could not be handled")

    def observe_positions(self, positions: tuple[Position, ...]) -> None:
        """The live account's open positions: trailing ends (its row goes) for those that closed."""
        self._positions = {p.ticket: p for p in positions}
        account = self._account()
        if not account:
            return
        gone = [t for (a, t) in self._stops if a == account and t not in self._positions]
        for ticket in gone:
            self._forget(account, ticket)
            log.info("Trailing stop on #%d ended: the position is closed", ticket)
        if gone:
            self._spawn(self._remove_rows(account, gone), "trailing-remove")
        self._reindex()
        symbols = set(self._by_symbol)
        self._market.hold(HOLDER, symbols)
        missing = sorted(symbols - set(self._market.subscribed) - self._following)
        if missing:  # kept from before a restart, on a symbol Market Watch does not show
            self._follow(missing)

    def check(self, batch: TickBatch) -> list[int]:
        """Send the SL moves this batch's latest price calls for; returns the tickets modified."""
        if not len(batch):
            return []
        bid, ask, now_msc = float(batch.bid[-1]), float(batch.ask[-1]), int(batch.time_msc[-1])
        return [
            p.ticket for p in self._by_symbol.get(batch.symbol, ()) if self._consider(p, bid, ask, now_msc)
        ]

    def _trailed(self) -> list[Position]:
        account = self._account()
        return [p for t, p in self._positions.items() if (account, t) in self._stops]

    def _reindex(self) -> None:
        """Which trailed positions each symbol's ticks are checked against."""
        by_symbol: dict[str, list[Position]] = {}
        for position in self._trailed():
            by_symbol.setdefault(position.symbol, []).append(position)
        self._by_symbol = by_symbol

    def _consider(self, position: Position, bid: float, ask: float, now_msc: int) -> bool:
        ticket = position.ticket
        if ticket in self.in_flight or now_msc < self._retry_at_msc.get(ticket, 0):
            return False  # one modify at a time; after a refusal, not before the backoff is over
        points = self.distance(ticket)
        spec = self._market.cached_spec(position.symbol)
        if points is None or spec is None:
            return False
        known_sl = tighter(position.side, position.sl, self._sent.get(ticket, 0.0))
        new_sl = trailed_stop(position, bid, ask, points, spec, known_sl)
        if new_sl is None:
            return False
        self.in_flight.add(ticket)
        self._spawn(self._modify(position, new_sl, points, now_msc), "trailing-modify")
        return True

    async def _modify(self, position: Position, sl: float, points: int, now_msc: int) -> None:
        ticket = position.ticket
        try:
            self.modifies_sent += 1
            await self._trading.modify_position(
                ticket, sl, position.tp, actor="trailing", note=f"trailing stop {points} points"
            )
        except TerminalError as exc:
            delay = self._back_off(ticket, now_msc)
            level = logging.INFO if isinstance(exc, TemporaryError) else logging.WARNING
            log.log(level, "Trailing stop on #%d: moving the SL to %s was refused (%s); trying again in "
                    "%.0f s at the earliest", ticket, sl, exc.message, delay)  # fmt: skip
        except Exception:  # a bug must not end trailing for good, nor go unheard
            delay = self._back_off(ticket, now_msc)
            log.exception("Trailing stop on #%d: moving the SL failed; trying again in %.0f s", ticket, delay)
        else:
            self._sent[ticket] = sl
            self._failures.pop(ticket, None)
            self._retry_at_msc.pop(ticket, None)
        finally:
            self.in_flight.discard(ticket)

    def _back_off(self, ticket: int, now_msc: int) -> float:
        """The next attempt for ``ticket`` waits, doubling with each failure in a row (tick time)."""
        failures = self._failures.get(ticket, 0) + 1
        self._failures[ticket] = failures
        delay = min(self.retry_max_s, self.retry_initial_s * 2 ** (failures - 1))
        self._retry_at_msc[ticket] = now_msc + int(delay * 1000)
        return delay

    # ------------------------------------------------------------------ plumbing
    def _position(self, ticket: int) -> Position | None:
        found = self._positions.get(ticket)
        if found is None:
            found = next((p for p in self._account_state.positions if p.ticket == ticket), None)
        return found

    def _forget(self, account: str, ticket: int) -> None:
        self._stops.pop((account, ticket), None)
        self._reindex()
        self._sent.pop(ticket, None)
        self._failures.pop(ticket, None)
        self._retry_at_msc.pop(ticket, None)

    async def _remove_rows(self, account: str, tickets: list[int]) -> None:
        try:
            await self._db.run(lambda tx: tx.trailing.remove(account, tickets))
        except Exception:
            log.exception("trailing: closed positions' rows could not be removed")

    def _follow(self, symbols: list[str]) -> None:
        self._market.hold(HOLDER, {p.symbol for p in self._trailed()} | set(symbols))
        self._following |= set(symbols)
        self._spawn(self._subscribe(symbols), "trailing-follow")

    async def _subscribe(self, symbols: list[str]) -> None:
        try:
            await self._market.subscribe(symbols, strict=False)
        except TemporaryError as exc:
            log.warning("trailing: %s not in the quote stream yet (%s)", ", ".join(symbols), exc)
        finally:
            self._following -= set(symbols)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
