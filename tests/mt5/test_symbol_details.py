"""The Specification window's facts from the terminal in one operation: the symbol's margin figures,
what one lot holds as margin (order_calc_margin at the ask and at the bid), and the sessions where
the terminal module gives them (the simulator's extras; the real package has none)."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

import app.mt5.sim as sim_module
from app.models import SymbolDetails
from app.mt5.sim.sessions import weekly_sessions
from app.mt5.sim.symbols import DEFAULT_SYMBOLS
from app.mt5.terminal_ops import TerminalOps
from tests.support.sim_fixtures import terminal_in_process

SIM_SPECS = {spec.name: spec for spec in DEFAULT_SYMBOLS}


@pytest.fixture(scope="module")
def terminal() -> Iterator[TerminalOps]:
    with terminal_in_process("details") as ops:
        yield ops


def test_the_margins_and_sessions_are_the_simulators(terminal: TerminalOps) -> None:
    details = terminal.symbol_details("XAUUSD")
    assert isinstance(details, SymbolDetails)
    spec, sim = details.spec, SIM_SPECS["XAUUSD"]
    assert spec.name == "XAUUSD" and spec.margin_hedged == sim.margin_hedged == 50.0
    assert spec.margin_initial == 0.0 and spec.margin_maintenance == 0.0  # as symbol_info gives them
    tick = sim_module.symbol_info_tick("XAUUSD")
    buy = sim_module.order_calc_margin(sim_module.ORDER_TYPE_BUY, "XAUUSD", 1.0, tick.ask)
    sell = sim_module.order_calc_margin(sim_module.ORDER_TYPE_SELL, "XAUUSD", 1.0, tick.bid)
    assert details.margin_buy == pytest.approx(buy) and details.margin_sell == pytest.approx(sell)
    assert details.margin_buy > details.margin_sell > 0  # gold's margin follows its price
    assert details.currency == "USD"
    assert details.sessions == weekly_sessions("cfd")
    assert details.sessions[0] == ((0, 21 * 60), (22 * 60, 24 * 60))  # Monday, with the daily break


def test_a_terminal_without_sessions_says_none_and_still_gives_the_margins(terminal: TerminalOps) -> None:
    """The real MetaTrader5 module has no ``extras``: the same operation over a module without them."""
    real_like = ModuleType("MetaTrader5")
    real_like.__dict__.update({k: v for k, v in vars(sim_module).items() if k != "extras"})
    details = TerminalOps(real_like).symbol_details("USDJPY")
    assert details.sessions is None
    leverage = sim_module.account_info().leverage
    one_lot = round(100_000 / leverage, 2)  # USD base on a USD account: the contract over the leverage
    assert details.margin_buy == one_lot and details.margin_sell == one_lot


def test_an_unknown_symbol_fails_as_symbol_does(terminal: TerminalOps) -> None:
    from app.mt5.terminal_ops import Mt5CallFailed

    with pytest.raises(Mt5CallFailed):
        terminal.symbol_details("NOSUCH")
