"""The simulated trade server: one broker shared by every sim terminal, like a real broker's server.

:class:`TradeServer` owns the books, the price feed, the storm schedule, the fault board and the
clock. Terminals reach it over loopback TCP (:mod:`app.mt5.sim.listener`); a background thread
advances it on its own (pending orders, SL/TP, expiry, stop-out, swaps) whether or not anyone is
calling. In the running app it is a separate process (:func:`start_server_process`); in unit tests,
a thread (:func:`serve_in_thread`).
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from app.mt5.sim import constants as c
from app.mt5.sim import errors, triggers
from app.mt5.sim.broker import Broker, margin_level
from app.mt5.sim.clock import Clock, ManualClock, RealClock
from app.mt5.sim.demo import DEFAULT_LOGIN, DemoAccount, create_demo_accounts, make_account
from app.mt5.sim.errors import SimError
from app.mt5.sim.execution import execute, send_result
from app.mt5.sim.faults import FaultBoard, Faults
from app.mt5.sim.feed import PriceFeed, to_structured
from app.mt5.sim.ledger import Account, Deal, Ledger, check_password
from app.mt5.sim.listener import Listener
from app.mt5.sim.market_data import book_rows, symbol_row, tick_row
from app.mt5.sim.money import margin, profit
from app.mt5.sim.process import ServerProcess, start_server_process
from app.mt5.sim.rates import TIMEFRAMES, Rates
from app.mt5.sim.requests import COMMENT_MAX, RETCODE_TEXT, Reject, Req, validate
from app.mt5.sim.sessions import MS_PER_DAY, weekly_sessions
from app.mt5.sim.store import Store
from app.mt5.sim.storm import StormSchedule
from app.mt5.sim.symbols import DEFAULT_SYMBOLS, SymbolSpec, filter_group

__all__ = ["ServerProcess", "TradeServer", "serve_in_thread", "start_server_process"]

log = logging.getLogger(__name__)

SERVER_NAME = "SimBroker"
BUILD = 5120
DEFAULT_SEED = 20_240_601
LOOP_INTERVAL_S = 0.05
_COUNT_GAP_MS = 10 * 60_000  # a clock jump longer than this is not counted as ticks "sustained"


class TradeServer:
    """The broker. Every public ``op_*`` method is a call a terminal (or an admin) can make."""

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        state_dir: Path | None = None,
        clock: Clock | None = None,
        symbols: tuple[SymbolSpec, ...] = DEFAULT_SYMBOLS,
        demo_history: bool = True,
        login_latency_s: float = 0.0,
    ) -> None:
        self.seed = seed
        self.clock: Clock = clock or RealClock()
        self.state_dir = state_dir
        self.faults = FaultBoard()
        self.login_latency_s = login_latency_s
        self._demo_history = demo_history
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._store: Store | None = None
        self.ledger = Ledger()
        self.feed = PriceFeed(list(symbols), seed, self.clock, StormSchedule())
        self.rates = Rates(self.feed)
        self.broker = Broker(self.ledger, self.feed, self.clock)
        self._sessions: dict[str, tuple[str, int]] = {}
        self._request_ids: dict[str, int] = {}
        self._requotes: dict[str, random.Random] = {}
        self._cursor: dict[str, int] = {}
        self._last_day = 0
        self.ticks_processed = 0
        self._started_cpu = time.process_time()
        self._started_wall = time.monotonic()
        self._ops: dict[str, Callable[..., Any]] = {
            name[3:]: getattr(self, name) for name in dir(self) if name.startswith("op_")
        }

    # ------------------------------------------------------------------ lifecycle
    def open(self) -> TradeServer:
        """Load the persisted books (or create the demo accounts); no thread yet."""
        now = self.clock.now_ms()
        with self._lock:
            if self.state_dir is not None:
                self._store = Store(self.state_dir)
                if not self._store.is_empty():
                    self._store.load(self.ledger)
                    schedule = self.ledger.meta.get("storm")
                    if schedule:
                        self.feed.storm.entries = StormSchedule.from_json(schedule).entries
                    log.info(
                        "trade server: loaded %d account(s) from %s",
                        len(self.ledger.accounts),
                        self._store.path,
                    )
            if not self.ledger.accounts:
                create_demo_accounts(self.broker, self.seed, now, history=self._demo_history)
                log.info("trade server: created %d demo account(s)", len(self.ledger.accounts))
            self._flush()
            self._cursor = dict.fromkeys(self.feed.specs, now)
            self._last_day = now // MS_PER_DAY
        return self

    def start(self) -> TradeServer:
        """Open and start the background thread that advances the market."""
        if not self._cursor:
            self.open()
        self._thread = threading.Thread(target=self._loop, name="sim-trade-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if isinstance(self.clock, ManualClock):
            self.clock.advance(0)  # wake the loop
        if self._thread is not None:
            self._thread.join(5)
        self.faults.clear()
        with self._lock:
            self._flush()
            if self._store is not None:
                self._store.close()
                self._store = None

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.process(full=True)
            except Exception:
                log.exception("trade server: processing failed")
            self.clock.wait(LOOP_INTERVAL_S)

    def _flush(self) -> None:
        if self._store is not None:
            self._store.flush(self.ledger)
        else:
            self.ledger.dirty.clear()
            self.ledger.deleted.clear()

    # ------------------------------------------------------------------ the market moves
    def process(self, full: bool = False) -> int:
        """Reveal ticks up to now and apply what they trigger; returns the number of events."""
        with self._lock, self.broker.frozen_quotes():
            now = self.clock.now_ms()
            events = 0
            watched = {o.symbol for o in self.ledger.orders.values()}
            watched |= {p.symbol for p in self.ledger.positions.values()}
            for symbol in self.feed.specs:
                since = self._cursor.get(symbol, now)
                if since >= now:
                    continue
                if symbol in watched or (full and now - since <= _COUNT_GAP_MS):
                    ticks, _ = self.feed.ticks_range(symbol, since + 1, now, now)
                    self.ticks_processed += len(ticks)
                    if symbol in watched and len(ticks):
                        with self.broker.frozen_quotes():
                            events += triggers.run_symbol(self.broker, symbol, ticks)
                self._cursor[symbol] = now
            day = now // MS_PER_DAY
            while self._last_day < day:
                self._last_day += 1
                triggers.charge_swaps(self.broker, self._last_day)
            for login in {p.login for p in self.ledger.positions.values()}:
                events += triggers.stop_out(self.broker, self.ledger.accounts[login], now)
            self._flush()
            return events

    # ------------------------------------------------------------------ requests from the wire
    def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        """Answer one message: apply the terminal's faults, run the op, report errors MT5's way."""
        request_id = message.get("id", 0)
        op = str(message.get("op", ""))
        terminal = str(message.get("terminal", "default"))
        function = str(message.get("fn", op))
        args = message.get("args", {})
        try:
            handler = self._ops.get(op)
            if handler is None or not isinstance(args, dict):
                raise errors.SimError(c.RES_E_UNSUPPORTED)
            if not op.startswith("admin_"):
                self._apply_faults(terminal, function, op)
            with self.broker.frozen_quotes():  # one request, one set of prices
                result = (
                    handler(terminal=terminal, **args)
                    if "terminal" in handler.__code__.co_varnames
                    else handler(**args)
                )
            faults = self.faults.get(terminal)
            if faults.applies(function) and not op.startswith("admin_"):
                if faults.hold_answer:
                    self.faults.wait_released(terminal, faults.hang_s)
                if faults.timeout_after_execute:
                    raise errors.ipc_timeout()
            return {"id": request_id, "ok": True, "result": result}
        except SimError as exc:
            return {
                "id": request_id,
                "ok": False,
                "code": exc.code,
                "message": exc.message,
                "reauth": getattr(exc, "reauth", False),
            }
        except (TypeError, ValueError, KeyError) as exc:
            log.debug("bad %s request: %s", op, exc)
            return {
                "id": request_id,
                "ok": False,
                "code": c.RES_E_INVALID_PARAMS,
                "message": "Terminal: Invalid params",
            }

    def _apply_faults(self, terminal: str, function: str, op: str) -> None:
        faults = self.faults.get(terminal)
        if faults.applies(function):
            if faults.latency_ms > 0:
                time.sleep(faults.latency_ms / 1000)
            if faults.hang:
                self.faults.wait_released(terminal, faults.hang_s)
            if faults.disconnected and function != "terminal_info":
                raise errors.no_ipc()
            if faults.ipc_timeout:
                if faults.ipc_timeout_after_s > 0:
                    time.sleep(faults.ipc_timeout_after_s)
                raise errors.ipc_timeout()
        if op == "login":
            delay = self.login_latency_s + faults.login_latency_s
            if delay > 0:
                time.sleep(delay)
            if faults.auth_fail:
                raise errors.auth_failed()

    # ------------------------------------------------------------------ sessions
    def _account(self, token: str | None) -> Account:
        session = self._sessions.get(token or "")
        if session is None:
            error = errors.auth_failed()
            error.reauth = True  # type: ignore[attr-defined]
            raise error
        return self.ledger.accounts[session[1]]

    def _spec(self, symbol: object) -> SymbolSpec:
        spec = self.feed.specs.get(symbol) if isinstance(symbol, str) else None
        if spec is None:
            raise errors.not_found()
        return spec

    def op_hello(self, terminal: str) -> dict[str, Any]:
        return {
            "server": SERVER_NAME,
            "build": BUILD,
            "now": self.clock.now_ms(),
            "clock": getattr(self.clock, "kind", ""),
        }

    def op_login(
        self,
        terminal: str,
        login: int | None = None,
        password: str | None = None,
        server: str | None = None,
        remembered: bool = False,
    ) -> dict[str, Any]:
        """Log ``terminal`` in. Without ``login``: its last account, else the default demo account.
        ``remembered``: the terminal has the password saved from an earlier login (like accounts.dat)."""
        with self._lock:
            logins = dict(self.ledger.meta.get("terminal_logins", {}))
            if login is None:
                login = int(logins.get(terminal, DEFAULT_LOGIN))
                remembered = True
            account = self.ledger.accounts.get(int(login))
            ok = account is not None and (server is None or server == account.server)
            if ok and account is not None and not remembered:
                ok = password is not None and check_password(password, account.password_hash)
            if not ok or account is None:
                log.info("trade server: login %s from %s refused", login, terminal)
                raise errors.auth_failed()
            token = secrets.token_hex(16)
            self._sessions[token] = (terminal, account.login)
            logins[terminal] = account.login
            self.ledger.touch_meta("terminal_logins", logins)
            self._flush()
            log.info("trade server: %s logged in to %d", terminal, account.login)
            return {"token": token, "login": account.login, "server": account.server}

    def op_logout(self, token: str) -> bool:
        with self._lock:
            return self._sessions.pop(token, None) is not None

    def op_terminal(self, terminal: str) -> dict[str, Any]:
        faults = self.faults.get(terminal)
        return {
            "connected": not faults.disconnected,
            "trade_allowed": faults.algo_trading,
            "ping_us": int(faults.latency_ms * 1000) + 80,
        }

    # ------------------------------------------------------------------ market data
    def op_symbols(self) -> list[str]:
        return list(self.feed.specs)

    def op_symbol_info(self, symbols: list[str], selected: list[bool], token: str | None = None) -> list[Any]:
        currency = "USD"
        if token and token in self._sessions:
            currency = self._account(token).currency
        now = self.clock.now_ms()
        rows = []
        with self._lock:
            for name, chosen in zip(symbols, selected, strict=True):
                spec = self._spec(name)
                tick = self.feed.last_tick(name, now)
                rows.append(symbol_row(spec, tick, self.rates, self.broker.rates, currency, now, chosen))
        return rows

    def op_sessions(self, symbol: str) -> list[list[list[int]]]:
        """The symbol's weekly sessions, Monday first (the MT5 API has no call for them: see
        :mod:`app.mt5.sim.extras`)."""
        return [[list(span) for span in day] for day in weekly_sessions(self._spec(symbol).sessions)]

    def op_tick(self, symbol: str) -> list[Any]:
        self._spec(symbol)
        tick = self.feed.last_tick(symbol, self.clock.now_ms())
        if tick is None:
            raise errors.not_found()
        return list(tick_row(tick))

    def op_book(self, symbol: str) -> list[Any]:
        spec = self._spec(symbol)
        tick = self.feed.last_tick(symbol, self.clock.now_ms())
        if tick is None:
            raise errors.not_found()
        return book_rows(spec, tick, self.seed)

    def op_rates(self, symbol: str, timeframe: int, mode: str, a: int, b: int) -> np.ndarray:
        self._spec(symbol)
        if timeframe not in TIMEFRAMES or b < 0 and mode != "range":
            raise errors.invalid_argument("timeframe" if timeframe not in TIMEFRAMES else "count")
        now = self.clock.now_ms()
        if mode == "from":
            bars = self.rates.back(symbol, timeframe, a, b, now)
        elif mode == "pos":
            bars = self.rates.back(symbol, timeframe, now, b, now, skip=a)
        else:
            bars = self.rates.range(symbol, timeframe, a, b, now)
        return np.ascontiguousarray(bars)

    def op_ticks(self, symbol: str, mode: str, a: int, b: int, flags: int) -> np.ndarray:
        self._spec(symbol)
        now = self.clock.now_ms()
        if flags == c.COPY_TICKS_TRADE:  # bid/ask symbols have no trade (last) ticks
            return to_structured(*self.feed.ticks_range(symbol, 1, 0, now))
        if mode == "from":
            ticks, tick_flags = self.feed.ticks_from(symbol, a, b, now)
        else:
            ticks, tick_flags = self.feed.ticks_range(symbol, a, b, now)
        return to_structured(ticks, tick_flags)

    # ------------------------------------------------------------------ the account
    def op_account(self, token: str) -> list[Any]:
        with self._lock:
            self.process()
            return list(self.broker.account_row(self._account(token)))

    def _position_rows(
        self, account: Account, symbol: str | None, group: str | None, ticket: int | None
    ) -> list[Any]:
        rows = []
        for position in self.ledger.account_positions(account.login):
            if symbol is not None and position.symbol != symbol:
                continue
            if ticket is not None and position.ticket != ticket:
                continue
            if group is not None and not filter_group([position.symbol], group):
                continue
            current, gained = self.broker.position_profit(position, account)
            rows.append(list(position.row(current, gained)))
        return rows

    def op_positions(
        self, token: str, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> list[Any]:
        with self._lock:
            self.process()
            return self._position_rows(self._account(token), symbol, group, ticket)

    def op_orders(
        self, token: str, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> list[Any]:
        with self._lock:
            self.process()
            account = self._account(token)
            rows = []
            for order in self.ledger.account_orders(account.login):
                if (symbol is not None and order.symbol != symbol) or (
                    ticket is not None and order.ticket != ticket
                ):
                    continue
                if group is not None and not filter_group([order.symbol], group):
                    continue
                quote = self.broker.quote(order.symbol)
                current = (quote[1] if order.type % 2 == 0 else quote[0]) if quote else 0.0
                rows.append(list(order.row(current)))
            return rows

    def op_history(
        self,
        token: str,
        kind: str,
        date_from: int | None = None,
        date_to: int | None = None,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> list[Any]:
        """History orders (``kind`` = "orders") or deals in [date_from, date_to] ms, or by ticket/position."""
        with self._lock:
            self.process()
            account = self._account(token)
            book: dict[int, Any] = self.ledger.deals if kind == "deals" else self.ledger.history_orders
            rows = []
            for item in sorted(
                book.values(), key=lambda i: (getattr(i, "time_msc", 0) or i.time_setup_msc, i.ticket)
            ):
                if item.login != account.login:
                    continue
                if ticket is not None:
                    if item.ticket != ticket:
                        continue
                elif position is not None:
                    if item.position_id != position:
                        continue
                else:
                    when = item.time_msc if isinstance(item, Deal) else item.time_setup_msc
                    if date_from is None or date_to is None or not date_from <= when <= date_to:
                        continue
                    if group is not None and not filter_group([item.symbol], group):
                        continue
                rows.append(list(item.row()))
            return rows

    def op_calc(
        self,
        token: str,
        what: str,
        order_type: int,
        symbol: str,
        volume: float,
        price: float,
        price_close: float = 0.0,
    ) -> float:
        with self._lock:
            account = self._account(token)
            spec = self._spec(symbol)
            if (
                order_type not in range(c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL_STOP_LIMIT + 1)
                or volume <= 0
                or price <= 0
            ):
                raise errors.SimError(c.RES_E_INVALID_PARAMS)
            if what == "margin":
                return margin(
                    spec, order_type, volume, price, account.leverage, account.currency, self.broker.rates
                )
            return profit(spec, order_type, volume, price, price_close, account.currency, self.broker.rates)

    # ------------------------------------------------------------------ trading
    def op_check(self, terminal: str, token: str, request: dict[str, Any]) -> list[Any]:
        with self._lock:
            self.process()
            account = self._account(token)
            req = Req.from_dict(request)
            figures = self.broker.figures(account)
            if not self.faults.get(terminal).algo_trading:
                verdict: Any = Reject(c.TRADE_RETCODE_CLIENT_DISABLES_AT)
            else:
                verdict = validate(self.broker, account, req, self.clock.now_ms())
            if isinstance(verdict, Reject):
                return [
                    verdict.retcode,
                    figures.balance,
                    figures.equity,
                    figures.profit,
                    figures.margin,
                    figures.margin_free,
                    figures.margin_level,
                    verdict.comment,
                    list(req.row()),
                ]
            after = verdict.margin_after  # as MT5 gives them: the account's figures once the trade is done
            return [
                0,
                figures.balance,
                figures.equity,
                figures.profit,
                round(after, 2),
                round(figures.equity - after, 2),
                margin_level(figures.equity, after),
                "Done",
                list(req.row()),
            ]

    def op_send(self, terminal: str, token: str, request: dict[str, Any]) -> list[Any]:
        with self._lock:
            self.process()
            account = self._account(token)
            req = Req.from_dict(request)
            request_id = self._request_ids.get(terminal, 0) + 1
            self._request_ids[terminal] = request_id
            faults = self.faults.get(terminal)
            now = self.clock.now_ms()
            if not faults.algo_trading:
                return self._rejected(Reject(c.TRADE_RETCODE_CLIENT_DISABLES_AT), req, request_id)
            if req.action == c.TRADE_ACTION_DEAL and faults.requote_probability > 0:
                chance = self._requotes.setdefault(terminal, random.Random(f"{self.seed}/{terminal}"))  # noqa: S311
                quote = self.broker.quote(req.symbol) if req.symbol in self.feed.specs else None
                if quote is not None and chance.random() < faults.requote_probability:
                    return self._rejected(Reject(c.TRADE_RETCODE_REQUOTE, *quote), req, request_id)
            verdict = validate(self.broker, account, req, now)
            if isinstance(verdict, Reject):
                return self._rejected(verdict, req, request_id)
            result = execute(self.broker, account, verdict, now, request_id)
            triggers.stop_out(self.broker, account, now)
            self._flush()
            log.info(
                "trade server: %d %s -> %s",
                account.login,
                _describe(req),
                RETCODE_TEXT.get(result[0], result[0]),
            )
            return list(result)

    def _rejected(self, reject: Reject, req: Req, request_id: int) -> list[Any]:
        return list(
            send_result(
                reject.retcode, req.row(), request_id, bid=reject.bid, ask=reject.ask, comment=reject.comment
            )
        )

    # ------------------------------------------------------------------ administration
    def op_admin_faults(
        self, terminal_name: str, changes: dict[str, Any], replace: bool = False
    ) -> dict[str, Any]:
        return self.faults.set(terminal_name, changes, replace).to_json()

    def op_admin_clear_faults(self, terminal_name: str | None = None) -> bool:
        self.faults.clear(terminal_name)
        return True

    def op_admin_release(self, terminal_name: str) -> bool:
        self.faults.release(terminal_name)
        return True

    def op_admin_storm(self, rate: float, symbols: list[str] | None = None) -> int:
        with self._lock:
            if symbols is not None:
                for name in symbols:
                    self._spec(name)
            start = self.feed.storm.set(self.clock.now_ms(), rate, frozenset(symbols) if symbols else None)
            self.ledger.touch_meta("storm", self.feed.storm.to_json())
            self._flush()
            return start

    def op_admin_login_latency(self, seconds: float) -> float:
        self.login_latency_s = max(0.0, float(seconds))
        return self.login_latency_s

    def op_admin_clock(self, advance_s: float = 0.0, set_ms: int | None = None) -> int:
        if not isinstance(self.clock, ManualClock):
            raise errors.SimError(c.RES_E_UNSUPPORTED, "the server's clock is not a manual clock")
        if set_ms is not None:
            self.clock.set(set_ms)
        if advance_s:
            self.clock.advance(advance_s)
        self.process()
        return self.clock.now_ms()

    def op_admin_stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "now": self.clock.now_ms(),
                "ticks_processed": self.ticks_processed,
                "cpu_s": time.process_time() - self._started_cpu,
                "wall_s": time.monotonic() - self._started_wall,
                "accounts": len(self.ledger.accounts),
                "positions": len(self.ledger.positions),
                "orders": len(self.ledger.orders),
                "deals": len(self.ledger.deals),
                "sessions": len(self._sessions),
                "storm": self.feed.storm.current(self.clock.now_ms()),
                "faults": self.faults.snapshot(),
                "waiting": self.faults.waiting(),  # calls hung or holding their answer, per terminal
            }

    def op_admin_create_account(
        self,
        login: int,
        password: str,
        name: str = "",
        currency: str = "USD",
        leverage: int = 100,
        balance: float = 10_000.0,
        hedging: bool = True,
        real: bool = False,
        server: str | None = None,
        commission_per_lot: float = 0.0,
    ) -> int:
        """Open an account (an app test's own broker account) with a first deposit."""
        with self._lock:
            if login in self.ledger.accounts:
                raise errors.SimError(c.RES_E_INVALID_PARAMS, "account exists")
            demo = DemoAccount(
                login,
                password,
                name or f"Sim {login}",
                server or ("SimBroker-Live" if real else "SimBroker-Demo"),
                currency,
                leverage,
                c.ACCOUNT_TRADE_MODE_REAL if real else c.ACCOUNT_TRADE_MODE_DEMO,
                c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING if hedging else c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING,
                balance,
                commission_per_lot,
                0,
                0.0,
                0,
                0,
                (),
            )
            self.ledger.put_account(make_account(demo))
            if balance:
                self._deposit(login, balance, "Deposit")
            self._flush()
            return login

    def op_admin_deposit(self, login: int, amount: float, comment: str = "Deposit") -> float:
        with self._lock:
            self._deposit(login, amount, comment)
            self._flush()
            return self.ledger.accounts[login].balance

    def _deposit(self, login: int, amount: float, comment: str) -> None:
        if login not in self.ledger.accounts:
            raise errors.not_found()
        self.ledger.add_deal(
            Deal(
                ticket=self.ledger.deal_ticket(),
                login=login,
                order=0,
                time_msc=self.clock.now_ms(),
                type=c.DEAL_TYPE_BALANCE,
                entry=c.DEAL_ENTRY_IN,
                volume=0.0,
                price=0.0,
                symbol="",
                profit=round(amount, 2),
                reason=c.DEAL_REASON_CLIENT,
                comment=comment[:COMMENT_MAX],
            )
        )


def _describe(req: Req) -> str:
    """A request for the log: what and how much, never anything else."""
    return (
        f"action={req.action} type={req.type} {req.symbol} {req.volume} "
        f"position={req.position} order={req.order}"
    )


def serve_in_thread(
    seed: int = DEFAULT_SEED,
    state_dir: Path | None = None,
    clock: Clock | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    demo_history: bool = True,
    faults: dict[str, Faults] | None = None,
) -> Listener:
    """A trade server in this process, listening on ``host:port`` (0 = any free port), for tests.

    Returns the :class:`Listener` (``.address``, ``.server``, ``.stop()``; a context manager).
    """
    server = TradeServer(seed=seed, state_dir=state_dir, clock=clock, demo_history=demo_history).start()
    for terminal, settings in (faults or {}).items():
        server.faults.set(terminal, settings.to_json())
    return Listener(server, host, port).start()
