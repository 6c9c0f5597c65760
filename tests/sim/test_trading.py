"""Trading semantics and retcodes, as an MT5 trade server gives them."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

import app.mt5.sim.constants as c
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.clock import ManualClock
from app.mt5.sim.listener import Listener
from app.mt5.sim.terminal import SimTerminal
from tests.sim.conftest import connect, new_account
from tests.sim.helpers import future, market, snapshot

BUY, SELL = c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL


def test_market_buy_opens_a_position_whose_ticket_is_the_order_ticket(terminal: SimTerminal) -> None:
    result = terminal.order_send(market(terminal, "EURUSD", BUY, 0.5, comment="hello"))
    assert result is not None and result.retcode == c.TRADE_RETCODE_DONE, result
    assert result.comment == "Request executed" and result.request_id == 1
    (position,) = terminal.positions_get(symbol="EURUSD")
    assert position.ticket == position.identifier == result.order
    assert (position.volume, position.price_open, position.comment, position.magic) == (
        0.5,
        result.price,
        "hello",
        7,
    )
    assert position.time_msc == datetime(2025, 6, 4, 12, tzinfo=UTC).timestamp() * 1000
    (deal,) = terminal.history_deals_get(position=position.ticket)
    assert (deal.ticket, deal.order, deal.entry, deal.type) == (
        result.deal,
        result.order,
        c.DEAL_ENTRY_IN,
        c.DEAL_TYPE_BUY,
    )
    assert deal.commission == -1.5  # 3.00 per lot and side on this account
    (order,) = terminal.history_orders_get(ticket=result.order)
    assert (order.state, order.position_id, order.volume_current) == (
        c.ORDER_STATE_FILLED,
        position.ticket,
        0.0,
    )


def test_tickets_increase_and_deals_have_their_own_numbering(terminal: SimTerminal) -> None:
    first = terminal.order_send(market(terminal, "EURUSD", BUY, 0.1))
    second = terminal.order_send(market(terminal, "GBPUSD", SELL, 0.1))
    assert first and second
    assert second.order > first.order and second.deal > first.deal and first.order != first.deal
    assert second.request_id == first.request_id + 1


@pytest.mark.parametrize(
    ("changes", "retcode"),
    [
        ({"volume": 0.015}, c.TRADE_RETCODE_INVALID_VOLUME),
        ({"volume": 0.0}, c.TRADE_RETCODE_INVALID_VOLUME),
        ({"volume": 1000.0}, c.TRADE_RETCODE_INVALID_VOLUME),
        ({"price_offset": 0.01}, c.TRADE_RETCODE_REQUOTE),
        ({"price": 0.0}, c.TRADE_RETCODE_INVALID_PRICE),
        ({"sl_points": -5}, c.TRADE_RETCODE_INVALID_STOPS),
        ({"sl_points": 5}, c.TRADE_RETCODE_INVALID_STOPS),  # inside the 10-point stops level
        ({"type_filling": 3}, c.TRADE_RETCODE_INVALID_FILL),
        ({"type": c.ORDER_TYPE_BUY_LIMIT}, c.TRADE_RETCODE_INVALID_ORDER),
        ({"symbol": "NOPE"}, c.TRADE_RETCODE_INVALID),
        ({"volume": 99.0}, c.TRADE_RETCODE_NO_MONEY),
        ({"position": 123}, c.TRADE_RETCODE_POSITION_CLOSED),
        ({"action": 99}, c.TRADE_RETCODE_INVALID),
    ],
)
def test_bad_requests_get_mt5s_retcode_and_change_nothing(
    terminal: SimTerminal, changes: dict[str, float], retcode: int
) -> None:
    request = market(terminal, "EURUSD", BUY, 0.1)
    tick = terminal.symbol_info_tick("EURUSD")
    assert tick is not None
    if "price_offset" in changes:
        request["price"] = round(tick.ask + changes.pop("price_offset"), 5)
    if "sl_points" in changes:
        request["sl"] = round(tick.bid - changes.pop("sl_points") * 1e-5, 5)
    request.update(changes)
    before = snapshot(terminal)
    check = terminal.order_check(request)
    result = terminal.order_send(request)
    assert result is not None and check is not None
    assert (result.retcode, check.retcode) == (retcode, retcode)
    assert result.order == result.deal == 0
    if retcode == c.TRADE_RETCODE_REQUOTE:
        assert (result.bid, result.ask) == (tick.bid, tick.ask)
    assert snapshot(terminal) == before


def test_filling_modes_follow_the_symbol(terminal: SimTerminal) -> None:
    # BTCUSD and US500 are market execution with IOC only: FOK and RETURN are refused.
    for symbol in ("BTCUSD", "US500"):
        volume = 0.1 if symbol == "US500" else 0.01
        for filling, retcode in (
            (c.ORDER_FILLING_FOK, c.TRADE_RETCODE_INVALID_FILL),
            (c.ORDER_FILLING_RETURN, c.TRADE_RETCODE_INVALID_FILL),
            (c.ORDER_FILLING_IOC, c.TRADE_RETCODE_DONE),
        ):
            result = terminal.order_send(
                market(terminal, symbol, BUY, volume, type_filling=filling, price=0.0)
            )
            assert result is not None and result.retcode == retcode, (symbol, filling, result)


def test_a_comment_longer_than_31_characters_is_an_invalid_argument(terminal: SimTerminal) -> None:
    assert terminal.order_send(market(terminal, "EURUSD", BUY, 0.1, comment="x" * 31)) is not None
    assert terminal.order_send(market(terminal, "EURUSD", BUY, 0.1, comment="x" * 32)) is None
    assert terminal.last_error() == (-2, 'Invalid "comment" argument')
    assert terminal.order_send(market(terminal, "EURUSD", BUY, "0.1")) is None  # type: ignore[arg-type]
    assert terminal.last_error() == (-2, 'Invalid "volume" argument')


def test_markets_close_for_the_weekend_but_bitcoin_trades(terminal: SimTerminal, clock: ManualClock) -> None:
    clock.set(datetime(2025, 6, 7, 12, tzinfo=UTC))  # Saturday
    closed = terminal.order_send(market(terminal, "EURUSD", BUY, 0.1))
    assert closed is not None and closed.retcode == c.TRADE_RETCODE_MARKET_CLOSED
    tick = terminal.symbol_info_tick("EURUSD")
    assert tick is not None and tick.time_msc < datetime(2025, 6, 6, 22, tzinfo=UTC).timestamp() * 1000
    btc = terminal.symbol_info_tick("BTCUSD")
    assert btc is not None and btc.time_msc > clock.now_ms() - 60_000
    opened = terminal.order_send(market(terminal, "BTCUSD", BUY, 0.01, type_filling=c.ORDER_FILLING_IOC))
    assert opened is not None and opened.retcode == c.TRADE_RETCODE_DONE


def test_sltp_modify_partial_close_and_full_close(terminal: SimTerminal) -> None:
    opened = terminal.order_send(market(terminal, "EURUSD", BUY, 1.0))
    assert opened is not None
    ticket = opened.order
    tick = terminal.symbol_info_tick("EURUSD")
    assert tick is not None
    modify = {
        "action": c.TRADE_ACTION_SLTP,
        "position": ticket,
        "sl": round(tick.bid - 0.002, 5),
        "tp": round(tick.bid + 0.002, 5),
    }
    assert terminal.order_send(modify).retcode == c.TRADE_RETCODE_DONE  # type: ignore[union-attr]
    assert terminal.order_send(modify).retcode == c.TRADE_RETCODE_NO_CHANGES  # type: ignore[union-attr]
    (position,) = terminal.positions_get(ticket=ticket)
    assert (position.sl, position.tp) == (modify["sl"], modify["tp"])
    assert terminal.order_send(market(terminal, "EURUSD", SELL, 1.5, position=ticket)).retcode == (  # type: ignore[union-attr]
        c.TRADE_RETCODE_INVALID_CLOSE_VOLUME
    )
    partial = terminal.order_send(market(terminal, "EURUSD", SELL, 0.4, position=ticket))
    assert partial is not None and partial.retcode == c.TRADE_RETCODE_DONE
    (position,) = terminal.positions_get(ticket=ticket)
    assert position.volume == 0.6
    rest = terminal.order_send(market(terminal, "EURUSD", SELL, 0.6, position=ticket))
    assert rest is not None and rest.retcode == c.TRADE_RETCODE_DONE
    assert terminal.positions_get(ticket=ticket) == ()
    deals = terminal.history_deals_get(position=ticket)
    assert [(d.entry, d.volume) for d in deals] == [
        (c.DEAL_ENTRY_IN, 1.0),
        (c.DEAL_ENTRY_OUT, 0.4),
        (c.DEAL_ENTRY_OUT, 0.6),
    ]
    spec = terminal.symbol_info("EURUSD")
    for deal in deals[1:]:
        assert deal.profit == pytest.approx(
            round((deal.price - deals[0].price) * deal.volume * spec.trade_contract_size, 2)
        )
    again = terminal.order_send(market(terminal, "EURUSD", SELL, 0.1, position=ticket))
    assert again is not None and again.retcode == c.TRADE_RETCODE_POSITION_CLOSED


def test_close_by_settles_two_opposite_positions(terminal: SimTerminal) -> None:
    long = terminal.order_send(market(terminal, "EURUSD", BUY, 1.0))
    short = terminal.order_send(market(terminal, "EURUSD", SELL, 0.4))
    assert long is not None and short is not None
    balance = terminal.account_info().balance  # type: ignore[union-attr]
    result = terminal.order_send(
        {"action": c.TRADE_ACTION_CLOSE_BY, "position": long.order, "position_by": short.order}
    )
    assert result is not None and result.retcode == c.TRADE_RETCODE_DONE
    (remaining,) = terminal.positions_get()
    assert (remaining.ticket, remaining.volume) == (long.order, 0.6)
    deals = [d for d in terminal.history_deals_get(0, 2**31) if d.order == result.order]
    assert sorted(d.position_id for d in deals) == sorted([long.order, short.order])
    assert {d.entry for d in deals} == {c.DEAL_ENTRY_OUT_BY}
    expected = round((short.price - long.price) * 0.4 * 100_000, 2)
    assert sum(d.profit for d in deals) == pytest.approx(expected)
    moved = sum(d.profit + d.commission + d.swap for d in deals)
    assert terminal.account_info().balance == pytest.approx(balance + moved)  # type: ignore[union-attr]
    (order,) = terminal.history_orders_get(ticket=result.order)
    assert (order.type, order.position_id, order.position_by_id) == (
        c.ORDER_TYPE_CLOSE_BY,
        long.order,
        short.order,
    )


def test_netting_adds_reduces_and_reverses_one_position(sim: Listener, admin: SimAdmin) -> None:
    login, password = new_account(admin, hedging=False)
    terminal = connect(sim, "netting", login, password)
    first = terminal.order_send(market(terminal, "EURUSD", BUY, 0.3))
    more = terminal.order_send(market(terminal, "EURUSD", BUY, 0.2))
    assert first and more
    (position,) = terminal.positions_get()
    assert (position.ticket, position.volume) == (first.order, 0.5)
    terminal.order_send(market(terminal, "EURUSD", SELL, 0.1))
    assert terminal.positions_get()[0].volume == 0.4  # type: ignore[index]
    flip = terminal.order_send(market(terminal, "EURUSD", SELL, 1.0))
    assert flip is not None and flip.retcode == c.TRADE_RETCODE_DONE
    (position,) = terminal.positions_get()
    assert (position.ticket, position.type, position.volume) == (first.order, c.POSITION_TYPE_SELL, 0.6)
    entries = [d.entry for d in terminal.history_deals_get(position=first.order)]
    assert entries == [c.DEAL_ENTRY_IN, c.DEAL_ENTRY_IN, c.DEAL_ENTRY_OUT, c.DEAL_ENTRY_INOUT]
    close_by = terminal.order_send(
        {"action": c.TRADE_ACTION_CLOSE_BY, "position": first.order, "position_by": 1}
    )
    assert close_by is not None and close_by.retcode == c.TRADE_RETCODE_INVALID
    terminal.shutdown()


def _level_crossed(sim: Listener, symbol: str, seconds: float, side: str, beyond: float) -> float:
    """A price the ``side`` ("bid"/"ask") will cross within ``seconds``, at least ``beyond`` away now."""
    _, bid, ask = future(sim, symbol, seconds)
    series = bid if side == "bid" else ask
    now = series[0]
    high, low = float(series.max()), float(series.min())
    return high if high - now >= beyond else low


def test_pending_orders_trigger_at_their_price_even_with_nobody_calling(
    terminal: SimTerminal, sim: Listener, clock: ManualClock
) -> None:
    spec = terminal.symbol_info("EURUSD")
    tick = terminal.symbol_info_tick("EURUSD")
    assert spec is not None and tick is not None
    times, bid, ask = future(sim, "EURUSD", 3600)
    low = float(ask.min())
    assert tick.ask - low > 20 * spec.point, "the hour ahead needs a dip for this test"
    limit = round(low + 5 * spec.point, 5)
    placed = terminal.order_send(
        {
            "action": c.TRADE_ACTION_PENDING,
            "symbol": "EURUSD",
            "volume": 0.2,
            "type": c.ORDER_TYPE_BUY_LIMIT,
            "price": limit,
            "type_filling": c.ORDER_FILLING_RETURN,
        }
    )
    assert placed is not None and placed.retcode == c.TRADE_RETCODE_DONE and placed.deal == 0
    (order,) = terminal.orders_get()
    assert (order.ticket, order.state, order.price_open) == (placed.order, c.ORDER_STATE_PLACED, limit)
    hit = int(times[np.argmax(ask <= limit)])
    clock.set(hit - 1)
    sim.server.process()
    assert terminal.orders_total() == 1
    clock.set(hit + 1)
    sim.server.process()  # the server's own loop would do this too; nobody calls the terminal here
    assert terminal.orders_total() == 0
    (position,) = terminal.positions_get()
    assert (position.ticket, position.price_open, position.volume) == (placed.order, limit, 0.2)
    (deal,) = terminal.history_deals_get(position=placed.order)
    assert deal.time_msc == hit and deal.order == placed.order


def test_stop_loss_triggers_and_is_booked_as_such(
    terminal: SimTerminal, sim: Listener, clock: ManualClock
) -> None:
    opened = terminal.order_send(market(terminal, "EURUSD", BUY, 0.5))
    assert opened is not None
    times, bid, _ = future(sim, "EURUSD", 4 * 3600)
    spec = terminal.symbol_info("EURUSD")
    stop = round(float(bid.min()) + 2 * spec.point, 5)  # type: ignore[union-attr]
    assert bid[0] - stop > 12 * spec.point  # type: ignore[union-attr]
    result = terminal.order_send(
        {"action": c.TRADE_ACTION_SLTP, "position": opened.order, "sl": stop, "tp": 0.0}
    )
    assert result is not None and result.retcode == c.TRADE_RETCODE_DONE
    hit = int(times[np.argmax(bid <= stop)])
    clock.set(hit + 5_000)
    sim.server.process()
    assert terminal.positions_get() == ()
    closing = terminal.history_deals_get(position=opened.order)[-1]
    assert (closing.reason, closing.entry, closing.time_msc) == (c.DEAL_REASON_SL, c.DEAL_ENTRY_OUT, hit)
    assert closing.price <= stop and closing.comment == f"[sl {stop:.5f}]"


def test_stop_limit_becomes_a_limit_order_then_fills(
    terminal: SimTerminal, sim: Listener, clock: ManualClock
) -> None:
    times, _, ask = future(sim, "EURUSD", 4 * 3600)
    top = float(ask.max())
    assert top - ask[0] > 30e-5
    trigger = round(top - 10e-5, 5)
    limit = round(trigger - 5e-5, 5)
    placed = terminal.order_send(
        {
            "action": c.TRADE_ACTION_PENDING,
            "symbol": "EURUSD",
            "volume": 0.1,
            "type": c.ORDER_TYPE_BUY_STOP_LIMIT,
            "price": trigger,
            "stoplimit": limit,
        }
    )
    assert placed is not None and placed.retcode == c.TRADE_RETCODE_DONE, placed
    first = int(np.argmax(ask >= trigger))
    clock.set(int(times[first]))
    sim.server.process()
    (order,) = terminal.orders_get() or (None,)
    if order is not None:  # triggered, not yet filled: now a buy limit at the stop-limit price
        assert (order.type, order.price_open) == (c.ORDER_TYPE_BUY_LIMIT, limit)
    later = first + int(np.argmax(ask[first:] <= limit)) if (ask[first:] <= limit).any() else None
    if later is not None:
        clock.set(int(times[later]) + 1)
        sim.server.process()
        assert terminal.orders_total() == 0
        assert terminal.positions_get()[0].price_open == limit  # type: ignore[index]


def test_modify_and_remove_pending_orders(terminal: SimTerminal) -> None:
    tick = terminal.symbol_info_tick("EURUSD")
    assert tick is not None
    price = round(tick.ask - 0.0100, 5)
    placed = terminal.order_send(
        {
            "action": c.TRADE_ACTION_PENDING,
            "symbol": "EURUSD",
            "volume": 0.1,
            "type": c.ORDER_TYPE_BUY_LIMIT,
            "price": price,
        }
    )
    assert placed is not None
    bad = terminal.order_send(
        {
            "action": c.TRADE_ACTION_PENDING,
            "symbol": "EURUSD",
            "volume": 0.1,
            "type": c.ORDER_TYPE_BUY_LIMIT,
            "price": round(tick.ask + 0.001, 5),
        }
    )
    assert bad is not None and bad.retcode == c.TRADE_RETCODE_INVALID_PRICE
    moved = terminal.order_send(
        {
            "action": c.TRADE_ACTION_MODIFY,
            "order": placed.order,
            "price": round(price - 0.001, 5),
            "sl": round(price - 0.005, 5),
            "tp": 0.0,
        }
    )
    assert moved is not None and moved.retcode == c.TRADE_RETCODE_DONE
    assert terminal.orders_get(ticket=placed.order)[0].price_open == round(price - 0.001, 5)  # type: ignore[index]
    gone = terminal.order_send({"action": c.TRADE_ACTION_REMOVE, "order": placed.order})
    assert gone is not None and gone.retcode == c.TRADE_RETCODE_DONE
    assert terminal.orders_get() == ()
    (archived,) = terminal.history_orders_get(ticket=placed.order)
    assert archived.state == c.ORDER_STATE_CANCELED
    again = terminal.order_send({"action": c.TRADE_ACTION_REMOVE, "order": placed.order})
    assert again is not None and again.retcode == c.TRADE_RETCODE_INVALID_ORDER


def test_orders_expire(terminal: SimTerminal, sim: Listener, clock: ManualClock) -> None:
    tick = terminal.symbol_info_tick("EURUSD")
    assert tick is not None
    expiry = clock.now_ms() // 1000 + 600
    placed = terminal.order_send(
        {
            "action": c.TRADE_ACTION_PENDING,
            "symbol": "EURUSD",
            "volume": 0.1,
            "type": c.ORDER_TYPE_BUY_LIMIT,
            "price": round(tick.ask - 0.03, 5),
            "type_time": c.ORDER_TIME_SPECIFIED,
            "expiration": expiry,
        }
    )
    assert placed is not None and placed.retcode == c.TRADE_RETCODE_DONE
    past = terminal.order_send(
        {
            "action": c.TRADE_ACTION_PENDING,
            "symbol": "EURUSD",
            "volume": 0.1,
            "type": c.ORDER_TYPE_BUY_LIMIT,
            "price": round(tick.ask - 0.03, 5),
            "type_time": c.ORDER_TIME_SPECIFIED,
            "expiration": expiry - 1200,
        }
    )
    assert past is not None and past.retcode == c.TRADE_RETCODE_INVALID_EXPIRATION
    clock.advance(900)
    sim.server.process()
    assert terminal.orders_get() == ()
    assert terminal.history_orders_get(ticket=placed.order)[0].state == c.ORDER_STATE_EXPIRED  # type: ignore[index]


def test_margin_and_profit_convert_into_a_eur_account(sim: Listener, admin: SimAdmin) -> None:
    login, password = new_account(admin, currency="EUR", leverage=50)
    terminal = connect(sim, "eur", login, password)
    tick = terminal.symbol_info_tick("USDJPY")
    eurusd = terminal.symbol_info_tick("EURUSD")
    assert tick is not None and eurusd is not None
    margin = terminal.order_calc_margin(BUY, "USDJPY", 1.0, tick.ask)
    assert margin == pytest.approx(round(100_000 / 50 / eurusd.ask, 2))  # USD margin in EUR
    eurjpy = terminal.symbol_info_tick("EURJPY")
    assert eurjpy is not None
    gained = terminal.order_calc_profit(BUY, "USDJPY", 1.0, tick.ask, round(tick.ask + 1.0, 3))
    assert gained == pytest.approx(round(100_000 * 1.0 / eurjpy.ask, 2))  # JPY profit in EUR, through EURJPY
    chf = terminal.order_calc_profit(BUY, "USDCHF", 1.0, 0.8, 0.81)
    usdchf = terminal.symbol_info_tick("USDCHF")
    assert usdchf is not None
    # CHF -> EUR has no direct pair: through USD (USDCHF, then EURUSD)
    assert chf == pytest.approx(round(1000 / 0.81 / eurusd.ask, 2), abs=0.02)
    opened = terminal.order_send(market(terminal, "USDJPY", BUY, 1.0))
    assert opened is not None and opened.retcode == c.TRADE_RETCODE_DONE
    assert terminal.account_info().margin == pytest.approx(margin)  # type: ignore[union-attr]
    terminal.shutdown()


def test_stop_out_closes_the_losing_position(sim: Listener, admin: SimAdmin, clock: ManualClock) -> None:
    times, bid, ask = future(sim, "BTCUSD", 12 * 3600)
    side = BUY if (ask[0] - bid.min()) > (ask.max() - bid[0]) else SELL
    adverse = (ask[0] - bid.min()) if side == BUY else (ask.max() - bid[0])
    margin_per_lot = ask[0] * 5 / 500  # BTCUSD: CFD-leverage, margin rate 5, account leverage 1:500
    volume = 1.0
    balance = round(margin_per_lot * volume * 1.2, 2)  # stop-out at 50%: a loss of 70% of the margin
    assert adverse * volume > balance - 0.5 * margin_per_lot * volume
    login, password = new_account(admin, leverage=500, balance=balance)
    terminal = connect(sim, "stopout", login, password)
    opened = terminal.order_send(market(terminal, "BTCUSD", side, volume, price=0.0))
    assert opened is not None and opened.retcode == c.TRADE_RETCODE_DONE, opened
    clock.advance(12 * 3600)
    sim.server.process()
    assert terminal.positions_get() == ()
    closing = terminal.history_deals_get(position=opened.order)[-1]
    assert closing.reason == c.DEAL_REASON_SO and closing.comment.startswith("[so ")
    account = terminal.account_info()
    assert account is not None and account.margin == 0
    terminal.shutdown()


def test_swaps_are_charged_at_rollover(terminal: SimTerminal, sim: Listener, clock: ManualClock) -> None:
    opened = terminal.order_send(market(terminal, "EURUSD", BUY, 1.0))
    assert opened is not None
    clock.set(datetime(2025, 6, 5, 0, 0, 30, tzinfo=UTC))  # past midnight into Thursday: a triple swap
    sim.server.process()
    (position,) = terminal.positions_get()
    assert position.swap == pytest.approx(round(-7.2 * 1e-5 * 100_000 * 3, 2))
    closed = terminal.order_send(market(terminal, "EURUSD", SELL, 1.0, position=opened.order))
    assert closed is not None
    assert terminal.history_deals_get(position=opened.order)[-1].swap == position.swap


def test_two_terminals_on_one_account_see_the_same_books(sim: Listener) -> None:
    first, second = connect(sim, "a"), connect(sim, "b")
    opened = first.order_send(market(first, "EURUSD", BUY, 0.1))
    assert opened is not None
    assert [p.ticket for p in second.positions_get()] == [opened.order]
    first.shutdown()
    second.shutdown()
