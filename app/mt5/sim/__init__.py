"""A drop-in for the ``MetaTrader5`` package (5.0.6231), backed by a simulated terminal and broker.

``import app.mt5.sim as mt5`` offers every function and constant of the real module with the same
parameters, result types and error codes, so a MetaTrader5 script runs unmodified (or with
``sys.modules["MetaTrader5"] = app.mt5.sim``). Arguments are taken as the extension takes them (see
scripts/derive_mt5_api.py): positionally in the documented order where it allows that
(``login(5001002, "Demo-1002", "SimBroker-Demo")``), and a call it refuses — too many arguments,
positional ones where only keywords go (``positions_get("EURUSD")``) — returns None or False with
``last_error()`` = (-2, its message), not an exception; unknown keywords are ignored, as there. The
simulator also takes keywords for the parameters the extension takes only positionally.

``initialize()`` finds a trade server (``sim://HOST:PORT/NAME`` path, ``MT5_SIM_SERVER``, the
well-known loopback port, else one started in this process with the demo accounts) and logs in to
the terminal's last account.

Importing this module starts nothing: the terminal and any embedded server appear on first use.
See :mod:`app.mt5.sim.server` for the trade server and :mod:`app.mt5.sim.admin` for faults, the
tick storm and the clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

# The simulator's extras (trading sessions): a submodule, so the module's own names stay the real API's.
from app.mt5.sim import extras as extras
from app.mt5.sim.constants import *  # noqa: F403 - the real module exports its constants this way
from app.mt5.sim.constants import (
    ORDER_TYPE_BUY as _BUY,
)
from app.mt5.sim.constants import (
    ORDER_TYPE_SELL as _SELL,
)
from app.mt5.sim.constants import (
    TRADE_ACTION_DEAL as _DEAL,
)
from app.mt5.sim.constants import (
    TRADE_RETCODE_DONE as _DONE,
)
from app.mt5.sim.constants import (
    TRADE_RETCODE_PRICE_OFF as _PRICE_OFF,
)
from app.mt5.sim.constants import (
    TRADE_RETCODE_REQUOTE as _REQUOTE,
)
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
)
from app.mt5.sim.terminal import default_terminal as _terminal

__version__ = "5.0.6231"
__author__ = "MetaQuotes Ltd."


_TOO_MANY = "Invalid number of arguments"
_NO_POSITIONAL = "Unnamed arguments not allowed"


def initialize(
    path: str | None = None,
    *extra: object,
    login: int | None = None,
    password: str | None = None,
    server: str | None = None,
    timeout: int | None = None,
    portable: bool = False,
    **_ignored: object,
) -> bool:
    """Establish connection to MetaTrader 5 terminal"""
    if extra:
        return _terminal().refuse(False, _TOO_MANY)
    return _terminal().initialize(
        path, login=login, password=password, server=server, timeout=timeout, portable=portable
    )


def login(
    login: int,
    password: str | None = None,
    server: str | None = None,
    *extra: object,
    timeout: int | None = None,
    **_ignored: object,
) -> bool:
    """Log in to specific account"""
    if extra:
        return _terminal().refuse(False, _TOO_MANY)
    return _terminal().login(login, password=password, server=server, timeout=timeout)


def shutdown() -> None:
    """Disconnect from MetaTrader 5 terminal"""
    _terminal().shutdown()


def version() -> tuple[int, int, str] | None:
    """Get MetaTrader 5 terminal version"""
    return _terminal().version()


def last_error() -> tuple[int, str]:
    """Return last error code and description"""
    return _terminal().last_error()


def terminal_info() -> TerminalInfo | None:
    """Get parameters of MetaTrader 5 terminal"""
    return _terminal().terminal_info()


def account_info() -> AccountInfo | None:
    """Return information on the current account"""
    return _terminal().account_info()


def symbols_total() -> int:
    """Return the number of all available symbols"""
    return _terminal().symbols_total()


def symbols_get(
    group: str | None = None, *extra: object, **_ignored: object
) -> tuple[SymbolInfo, ...] | None:
    """Return all available symbols or filtred by group"""
    if extra:
        return _terminal().refuse(None, _TOO_MANY)
    return _terminal().symbols_get(group)


def symbol_info(symbol: str) -> SymbolInfo | None:
    """Return full information for specified symbol"""
    return _terminal().symbol_info(symbol)


def symbol_info_tick(symbol: str) -> Tick | None:
    """Return current prices of specified symbol"""
    return _terminal().symbol_info_tick(symbol)


def symbol_select(symbol: str, enable: bool = True) -> bool:
    """Select symbol in Market Watch window or remove symbol from the window"""
    return _terminal().symbol_select(symbol, enable)


def market_book_add(symbol: str) -> bool:
    """Opens Depth of Market for a selected symbol"""
    return _terminal().market_book_add(symbol)


def market_book_get(symbol: str) -> tuple[BookInfo, ...] | None:
    """Returns Depth of Market structures of a specified symbol"""
    return _terminal().market_book_get(symbol)


def market_book_release(symbol: str) -> bool:
    """Closes Depth of Market for a selected symbol"""
    return _terminal().market_book_release(symbol)


def copy_rates_from(symbol: str, timeframe: int, date_from: datetime | int, count: int) -> np.ndarray | None:
    """Get bars starting from specific date"""
    return _terminal().copy_rates_from(symbol, timeframe, date_from, count)


def copy_rates_from_pos(symbol: str, timeframe: int, start_pos: int, count: int) -> np.ndarray | None:
    """Get bars starting from specified position"""
    return _terminal().copy_rates_from_pos(symbol, timeframe, start_pos, count)


def copy_rates_range(
    symbol: str, timeframe: int, date_from: datetime | int, date_to: datetime | int
) -> np.ndarray | None:
    """Get bars from specified period"""
    return _terminal().copy_rates_range(symbol, timeframe, date_from, date_to)


def copy_ticks_from(symbol: str, date_from: datetime | int, count: int, flags: int) -> np.ndarray | None:
    """Get ticks starting from specific date (ticks AT date_from are included)"""
    return _terminal().copy_ticks_from(symbol, date_from, count, flags)


def copy_ticks_range(
    symbol: str, date_from: datetime | int, date_to: datetime | int, flags: int
) -> np.ndarray | None:
    """Get ticks from specified period"""
    return _terminal().copy_ticks_range(symbol, date_from, date_to, flags)


def orders_total() -> int | None:
    """Return the number of orders"""
    return _terminal().orders_total()


def orders_get(
    *unnamed: object,
    symbol: str | None = None,
    group: str | None = None,
    ticket: int | None = None,
    **_ignored: object,
) -> tuple[TradeOrder, ...] | None:
    """Return all orders, can be filtered by symbol, group or ticket"""
    if unnamed:
        return _terminal().refuse(None, _NO_POSITIONAL)
    return _terminal().orders_get(symbol=symbol, group=group, ticket=ticket)


def positions_total() -> int | None:
    """Return the number of open positions"""
    return _terminal().positions_total()


def positions_get(
    *unnamed: object,
    symbol: str | None = None,
    group: str | None = None,
    ticket: int | None = None,
    **_ignored: object,
) -> tuple[TradePosition, ...] | None:
    """Return all open positions, can be filtered by symbol, group or ticket"""
    if unnamed:
        return _terminal().refuse(None, _NO_POSITIONAL)
    return _terminal().positions_get(symbol=symbol, group=group, ticket=ticket)


def history_orders_total(date_from: datetime | int, date_to: datetime | int) -> int | None:
    """Return the number of orders in selected range from history"""
    return _terminal().history_orders_total(date_from, date_to)


def history_orders_get(
    date_from: datetime | int | None = None,
    date_to: datetime | int | None = None,
    *extra: object,
    group: str | None = None,
    ticket: int | None = None,
    position: int | None = None,
    **_ignored: object,
) -> tuple[TradeOrder, ...] | None:
    """Return orders in selected range from history or filtered by position id, ticket"""
    if extra:
        return _terminal().refuse(None, _NO_POSITIONAL if ticket or position else "Invalid arguments")
    return _terminal().history_orders_get(date_from, date_to, group=group, ticket=ticket, position=position)


def history_deals_total(date_from: datetime | int, date_to: datetime | int) -> int | None:
    """Return the number of deals in selected range from history"""
    return _terminal().history_deals_total(date_from, date_to)


def history_deals_get(
    date_from: datetime | int | None = None,
    date_to: datetime | int | None = None,
    *extra: object,
    group: str | None = None,
    ticket: int | None = None,
    position: int | None = None,
    **_ignored: object,
) -> tuple[TradeDeal, ...] | None:
    """Return deals in selected range from history or filtered by position id, ticket"""
    if extra:
        return _terminal().refuse(None, _NO_POSITIONAL if ticket or position else "Invalid arguments")
    return _terminal().history_deals_get(date_from, date_to, group=group, ticket=ticket, position=position)


def order_calc_margin(action: int, symbol: str, volume: float, price: float) -> float | None:
    """Calculate margin required for specified order"""
    return _terminal().order_calc_margin(action, symbol, volume, price)


def order_calc_profit(
    action: int, symbol: str, volume: float, price_open: float, price_close: float
) -> float | None:
    """Calculate profit for the current account in the current market conditions based on parameters passed"""
    return _terminal().order_calc_profit(action, symbol, volume, price_open, price_close)


def _the_request(request: object, extra: tuple[object, ...], fields: dict[str, Any]) -> object:
    """The request the extension reads: the one dict given, or the fields given as keywords
    (``order_send(action=..., symbol=...)``); the simulator also takes ``request=``."""
    if set(fields) == {"request"} and request is None and not extra:
        return fields["request"]
    if fields:
        return _NO_POSITIONAL if request is not None or extra else dict(fields)
    return _TOO_MANY if request is None or extra else request


def _with_request(call: Any, request: object, extra: tuple[object, ...], fields: dict[str, Any]) -> Any:
    found = _the_request(request, extra, fields)
    if isinstance(found, str):
        return _terminal().refuse(None, found)
    return call(found)


def order_check(
    request: dict[str, Any] | None = None, /, *extra: object, **fields: Any
) -> OrderCheckResult | None:
    """Check if there are enough funds to execute required trading operation"""
    return _with_request(_terminal().order_check, request, extra, fields)


def order_send(
    request: dict[str, Any] | None = None, /, *extra: object, **fields: Any
) -> OrderSendResult | None:
    """Send trading requests to server"""
    return _with_request(_terminal().order_send, request, extra, fields)


# ---------------------------------------------------------------------- the package's Python helpers
def _market_order(
    order_type: int, symbol: str, volume: float, price: float, comment: str | None, ticket: int | None
) -> OrderSendResult | None:
    request: dict[str, Any] = {
        "action": _DEAL,
        "symbol": symbol,
        "volume": volume,
        "type": order_type,
        "price": price,
        "deviation": 10,
    }
    if comment is not None:
        request["comment"] = comment
    if ticket is not None:
        request["position"] = ticket
    return order_send(request)


def _retried(
    order_type: int, symbol: str, volume: float, price: float | None, comment: str | None, ticket: int | None
) -> OrderSendResult | None:
    """Send at ``price``, or at the current price with up to 10 tries on requotes, as the real helpers do."""
    if price is not None:
        return _market_order(order_type, symbol, volume, price, comment, ticket)
    result = None
    for _ in range(10):
        tick = symbol_info_tick(symbol)
        if tick is None:
            return None
        result = _market_order(
            order_type, symbol, volume, tick.ask if order_type == _BUY else tick.bid, comment, ticket
        )
        if result is None or result.retcode not in (_REQUOTE, _PRICE_OFF):
            break
    return result


def Buy(  # noqa: N802 - the real package's name
    symbol: str,
    volume: float,
    price: float | None = None,
    *,
    comment: str | None = None,
    ticket: int | None = None,
) -> OrderSendResult | None:
    """Buy at market (closing position ``ticket`` when given)."""
    return _retried(_BUY, symbol, volume, price, comment, ticket)


def Sell(  # noqa: N802 - the real package's name
    symbol: str,
    volume: float,
    price: float | None = None,
    *,
    comment: str | None = None,
    ticket: int | None = None,
) -> OrderSendResult | None:
    """Sell at market (closing position ``ticket`` when given)."""
    return _retried(_SELL, symbol, volume, price, comment, ticket)


def Close(symbol: str, *, comment: str | None = None, ticket: int | None = None) -> bool | str | None:  # noqa: N802
    """Close the symbol's positions (or position ``ticket``): True, "Partially", False, or None on error."""
    positions = positions_get(ticket=ticket) if ticket is not None else positions_get(symbol=symbol)
    if positions is None:
        return None
    tried = done = 0
    for position in positions:
        if position.type not in (_BUY, _SELL):
            continue
        tried += 1
        for _ in range(10):
            tick = symbol_info_tick(symbol)
            if tick is None:
                return None
            closing = _SELL if position.type == _BUY else _BUY
            price = tick.bid if position.type == _BUY else tick.ask
            result = _market_order(closing, symbol, position.volume, price, comment, position.ticket)
            if result is None:
                return None
            if result.retcode not in (_REQUOTE, _PRICE_OFF):
                done += result.retcode == _DONE
                break
    if done:
        return True if done == tried else "Partially"
    return False
