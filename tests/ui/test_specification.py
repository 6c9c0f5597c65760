"""Market Watch › Specification: the symbol's details as the terminal gives them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.core.sessions import session_lines
from app.models import SymbolDetails
from app.mt5.sim.sessions import weekly_sessions
from app.mt5.sim.symbols import DEFAULT_SYMBOLS
from app.ui import formatting
from app.ui.main_window import MainWindow
from app.ui.market_watch import MarketWatch
from app.ui.market_watch.specification import SpecificationDialog, specification_rows
from tests.support.sim_fixtures import wait_until
from tests.ui.conftest import SimServices
from tests.ui.driving import OFFSCREEN_LIMITS, context_menu, menu_action
from tests.ui.test_main_window import window_on
from tests.ui.test_pure_helpers import EURUSD


def test_the_specification_lists_what_a_trader_checks(qtbot) -> None:  # type: ignore[no-untyped-def]
    rows = dict(specification_rows(SymbolDetails(EURUSD)))
    assert rows["Symbol"] == "EURUSD" and rows["Digits"] == str(EURUSD.digits)
    assert rows["Contract size"] == f"{EURUSD.contract_size:g}"
    assert (
        rows["Minimal volume"] == f"{EURUSD.volume_min:.2f}"
        and rows["Volume step"] == f"{EURUSD.volume_step:g}"
    )
    assert rows["Stops level"] == f"{EURUSD.stops_level} points"
    dialog = SpecificationDialog(SymbolDetails(EURUSD))
    qtbot.addWidget(dialog)
    assert dialog.values["Margin currency"].text() == EURUSD.currency_margin
    assert "Specification" in dialog.windowTitle()


def test_market_watch_offers_the_specification_and_the_depth(qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.ui.market_watch import QuoteTableModel

    watch = MarketWatch(QuoteTableModel(["EURUSD"]))
    qtbot.addWidget(watch)
    asked: list[str] = []
    watch.specification_requested.connect(asked.append)
    watch.depth_requested.connect(lambda symbol: asked.append(f"depth {symbol}"))
    actions = {a.text(): a for a in watch.build_menu("EURUSD").actions()}
    actions["Specification EURUSD..."].trigger()
    actions["Depth of Market EURUSD\tAlt+B"].trigger()
    assert asked == ["EURUSD", "depth EURUSD"]


def _row_of(watch: MarketWatch, symbol: str) -> int:
    return next(
        r for r in range(watch.proxy.rowCount()) if watch.symbol_of(watch.proxy.index(r, 0)) == symbol
    )


async def _specification_of(window: MainWindow, symbol: str) -> dict[str, str]:
    """Right-click the symbol's row in Market Watch, choose Specification, read the window's values."""
    watch = window.market_watch
    before = window.specification
    row = watch.table.visualRect(watch.proxy.index(_row_of(watch, symbol), 0)).center()
    menu = await context_menu(watch.table.viewport(), row)
    menu_action(menu, f"Specification {symbol}...").trigger()
    menu.close()
    await wait_until(lambda: window.specification is not None and window.specification is not before)
    dialog = window.specification
    assert dialog is not None and dialog.windowTitle() == f"{symbol} — Specification"
    values = {name: label.text() for name, label in dialog.values.items()}
    dialog.close()
    return values


@pytest.mark.gui
@pytest.mark.slow
@OFFSCREEN_LIMITS
async def test_the_specification_shows_the_margins_and_sessions_the_simulator_holds(
    sim_services: SimServices, data_dir: Path, qtbot: QtBot
) -> None:
    window = await window_on(sim_services, data_dir, qtbot)
    await wait_until(lambda: window.quotes_model.quote("XAUUSD") is not None)
    account = await sim_services.pool.live.call("account")
    sim = {spec.name: spec for spec in DEFAULT_SYMBOLS}

    usdjpy = await _specification_of(window, "USDJPY")
    one_lot = f"{formatting.money(round(100_000 / account.leverage, 2))} USD"  # USD base: contract/leverage
    assert usdjpy["Margin of 1 lot, buy"] == one_lot and usdjpy["Margin of 1 lot, sell"] == one_lot
    assert usdjpy["Hedged margin"] == f"{sim['USDJPY'].margin_hedged:g}" == "50000"
    assert usdjpy["Initial margin"] == "0 (from the contract size)"
    assert usdjpy["Maintenance margin"] == "0 (the initial margin applies)"
    assert usdjpy["Sessions (server time)"].splitlines() == session_lines(
        weekly_sessions(sim["USDJPY"].sessions)
    )
    assert usdjpy["Sessions (server time)"].splitlines()[-1] == "Sun 22:00–24:00"  # the FX week opens

    gold = await _specification_of(window, "XAUUSD")
    assert gold["Hedged margin"] == f"{sim['XAUUSD'].margin_hedged:g}" == "50"
    buy = float(gold["Margin of 1 lot, buy"].removesuffix(" USD").replace(" ", ""))
    sell = float(gold["Margin of 1 lot, sell"].removesuffix(" USD").replace(" ", ""))
    quote = sim_services.market.quote("XAUUSD")
    assert quote is not None
    # 1 lot = 100 oz over the leverage, valued at the gold price (it moves while the window opens)
    assert buy == pytest.approx(100 * quote.ask / account.leverage, rel=0.01) and buy >= sell > 0
    assert gold["Sessions (server time)"].splitlines()[0] == "Mon–Thu 00:00–21:00, 22:00–24:00"  # daily break
    await window.shutdown()


def test_without_sessions_or_margins_from_the_terminal_the_window_says_so(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = SpecificationDialog(SymbolDetails(EURUSD))
    qtbot.addWidget(dialog)
    assert dialog.values["Sessions (server time)"].text() == "not given by the terminal"
    assert dialog.values["Margin of 1 lot, buy"].text() == "not given by the terminal"
