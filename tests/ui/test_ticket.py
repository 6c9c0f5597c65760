"""The order ticket on the trading service: the service's verdict shows next to the field, a valid
order is placed once, and an unknown outcome is said as such and never resent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from PySide6.QtCore import QDate, QDateTime, QTime, QTimeZone
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.models import (
    AmbiguousOutcomeError,
    FillPolicy,
    OrderCheck,
    OrderRequest,
    OrderResult,
    OrderType,
    OrderValidationError,
    Quote,
    Side,
    SymbolSpec,
    TimeInForce,
)
from app.mt5.sim.clock import ManualClock
from app.ui.tasks import TaskRunner
from app.ui.ticket.dialog import OrderTicket
from tests.support.sim_fixtures import WEDNESDAY, wait_until
from tests.ui.conftest import SimServices
from tests.ui.driving import click, double_click, press, type_text
from tests.ui.test_pure_helpers import EURUSD

pytestmark = pytest.mark.gui


@pytest.fixture
def sim_clock() -> ManualClock:
    """The market stands still: a price chosen a few points from the quote stays where it was put."""
    return ManualClock(WEDNESDAY)


def ticket_on(services: SimServices, tasks: TaskRunner, qtbot: QtBot, **kwargs: Any) -> OrderTicket:
    ticket = OrderTicket(services.trading, services.market, tasks, lambda: False, "EURUSD", **kwargs)
    qtbot.addWidget(ticket)
    ticket.show()
    return ticket


@pytest.mark.slow
async def test_bad_volume_and_bad_stops_are_shown_and_a_valid_order_is_placed(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    ticket = ticket_on(sim_services, tasks, qtbot)
    await wait_until(lambda: ticket.spec is not None and sim_services.market.quote("EURUSD") is not None)
    assert ticket.volume.singleStep() == pytest.approx(0.01)

    ticket.volume.setValue(500)  # above the symbol's maximum of 100 lots
    await wait_until(lambda: ticket.field_error("volume") != "")
    assert "above EURUSD's maximum 100" in ticket.field_error("volume")  # the trading service's rules
    assert ticket.check_label.text() == "Check: refused (volume)"
    assert ticket.errors["volume"].isVisible()

    ticket.volume.setValue(0.10)
    quote = sim_services.market.quote("EURUSD")
    assert quote is not None
    ticket.sl.setValue(quote.bid - 0.00005)  # inside the stops level (10 points)
    await wait_until(lambda: ticket.field_error("sl") != "")
    assert "stops level" in ticket.field_error("sl") and ticket.errors["sl"].isVisible()
    assert ticket.check_label.text() == "Check: refused (sl)"

    ticket.sl.setValue(0)
    await wait_until(lambda: ticket.check_label.text() == "Check: OK")
    assert ticket.margin_label.text().startswith("Margin: ") and ticket.field_error("sl") == ""
    ticket.send()
    ticket.send()  # a double click: the second is ignored while the first is on its way
    assert not ticket.send_button.isEnabled()
    await wait_until(lambda: ticket.outcome_label.text().startswith("Done"), within_s=10)
    assert len(ticket.submissions.client_ids) == 1
    await wait_until(ticket.send_button.isEnabled)  # judged afresh on the account as it is now
    await sim_services.account.refresh()
    mine = [p for p in sim_services.account.positions if p.symbol == "EURUSD"]
    assert len(mine) == 1 and mine[0].volume == pytest.approx(0.10)
    assert f"#{mine[0].ticket}" in ticket.outcome_label.text()


@pytest.mark.slow
async def test_sl_tp_in_points_and_a_pending_order(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    ticket = ticket_on(sim_services, tasks, qtbot, order_type=OrderType.BUY_LIMIT)
    await wait_until(lambda: ticket.spec is not None and sim_services.market.quote("EURUSD") is not None)
    quote = sim_services.market.quote("EURUSD")
    assert quote is not None
    ticket.price.setValue(round(quote.ask - 0.0050, 5))
    ticket.in_points.setChecked(True)
    ticket.sl.setValue(200)
    ticket.tp.setValue(400)
    request = ticket.request()
    assert request is not None and request.sl == pytest.approx(round(quote.ask - 0.0070, 5))
    await wait_until(lambda: ticket.check_label.text() == "Check: OK")
    ticket.send()
    await wait_until(lambda: ticket.outcome_label.text().startswith("Done"), within_s=10)
    await sim_services.account.refresh()
    (order,) = sim_services.account.orders
    assert order.type is OrderType.BUY_LIMIT and order.tp == pytest.approx(round(quote.ask - 0.0010, 5))


class FakeTrading:
    """A trading service whose ``place`` fails as told (for outcomes the sim rarely gives)."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.placed: list[OrderRequest] = []
        self.release = asyncio.Event()

    async def check(self, request: OrderRequest) -> OrderCheck:
        return OrderCheck(0, 1000, 1000, 0, 10.0, 990.0, 0, "Done", True, "DONE")

    async def place(self, request: OrderRequest) -> OrderResult:
        self.placed.append(request)
        await self.release.wait()
        raise self.error


