"""A simulated MetaTrader 5 terminal: the functions of the MetaTrader5 module, for one process.

Like the real package, a process has one terminal connection (:func:`default_terminal`), every
function returns None (or False) on failure and leaves the reason in :meth:`SimTerminal.last_error`,
and arguments are checked the way the extension checks them (``(-2, 'Invalid "comment" argument')``).
The terminal keeps what a real terminal keeps locally (Market Watch, depth-of-market subscriptions,
saved passwords); the trade server keeps everything a broker keeps.
"""

from __future__ import annotations

import functools
import numbers
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import platformdirs

from app.mt5.sim import address, errors
from app.mt5.sim import constants as c
from app.mt5.sim.client import Connection, probe
from app.mt5.sim.errors import SUCCESS, SimError
from app.mt5.sim.requests import COMMENT_MAX
from app.mt5.sim.structs import (
    AccountInfo,
    BookInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
    TradeRequest,
)
from app.mt5.sim.symbols import DEFAULT_MARKET_WATCH, filter_group

T = TypeVar("T")
DEFAULT_TIMEOUT_MS = 60_000
BUILD_DATE = "17 Jun 2025"
_INT_FIELDS = (
    "action",
    "magic",
    "order",
    "deviation",
    "type",
    "type_filling",
    "type_time",
    "position",
    "position_by",
)
_FLOAT_FIELDS = ("volume", "price", "stoplimit", "sl", "tp")


# ---------------------------------------------------------------------- argument checks, like the extension
def _int(value: object, name: str) -> int:
    if isinstance(value, numbers.Integral):
        return int(value)
    raise errors.invalid_argument(name)


def _float(value: object, name: str) -> float:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise errors.invalid_argument(name)


def _str(value: object, name: str) -> str:
    if isinstance(value, str):
        return value
    raise errors.invalid_argument(name)


def _time_ms(value: object, name: str) -> int:
    """A time argument as the extension reads it, in ms: a number of seconds since the epoch, or a
    datetime converted with its ``timestamp()`` — so a naive datetime is taken as the computer's local
    time (MetaQuotes' documentation: create datetimes in UTC) — both cut to whole seconds."""
    if isinstance(value, datetime):
        return int(value.timestamp()) * 1000
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return int(float(value)) * 1000
    raise errors.invalid_argument(name)


def _request(request: object) -> dict[str, Any]:
    """The request dict with every field typed; a bad field fails like the real order_send."""
    if not isinstance(request, dict):
        raise SimError(c.RES_E_INVALID_PARAMS, "Invalid arguments")
    clean: dict[str, Any] = {}
    for name in _INT_FIELDS:
        clean[name] = _int(request.get(name, 0), name)
    for name in _FLOAT_FIELDS:
        clean[name] = _float(request.get(name, 0.0), name)
    clean["symbol"] = _str(request.get("symbol", ""), "symbol")
    comment = _str(request.get("comment", ""), "comment")
    if len(comment) > COMMENT_MAX:
        raise errors.invalid_argument("comment")
    clean["comment"] = comment
    expiration = request.get("expiration", 0)
    clean["expiration"] = _time_ms(expiration, "expiration") // 1000 if expiration else 0
    return clean


def _trade_request(row: list[Any]) -> TradeRequest:
    return TradeRequest(*row)


# ---------------------------------------------------------------------- the embedded trade server
_embedded_lock = threading.Lock()
_embedded: Any = None


def _embedded_server_address() -> str:
    """A trade server in this process, started on first need (no other server could be found)."""
    global _embedded  # noqa: PLW0603 - one embedded broker per process, like one terminal per process
    with _embedded_lock:
        if _embedded is None:
            from app.mt5.sim.server import DEFAULT_SEED, serve_in_thread

            seed = int(os.environ.get("MT5_SIM_SEED", DEFAULT_SEED))
            _embedded = serve_in_thread(seed=seed)
        return str(_embedded.address)


def _connect(target: address.Target, timeout_ms: int) -> tuple[Connection, dict[str, Any]]:
    """Reach the trade server: the one named, else the well-known port, else an embedded one."""
    host, port = target.host, target.port
    if host is None:
        if probe(address.DEFAULT_HOST, address.DEFAULT_PORT):
            host, port = address.DEFAULT_HOST, address.DEFAULT_PORT
        else:
            host, port = address.split(_embedded_server_address())
    connection = Connection(host, port or address.DEFAULT_PORT, target.terminal, timeout_ms / 1000)
    try:
        return connection, connection.call("hello", "initialize")
    except SimError as exc:
        if exc.code == c.RES_E_INTERNAL_FAIL_CONNECT:
            raise errors.ipc_init_failed(f"no trade server at {host}:{port}") from None
        raise


