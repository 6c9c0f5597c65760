"""Order validation: any volume/price/SL/TP is normalised into a request the server accepts on these
grounds, or refused with a message naming the field — judged by the simulator's own order_check."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.core.order_rules import (
    Market,
    check_close_volume,
    check_order_remove,
    check_position_modify,
    normalize_new_order,
    normalize_volume,
    resolve_points,
)
from app.models import (
    FillPolicy,
    Order,
    OrderRequest,
    OrderState,
    OrderType,
    OrderValidationError,
    Position,
    Side,
    SymbolSpec,
    SymbolTradeMode,
    TradeAction,
)
from app.mt5.terminal_ops import TerminalOps
from tests.support.sim_fixtures import terminal_in_process

SYMBOLS = ("EURUSD", "USDJPY", "XAUUSD", "US500", "BTCUSD")
# order_check retcodes that mean the request itself was malformed: none may follow a pass here
MALFORMED = {
    "INVALID",
    "INVALID_VOLUME",
    "INVALID_PRICE",
    "INVALID_STOPS",
    "INVALID_FILL",
    "INVALID_EXPIRATION",
}


@pytest.fixture(scope="module")
def terminal() -> Iterator[TerminalOps]:
    with terminal_in_process("rules") as ops:
        yield ops


@pytest.fixture(scope="module")
def books(terminal: TerminalOps) -> dict[str, tuple[SymbolSpec, Market]]:
    out = {}
    for symbol in SYMBOLS:
        tick = terminal.tick(symbol)
        out[symbol] = (terminal.symbol(symbol), Market(tick.bid, tick.ask))
    return out


ORDER_TYPES = [t for t in OrderType if t is not OrderType.CLOSE_BY]
points = st.one_of(st.just(0.0), st.floats(-3_000, 3_000, allow_nan=False), st.integers(-50, 50).map(float))


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    symbol=st.sampled_from(SYMBOLS),
    order_type=st.sampled_from(ORDER_TYPES),
    grid_steps=st.one_of(st.integers(0, 200), st.none()),  # a volume on the symbol's grid, or ...
    any_volume=st.one_of(  # ... anything at all
        st.floats(-1, 200, allow_nan=False),
        st.sampled_from([math.nan, math.inf, -math.inf, 0.015, 1e-9, 1000.0]),
    ),
    price_points=points,
    limit_points=points,
    sl_points=points,
    tp_points=points,
    filling=st.one_of(st.none(), st.none(), st.sampled_from(list(FillPolicy))),
)
def test_anything_is_normalised_into_a_valid_request_or_refused(
    terminal: TerminalOps,
    books: dict[str, tuple[SymbolSpec, Market]],
    symbol: str,
    order_type: OrderType,
    grid_steps: int | None,
    any_volume: float,
    price_points: float,
    limit_points: float,
    sl_points: float,
    tp_points: float,
    filling: FillPolicy | None,
) -> None:
    spec, market = books[symbol]
    volume = any_volume if grid_steps is None else spec.volume_min + grid_steps * spec.volume_step
    pending = order_type.is_pending
    base = market.ask if order_type.side is Side.BUY else market.bid
    price = base + price_points * spec.point if pending else 0.0
    reference = price if pending else base
    request = OrderRequest(
        action=TradeAction.PENDING if pending else TradeAction.DEAL,
        symbol=symbol,
        volume=volume,
        type=order_type,
        price=price,
        stoplimit=price + limit_points * spec.point if "stop_limit" in order_type.value else 0.0,
        sl=reference + sl_points * spec.point if sl_points else 0.0,
        tp=reference + tp_points * spec.point if tp_points else 0.0,
        filling=filling,
    )
    try:
        normalized = normalize_new_order(request, spec, market)
    except OrderValidationError as refused:
        assert refused.field in {"volume", "price", "stoplimit", "sl", "tp", "filling", "symbol", "type"}
        assert str(refused)  # a message a person can read
        event(f"refused: {refused.field}")
        return
    if not pending:
        normalized = normalized.with_changes(price=base)
    verdict = terminal.order_check(normalized)
    event(f"server: {verdict.retcode_name}")
    assert verdict.retcode_name not in MALFORMED, (normalized, verdict)
    assert spec.on_volume_step(normalized.volume)
    assert normalized.filling in spec.filling_modes
    for value in (normalized.price, normalized.sl, normalized.tp, normalized.stoplimit):
        assert math.isclose(value, spec.round_price(value), abs_tol=spec.point / 100)


def spec(**changes: object) -> SymbolSpec:
    base = SymbolSpec(
        name="EURUSD", description="", digits=5, point=0.00001, contract_size=100_000, volume_min=0.01,
        volume_max=50.0, volume_step=0.01, stops_level=10, freeze_level=5, tick_size=0.00001, tick_value=1.0,
        currency_base="EUR", currency_profit="USD", currency_margin="EUR", trade_mode=SymbolTradeMode.FULL,
        filling_modes=frozenset({FillPolicy.IOC, FillPolicy.RETURN}),
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


MARKET = Market(1.10000, 1.10020)


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        (0.0, "volume must be positive"),
        (0.005, "not a multiple of EURUSD's volume step 0.01"),
        (51.0, "above EURUSD's maximum 50"),
        (float("nan"), "volume must be a number"),
    ],
)
def test_volume_refusals_name_the_limit(volume: float, message: str) -> None:
    with pytest.raises(OrderValidationError, match=message) as caught:
        normalize_volume(volume, spec())
    assert caught.value.field == "volume"


def test_prices_are_rounded_and_a_filling_is_chosen() -> None:
    request = OrderRequest(
        TradeAction.PENDING, "EURUSD", 0.1, OrderType.BUY_LIMIT, price=1.0950049, sl=1.0900001
    )
    normalized = normalize_new_order(request, spec(), MARKET)
    assert (normalized.price, normalized.sl) == (1.095, 1.09)
    assert normalized.filling is FillPolicy.IOC  # FOK is not allowed, IOC is the next preference


@pytest.mark.parametrize(
    ("order_type", "price", "field", "message"),
    [
        (OrderType.BUY_LIMIT, 1.10025, "price", "below the ask .*; 1.10025 is at or above it$"),
        # 5 points: inside the stops level
        (OrderType.BUY_STOP, 1.10025, "price", "above the ask .*; 1.10025 is only 5 points away$"),
        (OrderType.SELL_LIMIT, 1.09990, "price", "above the bid .*; 1.09990 is at or below it$"),
        (OrderType.SELL_STOP, 1.10010, "price", "below the bid .*; 1.10010 is at or above it$"),
    ],
)
def test_pending_prices_on_the_wrong_side_or_too_close(
    order_type: OrderType, price: float, field: str, message: str
) -> None:
    with pytest.raises(OrderValidationError, match=message) as caught:
        normalize_new_order(
            OrderRequest(TradeAction.PENDING, "EURUSD", 0.1, order_type, price=price), spec(), MARKET
        )
    assert caught.value.field == field


def test_stops_must_be_on_the_right_side_and_outside_the_stops_level() -> None:
    buy = OrderRequest(TradeAction.DEAL, "EURUSD", 0.1, OrderType.BUY)
    with pytest.raises(OrderValidationError, match="must be below 1.10000 for a buy"):
        normalize_new_order(buy.with_changes(sl=1.10050), spec(), MARKET)
    with pytest.raises(OrderValidationError, match="needs at least 10"):
        normalize_new_order(buy.with_changes(tp=1.10005), spec(), MARKET)
    ok = normalize_new_order(buy.with_changes(sl=1.09990, tp=1.10010), spec(), MARKET)
    assert (ok.sl, ok.tp) == (1.0999, 1.1001)


def test_stops_in_points_are_measured_from_the_price_the_order_goes_at() -> None:
    buy = OrderRequest(TradeAction.DEAL, "EURUSD", 0.1, OrderType.BUY, sl_points=200, tp_points=300)
    resolved = resolve_points(buy, spec(), MARKET)  # a buy goes at the ask, 1.10020
    assert (resolved.sl, resolved.tp) == (1.0982, 1.1032)
    assert (resolved.sl_points, resolved.tp_points) == (0.0, 0.0)  # turned into prices once
    sell = OrderRequest(TradeAction.DEAL, "EURUSD", 0.1, OrderType.SELL, sl_points=200)
    assert (resolve_points(sell, spec(), MARKET).sl, resolve_points(sell, spec(), MARKET).tp) == (1.102, 0.0)
    limit = OrderRequest(TradeAction.PENDING, "EURUSD", 0.1, OrderType.BUY_LIMIT, price=1.095, tp_points=50)
    assert resolve_points(limit, spec(), MARKET).tp == 1.0955  # from the pending order's own price
    plain = OrderRequest(TradeAction.DEAL, "EURUSD", 0.1, OrderType.BUY, sl=1.09)
    assert resolve_points(plain, spec(), MARKET) is plain
    moved = Market(1.10100, 1.10120)  # the market moved after the request was made: the stops follow it
    assert resolve_points(buy, spec(), moved).sl == 1.0992


def test_trade_modes() -> None:
    sell = OrderRequest(TradeAction.DEAL, "EURUSD", 0.1, OrderType.SELL)
    with pytest.raises(OrderValidationError, match="long-only"):
        normalize_new_order(sell, spec(trade_mode=SymbolTradeMode.LONG_ONLY), MARKET)
    with pytest.raises(OrderValidationError, match="close-only"):
        normalize_new_order(sell, spec(trade_mode=SymbolTradeMode.CLOSE_ONLY), MARKET)
    closing = normalize_new_order(
        sell.with_changes(position=7), spec(trade_mode=SymbolTradeMode.CLOSE_ONLY), MARKET
    )
    assert closing.position == 7
    with pytest.raises(OrderValidationError, match="disabled"):
        normalize_new_order(sell, spec(trade_mode=SymbolTradeMode.DISABLED), MARKET)


def position(**changes: object) -> Position:
    now = datetime(2026, 11, 18, tzinfo=UTC)
    base = Position(1, "EURUSD", Side.BUY, 0.5, 1.09, 1.1, 0.0, 0.0, 5.0, 0.0, now, now)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_freeze_level_blocks_changes_close_to_the_market() -> None:
    with pytest.raises(OrderValidationError, match="freeze level"):
        check_position_modify(position(sl=1.09998), 1.095, 0.0, spec(), MARKET)  # SL 2 points from the bid
    assert check_position_modify(position(sl=1.09), 1.095, 1.2, spec(), MARKET) == (1.095, 1.2)
    now = datetime(2026, 11, 18, tzinfo=UTC)
    order = Order(
        9, "EURUSD", OrderType.BUY_LIMIT, OrderState.PLACED, 0.1, 0.1, 1.10017, 0, 0, 1.1002, 0, now
    )
    with pytest.raises(OrderValidationError, match="freeze level"):
        check_order_remove(order, spec(), MARKET)  # 3 points below the ask
    check_order_remove(replace(order, price_open=1.09), spec(), MARKET)


def test_partial_close_volume() -> None:
    assert check_close_volume(position(), None, spec()) == 0.5
    assert check_close_volume(position(), 0.2, spec()) == 0.2
    with pytest.raises(OrderValidationError, match="holds 0.5"):
        check_close_volume(position(), 0.6, spec())
