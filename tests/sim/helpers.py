"""Test helpers: request builders and a look into the (deterministic) future of prices."""

from __future__ import annotations

from typing import Any

import numpy as np

import app.mt5.sim.constants as c
from app.mt5.sim.listener import Listener
from app.mt5.sim.terminal import SimTerminal


def future(sim: Listener, symbol: str, seconds: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time_msc, bid, ask) of the ticks of the next ``seconds``: prices are a function of time."""
    now = sim.server.clock.now_ms()
    ticks, _ = sim.server.feed.ticks_range(
        symbol, now + 1, now + int(seconds * 1000), now + int(seconds * 1000)
    )
    return ticks.time_msc, ticks.bid, ticks.ask


def market(terminal: SimTerminal, symbol: str, side: int, volume: float, **extra: Any) -> dict[str, Any]:
    """A market order request at the current price, as a script builds it."""
    tick = terminal.symbol_info_tick(symbol)
    assert tick is not None
    info = terminal.symbol_info(symbol)
    assert info is not None
    filling = c.ORDER_FILLING_IOC if info.filling_mode & 2 else c.ORDER_FILLING_FOK
    request: dict[str, Any] = {
        "action": c.TRADE_ACTION_DEAL,
        "symbol": symbol,
        "volume": volume,
        "type": side,
        "price": tick.ask if side == c.ORDER_TYPE_BUY else tick.bid,
        "deviation": 10,
        "magic": 7,
        "type_filling": filling,
        "type_time": c.ORDER_TIME_GTC,
    }
    request.update(extra)
    return request


def snapshot(terminal: SimTerminal) -> tuple[Any, ...]:
    """Everything a rejected request must leave unchanged."""
    account = terminal.account_info()
    assert account is not None
    deals = terminal.history_deals_get(0, 2**31)
    orders = terminal.history_orders_get(0, 2**31)
    return (account.balance, terminal.positions_get(), terminal.orders_get(), deals, orders)