def _data_folders(terminal: str) -> tuple[Path, Path]:
    """The terminal's data folder and the common one, with the ``MQL5/Files`` folders scripts write
    their output to, as a terminal's installation has them (in the user data dir, not the home)."""
    root = Path(platformdirs.user_data_dir("mt5-console", appauthor=False)) / "sim-terminals"
    data, common = root / terminal, root / "Common"
    _make_folder(data / "MQL5" / "Files")
    _make_folder(common / "Files")
    return data, common


@functools.lru_cache(maxsize=256)
def _make_folder(path: Path) -> None:
    """Once per folder and process (terminal_info() is asked for every few seconds)."""
    path.mkdir(parents=True, exist_ok=True)


class SimTerminal:
    """One terminal: its connection, its logged-in account, its Market Watch and its last error."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._error: tuple[int, str] = SUCCESS
        self._connection: Connection | None = None
        self._token: str | None = None
        self._login: int | None = None
        self._saved: dict[int, str] = {}  # passwords the terminal remembers (accounts.dat)
        self._path = ""
        self._symbols: list[str] = []
        self._selected: set[str] = set(DEFAULT_MARKET_WATCH)
        self._books: set[str] = set()

    # ------------------------------------------------------------------ plumbing
    def _run(self, fallback: T, body: Callable[[], T]) -> T:
        with self._lock:
            try:
                result = body()
            except SimError as exc:
                self._error = exc.pair
                return fallback
            self._error = SUCCESS
            return result

    def refuse(self, fallback: T, message: str) -> T:
        """A call whose arguments the extension refuses: ``fallback``, and last_error() (-2, message)."""
        with self._lock:
            self._error = (c.RES_E_INVALID_PARAMS, message)
            return fallback

    def _connected(self) -> Connection:
        if self._connection is None:
            raise errors.no_ipc()
        return self._connection

    def _call(self, op: str, function: str, **args: Any) -> Any:
        connection = self._connected()
        try:
            return connection.call(op, function, **args)
        except SimError as exc:
            if not getattr(exc, "reauth", False) or self._login is None or "token" not in args:
                raise
        self._relogin()  # the server forgot the session (it restarted): log in again, like a terminal
        return connection.call(op, function, **{**args, "token": self._token})

    def _relogin(self) -> None:
        """Log back in to the account after the server lost the session (it restarted), with the
        saved password — or, for an account the server logged this terminal in to by itself (its
        last account, as a terminal remembers it), the same way again."""
        if self._connection is None or self._login is None:
            raise errors.no_ipc()
        password = self._saved.get(self._login)
        credentials: dict[str, Any] = {"password": password} if password is not None else {"remembered": True}
        answer = self._connection.call("login", "login", login=self._login, **credentials)
        self._token = answer["token"]

    def _account_call(self, op: str, function: str, **args: Any) -> Any:
        if self._token is None:
            raise errors.auth_failed() if self._connection is not None else errors.no_ipc()
        return self._call(op, function, token=self._token, **args)

    def _symbol(self, symbol: object) -> str:
        name = _str(symbol, "symbol")
        self._connected()
        return name

    # ------------------------------------------------------------------ connection and login
    def initialize(
        self,
        path: str | None = None,
        *,
        login: int | None = None,
        password: str | None = None,
        server: str | None = None,
        timeout: int | None = None,
        portable: bool = False,
    ) -> bool:
        def body() -> bool:
            if path is not None:
                _str(path, "path")
            if login is not None:
                _int(login, "login")
            if password is not None:
                _str(password, "password")
            if server is not None:
                _str(server, "server")
            timeout_ms = _int(timeout, "timeout") if timeout is not None else DEFAULT_TIMEOUT_MS
            self._close()
            target = address.parse(path)
            connection, hello = _connect(target, timeout_ms)
            try:
                if login is None:
                    answer = connection.call("login", "initialize", remembered=True)
                else:
                    secret = password if password is not None else self._saved.get(int(login))
                    answer = connection.call(
                        "login", "initialize", login=int(login), password=secret, server=server
                    )
            except SimError:
                connection.close()
                raise
            self._connection = connection
            self._symbols = connection.call("symbols", "initialize")
            self._token, self._login = answer["token"], int(answer["login"])
            if password is not None:
                self._saved[self._login] = password
            self._path = f"sim://{connection.address}/{target.terminal}"
            self._build = int(hello.get("build", 0))
            return True

        return self._run(False, body)

    def login(
        self,
        login: int,
        *,
        password: str | None = None,
        server: str | None = None,
        timeout: int | None = None,
    ) -> bool:
        def body() -> bool:
            number = _int(login, "login")
            if password is not None:
                _str(password, "password")
            if server is not None:
                _str(server, "server")
            if timeout is not None:
                _int(timeout, "timeout")
            connection = self._connected()
            if self._token is not None:
                try:
                    connection.call("logout", "login", token=self._token)
                except SimError:
                    pass
            self._token = None  # switching accounts logs the old one out, even if the new login fails
            secret = password if password is not None else self._saved.get(number)
            answer = connection.call("login", "login", login=number, password=secret, server=server)
            self._token, self._login = answer["token"], number
            if password is not None:
                self._saved[number] = password
            return True

        return self._run(False, body)

    def _close(self) -> None:
        if self._connection is not None:
            if self._token is not None:
                try:
                    self._connection.call("logout", "shutdown", token=self._token)
                except SimError:
                    pass
            self._connection.close()
        self._connection = None
        self._token = None
        self._books.clear()

    def shutdown(self) -> None:
        with self._lock:
            self._close()
            self._error = SUCCESS

    def version(self) -> tuple[int, int, str] | None:
        def body() -> tuple[int, int, str]:
            self._connected()
            return (500, self._build, BUILD_DATE)

        return self._run(None, body)

    def last_error(self) -> tuple[int, str]:
        return self._error

    def terminal_info(self) -> TerminalInfo | None:
        def body() -> TerminalInfo:
            state = self._call("terminal", "terminal_info")
            data_path, common = _data_folders(self._path.rsplit("/", 1)[-1])
            return TerminalInfo(
                False,
                False,
                bool(state["connected"]) and self._token is not None,
                False,
                bool(state["trade_allowed"]),
                False,
                False,
                False,
                False,
                False,
                self._build,
                100_000,
                0,
                int(state["ping_us"]),
                0.0,
                0.0,
                "MT5 Console Sim Broker Ltd.",
                "MetaTrader 5 (simulated)",
                "English",
                self._path,
                str(data_path),
                str(common),
            )

        return self._run(None, body)

    def account_info(self) -> AccountInfo | None:
        return self._run(None, lambda: AccountInfo(*self._account_call("account", "account_info")))

    # ------------------------------------------------------------------ symbols
    def symbols_total(self) -> int:
        def body() -> int:
            self._connected()
            return len(self._symbols)

        return self._run(0, body)

    def _infos(self, names: list[str], function: str) -> list[SymbolInfo]:
        rows = self._call(
            "symbol_info",
            function,
            symbols=names,
            selected=[n in self._selected for n in names],
            token=self._token,
        )
        return [SymbolInfo(*row) for row in rows]

    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None:
        def body() -> tuple[SymbolInfo, ...]:
            self._connected()
            names = filter_group(self._symbols, _str(group, "group") if group is not None else None)
            return tuple(self._infos(names, "symbols_get"))

        return self._run(None, body)

    def symbol_info(self, symbol: str) -> SymbolInfo | None:
        def body() -> SymbolInfo:
            name = self._symbol(symbol)
            if name not in self._symbols:
                raise errors.not_found()
            return self._infos([name], "symbol_info")[0]

        return self._run(None, body)

    def symbol_sessions(self, symbol: str) -> tuple[tuple[tuple[int, int], ...], ...] | None:
        """The symbol's weekly quote and trade sessions, Monday first, in minutes from midnight server
        time (a simulator extra: see :mod:`app.mt5.sim.extras`)."""

        def body() -> tuple[tuple[tuple[int, int], ...], ...]:
            name = self._symbol(symbol)
            if name not in self._symbols:
                raise errors.not_found()
            week = self._call("sessions", "symbol_sessions", symbol=name)
            return tuple(tuple((int(start), int(end)) for start, end in day) for day in week)

        return self._run(None, body)

    def symbol_info_tick(self, symbol: str) -> Tick | None:
        return self._run(
            None, lambda: Tick(*self._call("tick", "symbol_info_tick", symbol=self._symbol(symbol)))
        )

    def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        def body() -> bool:
            name = self._symbol(symbol)
            if name not in self._symbols:
                raise errors.not_found()
            if enable:
                self._selected.add(name)
                return True
            if self._token is not None:
                if self._account_call("positions", "symbol_select", symbol=name) or name in self._books:
                    return False  # MT5 keeps a symbol with open positions or an open depth of market
            self._selected.discard(name)
            return True

        return self._run(False, body)

    def market_book_add(self, symbol: str) -> bool:
        def body() -> bool:
            name = self._symbol(symbol)
            if name not in self._symbols:
                raise errors.not_found()
            self._selected.add(name)
            self._books.add(name)
            return True

        return self._run(False, body)

    def market_book_get(self, symbol: str) -> tuple[BookInfo, ...] | None:
        def body() -> tuple[BookInfo, ...]:
            name = self._symbol(symbol)
            if name not in self._books:
                raise errors.not_found()
            return tuple(BookInfo(*row) for row in self._call("book", "market_book_get", symbol=name))

        return self._run(None, body)

    def market_book_release(self, symbol: str) -> bool:
        def body() -> bool:
            name = self._symbol(symbol)
            if name not in self._books:
                return False
            self._books.discard(name)
            return True

        return self._run(False, body)

    # ------------------------------------------------------------------ bars and ticks
    def _array(self, op: str, function: str, **args: Any) -> np.ndarray:
        result = self._call(op, function, **args)
        return result if isinstance(result, np.ndarray) else np.asarray(result)

    def copy_rates_from(
        self, symbol: str, timeframe: int, date_from: datetime | int, count: int
    ) -> np.ndarray | None:
        return self._run(
            None,
            lambda: self._array(
                "rates",
                "copy_rates_from",
                symbol=self._symbol(symbol),
                timeframe=_int(timeframe, "timeframe"),
                mode="from",
                a=_time_ms(date_from, "date_from"),
                b=_int(count, "count"),
            ),
        )

    def copy_rates_from_pos(
        self, symbol: str, timeframe: int, start_pos: int, count: int
    ) -> np.ndarray | None:
        return self._run(
            None,
            lambda: self._array(
                "rates",
                "copy_rates_from_pos",
                symbol=self._symbol(symbol),
                timeframe=_int(timeframe, "timeframe"),
                mode="pos",
                a=_int(start_pos, "start_pos"),
                b=_int(count, "count"),
            ),
        )

    def copy_rates_range(
        self, symbol: str, timeframe: int, date_from: datetime | int, date_to: datetime | int
    ) -> np.ndarray | None:
        return self._run(
            None,
            lambda: self._array(
                "rates",
                "copy_rates_range",
                symbol=self._symbol(symbol),
                timeframe=_int(timeframe, "timeframe"),
                mode="range",
                a=_time_ms(date_from, "date_from"),
                b=_time_ms(date_to, "date_to"),
            ),
        )

    def copy_ticks_from(
        self, symbol: str, date_from: datetime | int, count: int, flags: int
    ) -> np.ndarray | None:
        return self._run(
            None,
            lambda: self._array(
                "ticks",
                "copy_ticks_from",
                symbol=self._symbol(symbol),
                mode="from",
                a=_time_ms(date_from, "date_from"),
                b=_int(count, "count"),
                flags=_int(flags, "flags"),
            ),
        )

    def copy_ticks_range(
        self, symbol: str, date_from: datetime | int, date_to: datetime | int, flags: int
    ) -> np.ndarray | None:
        return self._run(
            None,
            lambda: self._array(
                "ticks",
                "copy_ticks_range",
                symbol=self._symbol(symbol),
                mode="range",
                a=_time_ms(date_from, "date_from"),
                b=_time_ms(date_to, "date_to"),
                flags=_int(flags, "flags"),
            ),
        )

    # ------------------------------------------------------------------ orders, positions, history
    @staticmethod
    def _filters(symbol: object, group: object, ticket: object) -> dict[str, Any]:
        return {
            "symbol": _str(symbol, "symbol") if symbol is not None else None,
            "group": _str(group, "group") if group is not None else None,
            "ticket": _int(ticket, "ticket") if ticket is not None else None,
        }

    def orders_total(self) -> int | None:
        return self._run(None, lambda: len(self._account_call("orders", "orders_total")))

    def orders_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...] | None:
        return self._run(
            None,
            lambda: tuple(
                TradeOrder(*row)
                for row in self._account_call("orders", "orders_get", **self._filters(symbol, group, ticket))
            ),
        )

    def positions_total(self) -> int | None:
        return self._run(None, lambda: len(self._account_call("positions", "positions_total")))

    def positions_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...] | None:
        return self._run(
            None,
            lambda: tuple(
                TradePosition(*row)
                for row in self._account_call(
                    "positions", "positions_get", **self._filters(symbol, group, ticket)
                )
            ),
        )

    def _history(
        self,
        kind: str,
        function: str,
        date_from: object,
        date_to: object,
        group: object,
        ticket: object,
        position: object,
    ) -> list[Any]:
        args: dict[str, Any] = {"kind": kind}
        if date_from is not None and date_to is not None:  # a period (a ticket or position then is ignored)
            args["date_from"] = _time_ms(date_from, "date_from")
            args["date_to"] = _time_ms(date_to, "date_to")
            if group is not None:
                args["group"] = _str(group, "group")
        elif (date_from is not None or date_to is not None) and (ticket is not None or position is not None):
            raise SimError(c.RES_E_INVALID_PARAMS, "Unnamed arguments not allowed")
        elif ticket is not None:
            args["ticket"] = _int(ticket, "ticket")
        elif position is not None:
            args["position"] = _int(position, "position")
        else:
            raise SimError(c.RES_E_INVALID_PARAMS, "Invalid arguments")
        return list(self._account_call("history", function, **args))

    def history_orders_total(self, date_from: datetime | int, date_to: datetime | int) -> int | None:
        return self._run(
            None,
            lambda: len(
                self._history("orders", "history_orders_total", date_from, date_to, None, None, None)
            ),
        )

    def history_orders_get(
        self,
        date_from: datetime | int | None = None,
        date_to: datetime | int | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeOrder, ...] | None:
        return self._run(
            None,
            lambda: tuple(
                TradeOrder(*row)
                for row in self._history(
                    "orders", "history_orders_get", date_from, date_to, group, ticket, position
                )
            ),
        )

    def history_deals_total(self, date_from: datetime | int, date_to: datetime | int) -> int | None:
        return self._run(
            None,
            lambda: len(self._history("deals", "history_deals_total", date_from, date_to, None, None, None)),
        )

    def history_deals_get(
        self,
        date_from: datetime | int | None = None,
        date_to: datetime | int | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeDeal, ...] | None:
        return self._run(
            None,
            lambda: tuple(
                TradeDeal(*row)
                for row in self._history(
                    "deals", "history_deals_get", date_from, date_to, group, ticket, position
                )
            ),
        )

    # ------------------------------------------------------------------ trading
    def order_calc_margin(self, action: int, symbol: str, volume: float, price: float) -> float | None:
        return self._run(
            None,
            lambda: float(
                self._account_call(
                    "calc",
                    "order_calc_margin",
                    what="margin",
                    order_type=_int(action, "action"),
                    symbol=self._symbol(symbol),
                    volume=_float(volume, "volume"),
                    price=_float(price, "price"),
                )
            ),
        )

    def order_calc_profit(
        self, action: int, symbol: str, volume: float, price_open: float, price_close: float
    ) -> float | None:
        return self._run(
            None,
            lambda: float(
                self._account_call(
                    "calc",
                    "order_calc_profit",
                    what="profit",
                    order_type=_int(action, "action"),
                    symbol=self._symbol(symbol),
                    volume=_float(volume, "volume"),
                    price=_float(price_open, "price_open"),
                    price_close=_float(price_close, "price_close"),
                )
            ),
        )

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult | None:
        def body() -> OrderCheckResult:
            row = self._account_call("check", "order_check", request=_request(request))
            return OrderCheckResult._make([*row[:-1], _trade_request(row[-1])])

        return self._run(None, body)

    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None:
        def body() -> OrderSendResult:
            row = self._account_call("send", "order_send", request=_request(request))
            return OrderSendResult._make([*row[:-1], _trade_request(row[-1])])

        return self._run(None, body)


_default: SimTerminal | None = None
_default_lock = threading.Lock()


def default_terminal() -> SimTerminal:
    """This process's terminal, created on first use (the MetaTrader5 module has one per process)."""
    global _default  # noqa: PLW0603 - per-process state, exactly like the real package
    with _default_lock:
        if _default is None:
            _default = SimTerminal()
        return _default