class FakeSymbols:
    subscribed = ["EURUSD"]

    async def spec(self, symbol: str) -> SymbolSpec:
        return EURUSD

    def quote(self, symbol: str) -> Quote:
        return Quote("EURUSD", 1.1, 1.1001, 0, 10, 5)


async def test_an_unknown_outcome_is_said_and_never_resent(tasks: TaskRunner, qtbot: QtBot) -> None:
    trading = FakeTrading(AmbiguousOutcomeError("timed out during the send", client_id="will-be-checked"))
    ticket = OrderTicket(trading, FakeSymbols(), tasks, lambda: False, "EURUSD")
    qtbot.addWidget(ticket)
    await wait_until(ticket.send_button.isEnabled)  # the verdict: OK
    for _ in range(3):
        ticket.send_button.click()
    await asyncio.sleep(0.05)
    assert len(trading.placed) == 1 and trading.placed[0].client_id == ticket.submissions.client_ids[0]
    trading.release.set()
    await wait_until(lambda: "Outcome unknown" in ticket.outcome_label.text())
    assert "will-be-checked" in ticket.outcome_label.text() and not ticket.send_button.isEnabled()
    ticket.send()
    await asyncio.sleep(0.05)
    assert len(trading.placed) == 1 and tasks.errors == []  # type: ignore[attr-defined]


async def test_a_validation_error_names_its_field(tasks: TaskRunner, qtbot: QtBot) -> None:
    trading = FakeTrading(OrderValidationError("tp", "take profit must be above the price"))
    trading.release.set()
    ticket = OrderTicket(trading, FakeSymbols(), tasks, lambda: False, "EURUSD")
    qtbot.addWidget(ticket)
    ticket.show()
    await wait_until(ticket.send_button.isEnabled)  # the verdict: OK
    ticket.send()
    await wait_until(lambda: ticket.field_error("tp") != "")
    assert (
        ticket.field_error("tp") == "take profit must be above the price" and ticket.errors["tp"].isVisible()
    )
    assert ticket.send_button.isEnabled()


async def test_a_real_account_asks_before_sending(tasks: TaskRunner, qtbot: QtBot) -> None:
    trading = FakeTrading(OrderValidationError("volume", "no"))
    trading.release.set()
    ticket = OrderTicket(trading, FakeSymbols(), tasks, lambda: True, "EURUSD")
    qtbot.addWidget(ticket)
    ticket.show()
    await wait_until(ticket.send_button.isEnabled)  # the verdict: OK
    ticket.send()
    await asyncio.sleep(0.05)
    assert trading.placed == [] and "REAL account" in ticket.confirmation.text()
    ticket.confirmation.done(ticket.confirmation.StandardButton.Yes.value)
    await wait_until(lambda: len(trading.placed) == 1)


