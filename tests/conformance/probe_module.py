"""Probe how a MetaTrader5 module takes its arguments and its times, as a user's script meets it.

Run by tests/conformance/test_module_contract.py in a process of its own (the MetaTrader5 package
keeps one terminal per process): ``python probe_module.py MODULE PATH`` with the account in
``MT5_DEMO_LOGIN``, ``MT5_DEMO_PASSWORD``, ``MT5_DEMO_SERVER`` and the symbol in ``MT5_DEMO_SYMBOL``.
MODULE is ``MetaTrader5`` or a compatible one (``app.mt5.sim``), imported as ``MetaTrader5``.
Prints one JSON object of facts. Nothing is traded: ``order_check`` at most.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np


def main(module_name: str, path: str) -> int:
    mt5: Any = importlib.import_module(module_name)
    sys.modules["MetaTrader5"] = mt5
    login, password = int(os.environ["MT5_DEMO_LOGIN"]), os.environ["MT5_DEMO_PASSWORD"]
    server, symbol = os.environ["MT5_DEMO_SERVER"], os.environ.get("MT5_DEMO_SYMBOL", "EURUSD")
    facts: dict[str, Any] = {}

    def outcome(result: Any) -> Any:
        """What a call gave: its refusal (None/False with last_error) or a short description."""
        if result is None or result is False:
            return [result, list(mt5.last_error())]
        if result is True or hasattr(result, "_fields"):  # True, or a namedtuple (OrderCheckResult...)
            return result is True or type(result).__name__
        if isinstance(result, tuple):
            return f"a tuple of {type(result[0]).__name__ if result else 'nothing'}"
        return type(result).__name__

    def attempt(call: Any) -> Any:
        try:
            return outcome(call())
        except TypeError as exc:
            return f"TypeError: {exc}"

    facts["initialize.path_and_keywords"] = mt5.initialize(
        path, login=login, password=password, server=server
    )
    if not facts["initialize.path_and_keywords"]:
        print(json.dumps({"error": list(mt5.last_error())}))
        return 1
    facts["initialize.too_many_positional"] = attempt(lambda: mt5.initialize(path, "extra"))
    mt5.initialize(path, login=login, password=password, server=server)

    facts["login.positional"] = attempt(lambda: mt5.login(login, password, server))
    facts["login.too_many_positional"] = attempt(lambda: mt5.login(login, password, server, "extra"))
    facts["login.keywords"] = attempt(lambda: mt5.login(login, password=password, server=server))

    facts["positions_get.positional_symbol"] = attempt(lambda: mt5.positions_get(symbol))
    facts["positions_get.keyword_symbol"] = attempt(lambda: mt5.positions_get(symbol=symbol))
    facts["positions_get.unknown_keyword"] = attempt(lambda: mt5.positions_get(no_such_keyword=1))
    facts["orders_get.positional_symbol"] = attempt(lambda: mt5.orders_get(symbol))
    facts["symbols_get.positional_group"] = attempt(lambda: mt5.symbols_get(f"*{symbol[:3]}*"))
    facts["symbols_get.too_many_positional"] = attempt(lambda: mt5.symbols_get("*", "*"))
    week = (datetime.now(UTC) - timedelta(days=7), datetime.now(UTC) + timedelta(days=1))
    facts["history_deals_get.positional_period"] = attempt(lambda: mt5.history_deals_get(*week))
    facts["history_deals_get.keyword_period"] = attempt(
        lambda: mt5.history_deals_get(date_from=week[0], date_to=week[1])
    )
    facts["history_deals_get.three_positional"] = attempt(lambda: mt5.history_deals_get(*week, "*"))
    facts["history_deals_get.one_positional_and_ticket"] = attempt(
        lambda: mt5.history_deals_get(week[0], ticket=1)
    )
    facts["copy_rates_from.keywords"] = attempt(
        lambda: mt5.copy_rates_from(symbol=symbol, timeframe=mt5.TIMEFRAME_M1, date_from=week[1], count=1)
    )

    tick = mt5.symbol_info_tick(symbol)
    info = mt5.symbol_info(symbol)
    request = {
        "action": mt5.TRADE_ACTION_DEAL,
        "symbol": symbol,
        "volume": info.volume_min,
        "type": mt5.ORDER_TYPE_BUY,
        "price": tick.ask,
        "deviation": 50,
        "type_filling": mt5.ORDER_FILLING_FOK if info.filling_mode & 1 else mt5.ORDER_FILLING_IOC,
    }
    facts["order_check.request_dict"] = attempt(lambda: mt5.order_check(request))
    facts["order_check.fields_as_keywords"] = attempt(lambda: mt5.order_check(**request))
    facts["order_check.dict_and_keywords"] = attempt(lambda: mt5.order_check(request, comment="x"))
    facts["order_check.no_arguments"] = attempt(lambda: mt5.order_check())

    # Times: whole seconds, and a naive datetime read in the computer's local time zone.
    bars = mt5.copy_rates_from_pos(symbol, mt5.TIMEFRAME_M1, 30, 1)
    moment = datetime.fromtimestamp(int(bars[0]["time"]), UTC)
    same = mt5.copy_rates_from(symbol, mt5.TIMEFRAME_M1, moment, 5)
    fraction = mt5.copy_rates_from(symbol, mt5.TIMEFRAME_M1, moment.timestamp() + 0.9, 5)
    facts["time.float_seconds_are_cut_to_whole_seconds"] = bool(np.array_equal(same, fraction))
    offset = datetime.now().astimezone().utcoffset() or timedelta(0)
    if not offset:
        facts["time.naive_datetime_is"] = "undetermined: the computer's time zone is UTC"
    else:
        local = mt5.copy_rates_from(symbol, mt5.TIMEFRAME_M1, moment.astimezone().replace(tzinfo=None), 5)
        utc = mt5.copy_rates_from(symbol, mt5.TIMEFRAME_M1, moment.replace(tzinfo=None), 5)
        facts["time.naive_datetime_is"] = (
            "local time" if np.array_equal(local, same) else "UTC" if np.array_equal(utc, same) else "neither"
        )
    mt5.shutdown()
    print(json.dumps(facts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
