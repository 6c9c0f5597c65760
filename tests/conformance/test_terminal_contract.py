"""The terminal layer's contract, on every target: connect, symbols, ticks and rates, order_check and
order_send, positions, orders and history, error codes, reconnect.

What each test asserts is what the app relies on; what it observed besides is recorded with ``fact``
and compared between the simulator and a real terminal (``scripts/test --real-terminal PATH``).
Trading tests run only on a demo account, with the symbol's minimum volume, and undo what they did.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import uuid
from datetime import timedelta

import numpy as np
import pytest

from app.models import (
    AuthorizationError,
    DealEntry,
    FillPolicy,
    OrderRequest,
    OrderResult,
    OrderState,
    OrderType,
    SymbolSpec,
    TerminalError,
    TerminalStatus,
    TickBatch,
    Timeframe,
    TradeAction,
)
from app.mt5.client import TerminalClient
from tests.conformance.conftest import Observed, Target
from tests.support.sim_fixtures import wait_until

pytestmark = pytest.mark.slow

MARKET_CLOSED = 10018
PENNY = 0.011  # account figures are in cents


def fill_for(spec: SymbolSpec, pending: bool = False) -> FillPolicy:
    """A filling mode the symbol takes (RETURN is what pending orders use)."""
    if pending:
        return FillPolicy.RETURN
    for policy in (FillPolicy.FOK, FillPolicy.IOC):
        if policy in spec.filling_modes:
            return policy
    return FillPolicy.RETURN


def tag() -> str:
    return f"conformance {uuid.uuid4().hex[:8]}"


def skip_if_closed(retcode: int, fact: Observed, what: str) -> None:
    if retcode == MARKET_CLOSED:
        fact(f"{what}.market_closed", True)
        pytest.skip(f"{what}: the market is closed now")


# ---------------------------------------------------------------------- connect
async def test_connects_and_logs_in(terminal: TerminalClient, target: Target, fact: Observed) -> None:
    health = await terminal.call("health")
    assert fact("connect.status", terminal.state.status.value) == TerminalStatus.LOGGED_IN.value
    assert health["login"] == target.login
    assert fact("connect.connected", health["connected"]) is True
    assert fact("connect.build_positive", health["build"] > 0)
    fact("connect.trade_allowed", health["trade_allowed"])


async def test_the_account_figures_add_up(terminal: TerminalClient, target: Target, fact: Observed) -> None:
    account = await terminal.call("account")
    assert account.login == target.login and account.server == target.server
    floating = account.balance + account.credit + account.profit
    assert fact("account.equity_is_balance_plus_credit_plus_profit", abs(account.equity - floating) < PENNY)
    free = account.equity - account.margin
    assert fact("account.margin_free_is_equity_minus_margin", abs(account.margin_free - free) < PENNY)
    if account.margin:
        level = account.equity / account.margin * 100
        fact("account.margin_level_is_equity_over_margin", abs(account.margin_level - level) < PENNY)
    fact("account.trade_mode", account.trade_mode.value)


# ---------------------------------------------------------------------- symbols
async def test_symbols_and_their_specification(
    terminal: TerminalClient, target: Target, fact: Observed
) -> None:
    symbols = await terminal.call("symbols")
    assert target.symbol in {s.name for s in symbols}
    spec: SymbolSpec = await terminal.call("symbol", target.symbol)
    assert fact("symbol.point_is_ten_to_minus_digits", math.isclose(spec.point, 10.0**-spec.digits))
    assert fact("symbol.volume_grid", 0 < spec.volume_min <= spec.volume_max and spec.volume_step > 0)
    assert fact("symbol.volume_min_on_step", spec.on_volume_step(spec.volume_min))
    assert fact("symbol.contract_size_positive", spec.contract_size > 0)
    assert fact("symbol.tick_size_and_value_positive", spec.tick_size > 0 and spec.tick_value > 0)
    assert fact("symbol.has_a_filling_mode", bool(spec.filling_modes))
    grouped = await terminal.call("symbols", f"*{target.symbol[:3]}*")
    assert fact("symbols.group_filters", 0 < len(grouped) <= len(symbols))
    assert all(target.symbol[:3] in s.name for s in grouped)


# ---------------------------------------------------------------------- ticks and rates
async def test_the_current_tick(terminal: TerminalClient, target: Target, fact: Observed) -> None:
    tick = await terminal.call("tick", target.symbol)
    assert fact("tick.ask_not_below_bid", 0 < tick.bid <= tick.ask)
    assert fact("tick.time_msc_is_milliseconds", tick.time_msc > 10**12)
    fact("tick.flags_bid_or_ask", bool(tick.flags & 6))


def _bars_sane(series: object) -> bool:
    s = series  # BarSeries
    return bool(
        np.all(np.diff(s.time) > 0)  # type: ignore[attr-defined]
        and np.all(s.low <= np.minimum(s.open, s.close))  # type: ignore[attr-defined]
        and np.all(s.high >= np.maximum(s.open, s.close))  # type: ignore[attr-defined]
    )


async def test_bars_of_every_kind_of_request(
    terminal: TerminalClient, target: Target, fact: Observed
) -> None:
    m1 = await terminal.call("rates_from_pos", target.symbol, Timeframe.M1, 0, 120)
    assert fact("rates.from_pos.count", 0 < len(m1) <= 120)
    assert fact("rates.from_pos.oldest_first_and_sane", _bars_sane(m1))
    h1 = await terminal.call("rates_from_pos", target.symbol, Timeframe.H1, 0, 24)
    assert fact("rates.h1_on_the_hour", bool(np.all(h1.time % 3600 == 0)))
    last = int(m1.time[-2])  # the last complete bar
    ranged = await terminal.call("rates_range", target.symbol, Timeframe.M1, last - 3600, last)
    assert fact("rates.range_inclusive", len(ranged) > 0 and int(ranged.time[-1]) == last)
    tail = m1.time[(m1.time >= last - 3600) & (m1.time <= last)]
    assert fact("rates.range_equals_from_pos", np.array_equal(ranged.time, tail))
    counted = await terminal.call("rates_from", target.symbol, Timeframe.M1, last, 10)
    assert fact("rates.from_ends_at_the_date", len(counted) == 10 and int(counted.time[-1]) == last)


def _flags_facts(batch: TickBatch, fact: Observed) -> None:
    bid, ask, flags = batch.bid, batch.ask, batch.flags
    changed_bid, changed_ask = bid[1:] != bid[:-1], ask[1:] != ask[:-1]
    fact("ticks.every_tick_changes_bid_or_ask", bool(np.all(changed_bid | changed_ask)))
    fact("ticks.flag_bid_means_bid_changed", bool(np.array_equal((flags[1:] & 2) != 0, changed_bid)))
    fact("ticks.flag_ask_means_ask_changed", bool(np.array_equal((flags[1:] & 4) != 0, changed_ask)))


async def test_tick_history(terminal: TerminalClient, target: Target, fact: Observed) -> None:
    latest = await terminal.call("tick", target.symbol)
    batch = await terminal.call("ticks_range", target.symbol, latest.time_msc - 15 * 60_000, latest.time_msc)
    if len(batch) < 20:
        pytest.skip("too few ticks in the last 15 minutes of the market")
    assert fact("ticks.in_time_order", bool(np.all(np.diff(batch.time_msc) >= 0)))
    assert fact("ticks.ask_not_below_bid", bool(np.all(batch.ask >= batch.bid)))
    assert fact("ticks.last_is_the_current_tick", int(batch.time_msc[-1]) == latest.time_msc)
    _flags_facts(batch, fact)
    if target.name == "sim":  # what the simulator promises; a real terminal's answer is in the report
        assert all(
            fact.seen(k)
            for k in (
                "ticks.every_tick_changes_bid_or_ask",
                "ticks.flag_bid_means_bid_changed",
                "ticks.flag_ask_means_ask_changed",
            )
        )


async def test_the_tick_stream_equals_the_tick_history(
    terminal: TerminalClient, target: Target, fact: Observed
) -> None:
    batches: list[TickBatch] = []
    terminal.add_ticks_listener(batches.extend)
    await terminal.stream_ticks([target.symbol], interval_s=0.01)
    try:
        await wait_until(lambda: sum(len(b) for b in batches) >= 4, within_s=60.0)
    except AssertionError:
        pytest.skip("no ticks for a minute: the market is quiet or closed")
    times = np.concatenate([b.time_msc for b in batches])
    first, last = int(times[0]), int(times[-1])
    inside = times[(times > first) & (times < last)]
    history = await terminal.call("ticks_range", target.symbol, first + 1, last - 1)
    assert fact("stream.equals_history", np.array_equal(inside, history.time_msc))


# ---------------------------------------------------------------------- order_check
def _market(
    spec: SymbolSpec, tick: object, side: OrderType, volume: float | None = None, **more: object
) -> OrderRequest:
    price = tick.ask if side is OrderType.BUY else tick.bid  # type: ignore[attr-defined]
    return OrderRequest(
        TradeAction.DEAL,
        spec.name,
        volume or spec.volume_min,
        side,
        price=price,
        deviation=50,
        filling=fill_for(spec),
        **more,  # type: ignore[arg-type]
    )


async def test_order_check_of_a_valid_order(demo: TerminalClient, target: Target, fact: Observed) -> None:
    """With a position open (so the account has margin already), check a second order: MT5 gives the
    account as it would be after the trade."""
    spec = await demo.call("symbol", target.symbol)
    opening = _market(spec, await demo.call("tick", target.symbol), OrderType.BUY, comment=tag())
    first = await _send(demo, opening, fact, "order_send.first_buy")
    try:
        tick = await demo.call("tick", target.symbol)
        request = _market(spec, tick, OrderType.BUY)
        account = await demo.call("account")
        check = await demo.call("order_check", request)
        skip_if_closed(check.retcode, fact, "order_check")
        assert fact("order_check.valid.retcode", check.retcode) == 0 and check.ok
        alone = await demo.call("order_calc_margin", request)
        assert account.margin > 0.02 and alone > 0.02
        fact("order_check.balance_is_the_accounts", abs(check.balance - account.balance) < PENNY)
        total = fact(
            "order_check.margin_is_the_accounts_after_the_trade",
            abs(check.margin - (account.margin + alone)) < 0.02,
        )
        fact("order_check.margin_is_the_trades_alone", abs(check.margin - alone) < 0.02)
        assert fact(
            "order_check.margin_free_is_equity_minus_margin",
            abs(check.margin_free - (check.equity - check.margin)) < PENNY,
        )
        level = check.equity / check.margin * 100
        assert fact("order_check.margin_level_is_equity_over_margin", abs(check.margin_level - level) < PENNY)
        if (
            target.name == "sim"
        ):  # MetaTrader 5's documented example: the total; a real terminal's is reported
            assert total
    finally:
        await _close(demo, spec, first.order)


async def _close(terminal: TerminalClient, spec: SymbolSpec, ticket: int) -> None:
    tick = await terminal.call("tick", spec.name)
    result = await terminal.call("order_send", _market(spec, tick, OrderType.SELL, position=ticket))
    assert result.ok, f"could not close position {ticket}: {result.retcode} {result.comment}"


async def test_order_check_refuses_bad_requests(demo: TerminalClient, target: Target, fact: Observed) -> None:
    spec = await demo.call("symbol", target.symbol)
    tick = await demo.call("tick", target.symbol)
    cases = {
        "volume_below_min": _market(spec, tick, OrderType.BUY, volume=spec.volume_min / 2),
        "volume_off_step": _market(spec, tick, OrderType.BUY, volume=spec.volume_min + spec.volume_step / 2),
        "stop_loss_above_a_buy": _market(
            spec, tick, OrderType.BUY, sl=round(tick.ask + 500 * spec.point, spec.digits)
        ),
        "take_profit_below_a_buy": _market(
            spec, tick, OrderType.BUY, tp=round(tick.bid - 500 * spec.point, spec.digits)
        ),
    }
    for name, request in cases.items():
        check = await demo.call("order_check", request)
        skip_if_closed(check.retcode, fact, "order_check")
        fact(f"order_check.{name}.retcode", check.retcode)
        assert not check.ok, name


# ---------------------------------------------------------------------- order_send, positions, history
async def _send(terminal: TerminalClient, request: OrderRequest, fact: Observed, what: str) -> OrderResult:
    result: OrderResult = await terminal.call("order_send", request)
    skip_if_closed(result.retcode, fact, what)
    fact(f"{what}.retcode", result.retcode)
    assert result.ok, f"{what}: {result.retcode} {result.comment}"
    return result


async def test_a_market_order_opens_a_position_that_closes(
    demo: TerminalClient, target: Target, fact: Observed
) -> None:
    spec = await demo.call("symbol", target.symbol)
    comment = tag()
    opened = await _send(
        demo,
        _market(spec, await demo.call("tick", target.symbol), OrderType.BUY, comment=comment),
        fact,
        "order_send.market_buy",
    )
    assert fact("order_send.market_buy.volume", opened.volume == spec.volume_min)
    positions = [
        p
        for p in await demo.call("positions", target.symbol)
        if p.identifier == opened.order or p.ticket == opened.order
    ]
    assert len(positions) == 1
    position = positions[0]
    fact("position.ticket_is_the_order_ticket", position.ticket == opened.order)
    fact("position.comment_kept", position.comment == comment)
    assert fact(
        "position.by_ticket",
        [p.ticket for p in await demo.call("positions", None, position.ticket)] == [position.ticket],
    )

    closing = _market(spec, await demo.call("tick", target.symbol), OrderType.SELL, position=position.ticket)
    closed = await _send(demo, closing, fact, "order_send.close")
    assert fact("position.gone_after_close", await demo.call("positions", None, position.ticket) == [])

    deals = await demo.call("history_deals", position=position.ticket)
    assert fact("history.deals_of_the_position", [d.entry.value for d in deals]) == [
        DealEntry.IN.value,
        DealEntry.OUT.value,
    ]
    assert fact("history.deal_orders", [d.order for d in deals] == [opened.order, closed.order])
    orders = await demo.call("history_orders", position=position.ticket)
    assert (
        fact("history.orders_of_the_position_filled", [o.state.value for o in orders])
        == [OrderState.FILLED.value] * 2
    )
    when = deals[0].time
    ranged = await demo.call("history_deals", when - timedelta(hours=1), when + timedelta(days=1))
    assert fact("history.deals_by_period", {d.ticket for d in deals} <= {d.ticket for d in ranged})
    one = await demo.call("history_deals", ticket=deals[0].ticket)
    assert fact("history.deal_by_ticket", [d.ticket for d in one] == [deals[0].ticket])


async def test_a_pending_order_is_placed_changed_and_removed(
    demo: TerminalClient, target: Target, fact: Observed
) -> None:
    spec = await demo.call("symbol", target.symbol)
    tick = await demo.call("tick", target.symbol)
    distance = max(300, 3 * spec.stops_level, 3 * spec.freeze_level) * spec.point
    price = spec.round_price(tick.bid - distance)
    request = OrderRequest(
        TradeAction.PENDING, spec.name, spec.volume_min, OrderType.BUY_LIMIT, price=price,
        filling=fill_for(spec, pending=True), comment=tag(),
    )  # fmt: skip
    placed = await _send(demo, request, fact, "order_send.buy_limit")  # MT5 answers DONE (10009) here too
    orders = await demo.call("orders", None, placed.order)
    assert fact("orders.by_ticket", [(o.type.value, o.state.value) for o in orders]) == [
        ("buy_limit", "placed")
    ]
    try:
        moved = spec.round_price(price - 50 * spec.point)
        modify = OrderRequest(TradeAction.MODIFY, spec.name, order=placed.order, price=moved)
        await _send(demo, modify, fact, "order_send.modify_pending")
        (changed,) = await demo.call("orders", None, placed.order)
        assert fact("orders.price_changed", math.isclose(changed.price_open, moved))
    finally:
        remove = OrderRequest(TradeAction.REMOVE, spec.name, order=placed.order)
        await _send(demo, remove, fact, "order_send.remove_pending")
    assert fact("orders.gone_after_remove", await demo.call("orders", None, placed.order) == [])
    history = await demo.call("history_orders", ticket=placed.order)
    assert fact("history.removed_order_canceled", [o.state.value for o in history]) == [
        OrderState.CANCELED.value
    ]


# ---------------------------------------------------------------------- error codes
async def test_errors_are_typed_and_leave_the_terminal_working(
    terminal: TerminalClient, target: Target, fact: Observed
) -> None:
    for what, call in (
        ("symbol", terminal.call("symbol", "NO_SUCH_SYMBOL_42")),
        ("tick", terminal.call("tick", "NO_SUCH_SYMBOL_42")),
        ("rates", terminal.call("rates_from_pos", "NO_SUCH_SYMBOL_42", Timeframe.M1, 0, 10)),
    ):
        with pytest.raises(TerminalError) as caught:
            await call
        fact(f"error.unknown_symbol.{what}", [type(caught.value).__name__, caught.value.code])
    spec = await terminal.call("symbol", target.symbol)
    result = await terminal.call(
        "order_check",
        OrderRequest(TradeAction.DEAL, "NO_SUCH_SYMBOL_42", spec.volume_min, OrderType.BUY, price=1.0),
    )
    fact("error.unknown_symbol.order_check.retcode", result.retcode)
    assert not result.ok
    assert (await terminal.call("account")).login == target.login  # still there, still logged in


async def test_a_wrong_password_is_an_authorization_error_and_the_account_stays(
    terminal: TerminalClient, target: Target, fact: Observed
) -> None:
    with pytest.raises(AuthorizationError) as caught:
        await terminal.login(target.login, target.password + "-wrong", target.server, timeout_s=60)
    fact("error.wrong_password", [type(caught.value).__name__, caught.value.code])
    assert fact(
        "error.wrong_password.back_on_the_account", (await terminal.call("account")).login == target.login
    )


# ---------------------------------------------------------------------- reconnect
async def test_a_killed_worker_comes_back_logged_in(
    terminal: TerminalClient, target: Target, fact: Observed
) -> None:
    pid = terminal.worker_pid
    assert pid is not None
    os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))  # SIGTERM is TerminateProcess on Windows
    await wait_until(lambda: terminal.restarts >= 1, within_s=60.0)
    await wait_until(lambda: terminal.state.status is TerminalStatus.LOGGED_IN, within_s=120.0)
    assert terminal.worker_pid != pid
    assert fact("reconnect.logged_back_in", (await terminal.call("account")).login == target.login)
    await asyncio.sleep(0)
