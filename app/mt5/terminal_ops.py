"""The operations a worker performs on its terminal, each returning app types.

Runs only inside a worker process. Every MT5 function call is paired with its own ``last_error()``
read immediately after it, in the same process and thread, so no call can read another's error.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import numpy as np

from app.models import (
    AccountInfo,
    BarSeries,
    Book,
    Deal,
    Order,
    OrderCheck,
    OrderRequest,
    OrderResult,
    Position,
    SymbolDetails,
    SymbolSpec,
    Tick,
    TickBatch,
    Timeframe,
    WeekSessions,
)
from app.mt5.mapping import Mt5Mapping
from app.mt5.protocol import Failure, TickCursor

TICKS_PER_FETCH = 50_000


class Mt5CallFailed(Exception):
    """An MT5 function returned ``None`` (or False); carries the paired ``last_error()``."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(f"{failure.function}: {failure.code} {failure.message}")
        self.failure = failure


def _seconds(moment: datetime | int | float) -> int:
    return int(moment.timestamp()) if isinstance(moment, datetime) else int(moment)


def _utc(moment: datetime | int | float) -> datetime:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.fromtimestamp(moment, tz=UTC)


class TerminalOps:
    """One terminal's operations over an MT5 module (the real ``MetaTrader5`` or ``app.mt5.sim``)."""

    def __init__(self, mt5: ModuleType) -> None:
        self.mt5 = mt5
        self.map = Mt5Mapping(mt5)

    # ---------------------------------------------------------------- the one way to call MT5
    def _call(self, name: str, *args: Any, accept_false: bool = False, **kwargs: Any) -> Any:
        result = getattr(self.mt5, name)(*args, **kwargs)
        code, message = self.mt5.last_error()
        if result is None or (result is False and not accept_false):
            raise Mt5CallFailed(Failure("mt5", name, int(code), str(message)))
        return result

    # ---------------------------------------------------------------- connection
    def initialize(
        self,
        path: str | None = None,
        login: int | None = None,
        password: str | None = None,
        server: str | None = None,
        init_timeout_ms: int | None = None,
        portable: bool = False,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if login is not None:
            kwargs.update(login=int(login), password=password or "", server=server or "")
        if init_timeout_ms is not None:
            kwargs["timeout"] = int(init_timeout_ms)
        if portable:
            kwargs["portable"] = True
        args = (path,) if path else ()
        self._call("initialize", *args, **kwargs)
        return self.health()

    def login(self, login: int, password: str, server: str, timeout: int = 60_000) -> AccountInfo:
        self._call("login", int(login), password=password, server=server, timeout=int(timeout))
        return self.account()

    def shutdown(self) -> bool:
        self.mt5.shutdown()
        return True

    def health(self) -> dict[str, Any]:
        """Connection facts for the terminal state: connected, ping, build, the logged-in account."""
        account = self.mt5.account_info()
        self.mt5.last_error()
        return self._health(account)

    def _health(self, account: Any) -> dict[str, Any]:
        """The facts, given the ``account_info()`` just read (None when logged in to none)."""
        info = self._call("terminal_info")
        return {
            "connected": bool(info.connected),
            "trade_allowed": bool(info.trade_allowed),
            "ping_ms": float(info.ping_last) / 1000.0,
            "build": int(info.build),
            "company": str(info.company),
            "login": int(account.login) if account is not None else None,
            "server": str(account.server) if account is not None else "",
        }

    def trade_context(self, symbol: str = "", positions: bool = False) -> dict[str, Any]:
        """What the trading service judges an order against, fresh from the terminal in one round trip
        (instead of five): the connection facts, the account, and with a ``symbol`` its spec and latest
        tick, and with ``positions`` the open positions. Each part is the operation of the same name;
        the account is read once, for the health's login and the account alike."""
        raw = self.mt5.account_info()
        code, message = self.mt5.last_error()
        facts: dict[str, Any] = {"health": self._health(raw)}
        if raw is None:  # logged in to none: what account() would raise
            raise Mt5CallFailed(Failure("mt5", "account_info", int(code), str(message)))
        facts["account"] = self.map.account(raw)
        if symbol:
            facts["spec"] = self.symbol(symbol)
            facts["tick"] = self.tick(symbol)
        if positions:
            facts["positions"] = self.positions()
        return facts

    def pid(self) -> int:
        return os.getpid()

    # ---------------------------------------------------------------- account and trading state
    def account(self) -> AccountInfo:
        return self.map.account(self._call("account_info"))

    def account_state(self) -> dict[str, Any]:
        """The account with its open positions and pending orders, in one round trip instead of three
        (the app's refresh runs every half second on the terminal an order's checks also wait for)."""
        return {"account": self.account(), "positions": self.positions(), "orders": self.orders()}

    def positions(self, symbol: str | None = None, ticket: int | None = None) -> list[Position]:
        kwargs: dict[str, Any] = {k: v for k, v in (("symbol", symbol), ("ticket", ticket)) if v is not None}
        return [self.map.position(p) for p in self._call("positions_get", **kwargs)]

    def orders(self, symbol: str | None = None, ticket: int | None = None) -> list[Order]:
        kwargs: dict[str, Any] = {k: v for k, v in (("symbol", symbol), ("ticket", ticket)) if v is not None}
        return [self.map.order(o) for o in self._call("orders_get", **kwargs)]

    def history_deals(
        self,
        date_from: datetime | int | None = None,
        date_to: datetime | int | None = None,
        *,
        position: int | None = None,
        ticket: int | None = None,
        group: str | None = None,
    ) -> list[Deal]:
        if ticket is not None:
            deals = self._call("history_deals_get", ticket=int(ticket))
        elif position is not None:
            deals = self._call("history_deals_get", position=int(position))
        else:
            kwargs: dict[str, Any] = {"group": group} if group else {}
            deals = self._call(
                "history_deals_get", _utc(date_from or 0), _utc(date_to or time.time()), **kwargs
            )
        return [self.map.deal(d) for d in deals]

    def history_orders(
        self,
        date_from: datetime | int | None = None,
        date_to: datetime | int | None = None,
        *,
        position: int | None = None,
        ticket: int | None = None,
    ) -> list[Order]:
        if ticket is not None:
            orders = self._call("history_orders_get", ticket=int(ticket))
        elif position is not None:
            orders = self._call("history_orders_get", position=int(position))
        else:
            orders = self._call("history_orders_get", _utc(date_from or 0), _utc(date_to or time.time()))
        return [self.map.order(o) for o in orders]

    def order_check(self, request: OrderRequest) -> OrderCheck:
        return self.map.order_check(self._call("order_check", self.map.request(request)))

    def order_send(self, request: OrderRequest) -> OrderResult:
        started = time.perf_counter()
        result = self._call("order_send", self.map.request(request))
        latency_ms = (time.perf_counter() - started) * 1000
        return self.map.order_result(result, request.client_id, latency_ms)

    def order_calc_margin(self, request: OrderRequest) -> float:
        raw = self.map.request(request)
        return float(
            self._call("order_calc_margin", raw["type"], request.symbol, request.volume, request.price)
        )

    def order_calc_profit(self, request: OrderRequest, price_close: float) -> float:
        raw = self.map.request(request)
        args = (raw["type"], request.symbol, request.volume, request.price, price_close)
        return float(self._call("order_calc_profit", *args, accept_false=True))

    # ---------------------------------------------------------------- symbols and market data
    def symbols(self, group: str | None = None) -> list[SymbolSpec]:
        found = self._call("symbols_get", group=group) if group else self._call("symbols_get")
        return [self.map.symbol_spec(s) for s in found]

    def symbol(self, name: str) -> SymbolSpec:
        self._call("symbol_select", name, True)
        return self.map.symbol_spec(self._call("symbol_info", name))

    def symbol_details(self, name: str) -> SymbolDetails:
        """The Specification window's facts in one round trip: the spec, what one lot would hold as
        margin bought at the ask and sold at the bid (``order_calc_margin``, in the account currency),
        and the weekly sessions where the terminal module tells them (the simulator's ``extras``; the
        real package has no such call). A figure the terminal cannot give is None, not a failure."""
        spec = self.symbol(name)
        raw_tick = self.mt5.symbol_info_tick(name)
        self.mt5.last_error()
        account = self.mt5.account_info()
        self.mt5.last_error()
        buy = sell = None
        if raw_tick is not None and account is not None:
            buy = self._margin_of_a_lot(self.mt5.ORDER_TYPE_BUY, name, float(raw_tick.ask))
            sell = self._margin_of_a_lot(self.mt5.ORDER_TYPE_SELL, name, float(raw_tick.bid))
        return SymbolDetails(
            spec,
            margin_buy=buy,
            margin_sell=sell,
            currency=str(account.currency) if account is not None else "",
            sessions=self._sessions(name),
        )

    def _margin_of_a_lot(self, order_type: int, name: str, price: float) -> float | None:
        if price <= 0:  # no quote yet
            return None
        margin = self.mt5.order_calc_margin(order_type, name, 1.0, price)
        self.mt5.last_error()
        return None if margin is None else float(margin)

    def _sessions(self, name: str) -> WeekSessions | None:
        ask = getattr(getattr(self.mt5, "extras", None), "symbol_sessions", None)
        if ask is None:
            return None
        week = ask(name)
        self.mt5.last_error()
        if week is None:
            return None
        return tuple(tuple((int(start), int(end)) for start, end in day) for day in week)

    def tick(self, symbol: str) -> Tick:
        return self.map.tick(symbol, self._call("symbol_info_tick", symbol))

    def rates_from_pos(self, symbol: str, timeframe: Timeframe, start: int, count: int) -> BarSeries:
        rates = self._call(
            "copy_rates_from_pos", symbol, self.map.timeframe[timeframe], int(start), int(count)
        )
        return self.map.bar_series(symbol, timeframe, rates)

    def rates_from(
        self, symbol: str, timeframe: Timeframe, date_from: datetime | int, count: int
    ) -> BarSeries:
        rates = self._call(
            "copy_rates_from", symbol, self.map.timeframe[timeframe], _utc(date_from), int(count)
        )
        return self.map.bar_series(symbol, timeframe, rates)

    def rates_range(
        self, symbol: str, timeframe: Timeframe, date_from: datetime | int, date_to: datetime | int
    ) -> BarSeries:
        tf = self.map.timeframe[timeframe]
        rates = self._call("copy_rates_range", symbol, tf, _utc(date_from), _utc(date_to))
        return self.map.bar_series(symbol, timeframe, rates)

    def ticks_range(self, symbol: str, from_msc: int, to_msc: int) -> TickBatch:
        """Ticks with ``from_msc <= time_msc <= to_msc`` (MT5 takes seconds: we widen, then cut)."""
        raw = self._call(
            "copy_ticks_range", symbol, from_msc // 1000, to_msc // 1000 + 1, self.mt5.COPY_TICKS_ALL
        )
        batch = self.map.tick_batch(symbol, raw)
        keep = np.nonzero((batch.time_msc >= from_msc) & (batch.time_msc <= to_msc))[0]
        if len(keep) == len(batch):
            return batch
        if len(keep) == 0:
            return TickBatch.empty(symbol)
        return batch.slice(int(keep[0]), int(keep[-1]) + 1)

    def book(self, symbol: str) -> Book:
        self._call("market_book_add", symbol)
        entries = self._call("market_book_get", symbol)
        return self.map.book(symbol, entries, int(time.time() * 1000))

    # ---------------------------------------------------------------- the tick stream
    def tick_cursor_now(self, symbol: str) -> TickCursor:
        """A cursor just after the newest tick of ``symbol``: streaming starts from here."""
        self._call("symbol_select", symbol, True)
        latest = self._call("symbol_info_tick", symbol)
        batch = self.map.tick_batch(
            symbol,
            self._call(
                "copy_ticks_from",
                symbol,
                int(latest.time_msc) // 1000,
                TICKS_PER_FETCH,
                self.mt5.COPY_TICKS_ALL,
            ),
        )
        if len(batch) == 0:
            return TickCursor(int(latest.time_msc), 0)
        last = int(batch.time_msc[-1])
        return TickCursor(last, int(np.count_nonzero(batch.time_msc == last)))

    def ticks_since(self, symbol: str, cursor: TickCursor) -> tuple[TickBatch, TickCursor]:
        """Every tick after ``cursor``, exactly once, and the cursor after them.

        ``copy_ticks_from`` takes whole seconds and includes ticks at its start, so we ask from the
        cursor's second and drop what the cursor says was already delivered.
        """
        raw = self._call(
            "copy_ticks_from", symbol, cursor.time_msc // 1000, TICKS_PER_FETCH, self.mt5.COPY_TICKS_ALL
        )
        batch = self.map.tick_batch(symbol, raw)
        times = batch.time_msc
        start = int(np.searchsorted(times, cursor.time_msc, side="left"))
        at_cursor = int(np.searchsorted(times, cursor.time_msc, side="right")) - start
        start += min(at_cursor, cursor.count_at_time)
        new = batch if start == 0 else batch.slice(start)
        if len(new) == 0:
            return new, cursor
        last = int(new.time_msc[-1])
        count = int(np.count_nonzero(new.time_msc == last))
        if last == cursor.time_msc:
            count += cursor.count_at_time
        next_cursor = TickCursor(last, count)
        if len(batch) >= TICKS_PER_FETCH:  # more waiting than one fetch returns: continue from here
            more, next_cursor = self.ticks_since(symbol, next_cursor)
            if len(more):
                new = _concat(new, more)
        return new, next_cursor


def _concat(a: TickBatch, b: TickBatch) -> TickBatch:
    return TickBatch(
        a.symbol,
        np.concatenate([a.time_msc, b.time_msc]),
        np.concatenate([a.bid, b.bid]),
        np.concatenate([a.ask, b.ask]),
        np.concatenate([a.last, b.last]),
        np.concatenate([a.volume, b.volume]),
        np.concatenate([a.flags, b.flags]),
    )