# ---------------------------------------------------------------------------- another symbol
@pytest.mark.slow
async def test_another_symbol_starts_the_form_afresh(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    ticket = ticket_on(sim_services, tasks, qtbot, order_type=OrderType.BUY_LIMIT)
    await wait_until(lambda: ticket.spec is not None and ticket.check_label.text().startswith("Check:"))
    eurusd = sim_services.market.quote("EURUSD")
    assert eurusd is not None and ticket.price.text() == f"{eurusd.ask:.5f}"  # the market: moved below
    await type_text(ticket.price, f"{eurusd.ask - 0.0050:.5f}")
    await type_text(ticket.sl, f"{eurusd.ask - 0.0100:.5f}")
    await type_text(ticket.volume, "0.37")
    await wait_until(lambda: ticket.check_label.text() == "Check: OK" and ticket.send_button.isEnabled())

    await type_text(ticket.symbol_box, "XAUUSD", enter=True)  # as a trader types it
    assert not ticket.send_button.isEnabled() and ticket.margin_label.text() == "Margin: —"
    await wait_until(lambda: ticket.spec is not None and ticket.spec.name == "XAUUSD")
    gold = sim_services.market.quote("XAUUSD")
    assert gold is not None
    assert ticket.price.text() == f"{gold.ask:.2f}"  # its current price, with its digits
    assert ticket.sl.text() == "—" and ticket.tp.text() == "—"
    assert ticket.volume.text() == "0.10" and ticket.volume.singleStep() == pytest.approx(0.01)
    await wait_until(lambda: ticket.field_error("price") != "")  # a buy limit at the market: refused
    assert not ticket.send_button.isEnabled() and "XAUUSD" not in ticket.field_error("volume")
    label = ticket.errors["price"]
    QApplication.sendPostedEvents()
    assert label.height() >= label.heightForWidth(label.width()), "a line of the message is cut"
    await type_text(ticket.price, f"{gold.ask - 5:.2f}")
    await wait_until(lambda: ticket.check_label.text() == "Check: OK" and ticket.send_button.isEnabled())
    request = ticket.request()
    assert request is not None and request.symbol == "XAUUSD" and request.price == pytest.approx(gold.ask - 5)
    assert request.volume == pytest.approx(0.10) and request.sl == 0

    # market orders: the margin shown is the new symbol's own
    ticket.type_box.setCurrentIndex(ticket.type_box.findData(OrderType.BUY))
    await wait_until(lambda: ticket.check_label.text() == "Check: OK" and ticket.send_button.isEnabled())
    market = ticket.request()
    assert market is not None
    expected = await sim_services.trading.check(market)
    assert ticket.margin_label.text().startswith(f"Margin: {expected.margin:,.2f}".replace(",", " "))


@pytest.mark.slow
async def test_an_unknown_symbol_and_a_long_refusal_are_said_plainly(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    ticket = ticket_on(sim_services, tasks, qtbot)
    await wait_until(lambda: ticket.check_label.text() == "Check: OK")
    await type_text(ticket.symbol_box, "EURJ", enter=True)
    await wait_until(lambda: ticket.field_error("symbol") != "")
    assert ticket.field_error("symbol") == "“EURJ” is not a symbol of this terminal: pick one from the list"
    assert not ticket.send_button.isEnabled()

    await type_text(ticket.symbol_box, "XAUUSD", enter=True)
    await wait_until(lambda: ticket.check_label.text() == "Check: OK")
    assert ticket.field_error("symbol") == ""
    field_width = ticket.volume.width()
    dialog_width = ticket.width()
    await type_text(ticket.volume, "5000")  # XAUUSD's maximum is 50 lots
    await wait_until(lambda: ticket.field_error("volume") != "")
    label = ticket.errors["volume"]
    assert "maximum 50" in label.text() and label.isVisible()
    assert ticket.volume.width() >= field_width and ticket.width() == dialog_width  # the field is not crushed
    assert label.height() >= label.heightForWidth(label.width())  # every wrapped line shows
    assert not ticket.send_button.isEnabled()  # the verdict refuses: nothing to send
    await click(ticket.send_button)
    await asyncio.sleep(0.1)
    assert ticket.submissions.client_ids == []


@pytest.mark.slow
async def test_a_price_chosen_on_the_chart_fills_the_form_until_the_symbol_changes(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    """The chart menu's "Buy Limit EURUSD at 1.05000": the ticket opens at that price, not the ask."""
    quote = sim_services.market.quote("EURUSD")
    assert quote is not None
    wanted = round(quote.ask - 0.0042, 5)
    ticket = ticket_on(sim_services, tasks, qtbot, order_type=OrderType.BUY_LIMIT, price=wanted)
    await wait_until(lambda: ticket.check_label.text() == "Check: OK" and ticket.send_button.isEnabled())
    assert ticket.price.text() == f"{wanted:.5f}"
    await type_text(ticket.symbol_box, "XAUUSD", enter=True)
    await wait_until(lambda: ticket.spec is not None and ticket.spec.name == "XAUUSD")
    gold = sim_services.market.quote("XAUUSD")
    assert gold is not None and ticket.price.text() == f"{gold.ask:.2f}"  # its own price, not the chart's


async def _pending_ticket(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot, order_type: OrderType
) -> tuple[OrderTicket, Any]:
    """A ticket for a pending order on EURUSD, shown and checked once, with the live account."""
    account = await sim_services.pool.live.call("account")
    ticket = OrderTicket(
        sim_services.trading, sim_services.market, tasks, lambda: False, "EURUSD", order_type,
        account=lambda: account,
    )  # fmt: skip
    qtbot.addWidget(ticket)
    ticket.show()
    await wait_until(lambda: ticket.spec is not None and ticket.check_label.text().startswith("Check:"))
    return ticket, account


@pytest.mark.slow
async def test_volume_by_risk_and_a_pending_orders_expiry(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    """1% of a 100 000 balance at a 200-point stop on EURUSD (1 USD a point per lot): 5 lots; a buy
    limit good till a time given goes to the terminal with that expiry."""
    ticket, account = await _pending_ticket(sim_services, tasks, qtbot, OrderType.BUY_LIMIT)
    quote = sim_services.market.quote("EURUSD")
    assert quote is not None
    price = round(quote.ask - 0.0050, 5)
    await type_text(ticket.price, f"{price:.5f}")
    ticket.risk_mode.setCurrentIndex(ticket.risk_mode.findData("percent"))
    assert ticket.volume.isReadOnly() and "stop loss" in ticket.risk_label.text()
    await type_text(ticket.risk_value, "1")
    await type_text(ticket.sl, f"{price - 0.0020:.5f}")
    expected = account.balance * 0.01 / 200  # lots: 200 points at 1.0 a point per lot
    await wait_until(lambda: ticket.volume.value() == pytest.approx(expected, abs=0.01))
    assert ticket.risk_label.text().startswith(f"= {expected:.2f} lots")

    ticket.expiry.setCurrentIndex(ticket.expiry.findData(TimeInForce.SPECIFIED))
    assert ticket.expiry_time.isVisible()
    until = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    ticket.expiry_time.setDateTime(QDateTime(QDate(2026, 11, 20), QTime(12, 0), QTimeZone.utc()))
    await wait_until(lambda: ticket.check_label.text() == "Check: OK" and ticket.send_button.isEnabled())
    request = ticket.request()
    assert request is not None and request.time_in_force is TimeInForce.SPECIFIED
    assert request.expiration == until and request.volume == pytest.approx(expected, abs=0.01)
    ticket.send()
    await wait_until(
        lambda: ticket.outcome_label.text() != "" and "Sending" not in ticket.outcome_label.text()
    )
    (order,) = await sim_services.pool.live.call("orders")
    assert order.time_expiration == until and order.volume_current == pytest.approx(expected, abs=0.01)


@pytest.mark.slow
async def test_money_at_risk_and_an_order_good_for_today_reach_the_terminal(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    """Volume by *Money* and expiry *Today*, both chosen with the keyboard: 150 USD at a 300-point
    stop on EURUSD (1 USD a point per lot) is 0.50 lots, and the simulator's pending order carries
    that volume and the day's expiry (ORDER_TIME_DAY)."""
    ticket, account = await _pending_ticket(sim_services, tasks, qtbot, OrderType.SELL_LIMIT)
    quote = sim_services.market.quote("EURUSD")
    assert quote is not None
    price = round(quote.bid + 0.0050, 5)
    await type_text(ticket.price, f"{price:.5f}")

    ticket.risk_mode.setFocus()
    await press(ticket.risk_mode, "Down")  # Lots -> % of balance
    await press(ticket.risk_mode, "Down")  # -> Money
    assert ticket.risk_mode.currentText() == "Money" and ticket.risk_value.suffix() == ""
    assert ticket.volume.isReadOnly()
    await type_text(ticket.risk_value, "150")
    await type_text(ticket.sl, f"{price + 0.0030:.5f}")
    await wait_until(lambda: ticket.volume.value() == pytest.approx(0.5))
    assert ticket.risk_label.text() == f"= 0.50 lots: 150.00 {account.currency} at the SL"

    assert ticket.expiry.currentData() is TimeInForce.GTC  # the default
    ticket.expiry.setFocus()
    await press(ticket.expiry, "Down")  # -> Today
    assert ticket.expiry.currentText() == "Today" and not ticket.expiry_time.isVisible()
    await wait_until(lambda: ticket.check_label.text() == "Check: OK" and ticket.send_button.isEnabled())
    await click(ticket.send_button)
    await wait_until(lambda: ticket.outcome_label.text().startswith("Done"), within_s=10)
    (order,) = await sim_services.pool.live.call("orders")
    assert order.type is OrderType.SELL_LIMIT and order.price_open == pytest.approx(price)
    assert order.volume_current == pytest.approx(0.5) and order.sl == pytest.approx(price + 0.0030)
    assert order.time_in_force is TimeInForce.DAY  # good for the server's day, not till cancelled


# ---------------------------------------------------------------------------- Sell | Buy, fill policy
@pytest.mark.slow
async def test_sell_and_buy_side_by_side_with_a_chosen_fill_policy_reaching_the_terminal(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    """MT5's F9: Sell shows the bid, Buy the ask; a click sells (or buys) with the fill policy picked,
    which is what the simulator's order carries."""
    ticket = ticket_on(sim_services, tasks, qtbot)
    await wait_until(lambda: ticket.check_label.text() == "Check: OK" and ticket.sell_button.isEnabled())
    quote = sim_services.market.quote("EURUSD")
    assert quote is not None
    assert ticket.sell_button.isVisible() and ticket.buy_button.isVisible()
    assert not ticket.send_button.isVisible()
    assert ticket.sell_button.text() == f"Sell by Market\n{quote.bid:.5f}"
    assert ticket.buy_button.text() == f"Buy by Market\n{quote.ask:.5f}"
    assert ticket.sell_button.x() < ticket.buy_button.x()  # side by side, Sell on the left

    # EURUSD (instant execution, FOK and IOC flags) allows three: the service's own pick first
    assert ticket.filling.isVisible()
    assert [ticket.filling.itemData(i) for i in range(ticket.filling.count())] == [
        FillPolicy.FOK,
        FillPolicy.IOC,
        FillPolicy.RETURN,
    ]
    assert ticket.chosen_filling is FillPolicy.FOK
    ticket.filling.setCurrentIndex(ticket.filling.findData(FillPolicy.IOC))
    await wait_until(lambda: ticket.check_label.text() == "Check: OK" and ticket.sell_button.isEnabled())
    await click(ticket.sell_button)
    await wait_until(lambda: ticket.outcome_label.text().startswith("Done"), within_s=10)
    assert len(ticket.submissions.client_ids) == 1
    await sim_services.account.refresh()
    (position,) = sim_services.account.positions
    assert position.side is Side.SELL
    orders = await sim_services.pool.live.call(
        "history_orders", datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    )
    (sent,) = [o for o in orders if o.position_id == position.ticket]
    assert sent.filling is FillPolicy.IOC  # what the simulator's order carries

    await wait_until(lambda: ticket.buy_button.isEnabled())
    await click(ticket.buy_button)  # the other side, from the same form
    await wait_until(
        lambda: len(ticket.submissions.client_ids) == 2 and "Done" in ticket.outcome_label.text()
    )
    await sim_services.account.refresh()
    assert sorted(p.side.value for p in sim_services.account.positions) == ["buy", "sell"]


@pytest.mark.slow
async def test_a_symbol_with_one_fill_policy_shows_no_choice(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    ticket = ticket_on(sim_services, tasks, qtbot)
    await wait_until(lambda: ticket.spec is not None and ticket.filling.isVisible())
    await type_text(ticket.symbol_box, "US500", enter=True)  # market execution, IOC only
    await wait_until(lambda: ticket.spec is not None and ticket.spec.name == "US500")
    assert not ticket.filling.isVisible() and ticket.chosen_filling is None
    request = ticket.request()
    assert request is not None and request.filling is None  # the trading service picks IOC


async def test_a_double_click_on_buy_sends_one_order(tasks: TaskRunner, qtbot: QtBot) -> None:
    trading = FakeTrading(OrderValidationError("volume", "no"))
    ticket = OrderTicket(trading, FakeSymbols(), tasks, lambda: False, "EURUSD")
    qtbot.addWidget(ticket)
    ticket.show()
    await wait_until(ticket.buy_button.isEnabled)  # the verdict: OK
    await _outside_the_task_double_click(ticket.buy_button)
    await asyncio.sleep(0.05)
    assert len(trading.placed) == 1 and trading.placed[0].type is OrderType.BUY
    assert not ticket.buy_button.isEnabled() and not ticket.sell_button.isEnabled()
    trading.release.set()
    await wait_until(ticket.buy_button.isEnabled)
    assert len(trading.placed) == 1


async def _outside_the_task_double_click(button: QWidget) -> None:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def go() -> None:
        double_click(button, button.rect().center())
        done.set_result(None)

    loop.call_soon(go)
    await done
