"""Market Watch › Specification: the symbol's details as the terminal gives them."""

from __future__ import annotations

from app.ui.market_watch.specification import SpecificationDialog, specification_rows
from tests.ui.test_pure_helpers import EURUSD


def test_the_specification_lists_what_a_trader_checks(qtbot) -> None:  # type: ignore[no-untyped-def]
    rows = dict(specification_rows(EURUSD))
    assert rows["Symbol"] == "EURUSD" and rows["Digits"] == str(EURUSD.digits)
    assert rows["Contract size"] == f"{EURUSD.contract_size:g}"
    assert (
        rows["Minimal volume"] == f"{EURUSD.volume_min:.2f}"
        and rows["Volume step"] == f"{EURUSD.volume_step:g}"
    )
    assert rows["Stops level"] == f"{EURUSD.stops_level} points"
    dialog = SpecificationDialog(EURUSD)
    qtbot.addWidget(dialog)
    assert dialog.values["Margin currency"].text() == EURUSD.currency_margin
    assert "Specification" in dialog.windowTitle()


def test_market_watch_offers_the_specification_and_the_depth(qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.ui.market_watch import MarketWatch, QuoteTableModel

    watch = MarketWatch(QuoteTableModel(["EURUSD"]))
    qtbot.addWidget(watch)
    asked: list[str] = []
    watch.specification_requested.connect(asked.append)
    watch.depth_requested.connect(lambda symbol: asked.append(f"depth {symbol}"))
    actions = {a.text(): a for a in watch.build_menu("EURUSD").actions()}
    actions["Specification EURUSD..."].trigger()
    actions["Depth of Market EURUSD\tAlt+B"].trigger()
    assert asked == ["EURUSD", "depth EURUSD"]
