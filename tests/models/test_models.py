"""Domain types: immutable, and the small bits of arithmetic they carry are right."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.models import (
    AccountSnapshot,
    Bar,
    BarSeries,
    Deal,
    DealEntry,
    DealType,
    FillPolicy,
    OrderType,
    Quote,
    Side,
    SymbolSpec,
    SymbolTradeMode,
    TickBatch,
    Timeframe,
    account_key,
)


def eurusd(**changes: object) -> SymbolSpec:
    spec = SymbolSpec(
        name="EURUSD", description="Euro vs US Dollar", digits=5, point=0.00001, contract_size=100_000,
        volume_min=0.01, volume_max=100.0, volume_step=0.01, stops_level=10, freeze_level=5,
        tick_size=0.00001, tick_value=1.0, currency_base="EUR", currency_profit="USD",
        currency_margin="EUR", trade_mode=SymbolTradeMode.FULL, filling_modes=frozenset({FillPolicy.FOK}),
    )  # fmt: skip
    return dataclasses.replace(spec, **changes)  # type: ignore[arg-type]


def test_models_are_immutable() -> None:
    bar = Bar(0, 1.0, 2.0, 0.5, 1.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        bar.close = 3.0  # type: ignore[misc]
    batch = TickBatch.empty("EURUSD")
    with pytest.raises(ValueError, match="read-only"):
        batch.bid[:] = 1.0


def test_order_type_sides_and_kinds() -> None:
    assert OrderType.SELL_STOP_LIMIT.side is Side.SELL
    assert OrderType.BUY_LIMIT.is_pending and not OrderType.BUY.is_pending
    assert OrderType.pending(Side.SELL, "limit") is OrderType.SELL_LIMIT
    assert not OrderType.CLOSE_BY.is_pending and not OrderType.CLOSE_BY.is_market
    assert Side.BUY.opposite is Side.SELL and Side.SELL.sign == -1


@pytest.mark.parametrize(
    ("text", "expected"),
    [("H1", Timeframe.H1), ("m15", Timeframe.M15), ("1m", Timeframe.M1), ("1M", Timeframe.MN1),
     ("4h", Timeframe.H4), ("240", Timeframe.H4), ("1d", Timeframe.D1), ("W1", Timeframe.W1)],
)  # fmt: skip
def test_timeframe_parse(text: str, expected: Timeframe) -> None:
    assert Timeframe.parse(text) is expected


def test_timeframe_parse_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="unknown timeframe"):
        Timeframe.parse("H7")
    assert len(Timeframe) == 21  # every MT5 timeframe


@given(st.floats(min_value=0, max_value=1_000, allow_nan=False))
def test_floor_volume_is_on_the_step_and_never_above(volume: float) -> None:
    spec = eurusd()
    floored = spec.floor_volume(volume)
    assert floored <= volume + 1e-9
    assert spec.on_volume_step(floored)
    assert volume - floored < spec.volume_step + 1e-9


def test_round_price_uses_tick_size_and_digits() -> None:
    assert eurusd().round_price(1.234567) == 1.23457
    index = eurusd(name="US500", digits=2, point=0.01, tick_size=0.25)
    assert index.round_price(4500.13) == 4500.25  # nearest tick
    assert index.round_price(4500.10) == 4500.0


def test_tick_batch_round_trip() -> None:
    batch = TickBatch(
        "EURUSD",
        np.array([1000, 1001], dtype=np.int64),
        np.array([1.1, 1.2]),
        np.array([1.1001, 1.2001]),
        np.zeros(2),
        np.zeros(2),
        np.array([6, 6], dtype=np.int64),
    )
    assert len(batch) == 2
    assert batch.latest.bid == 1.2 and batch.latest.time == datetime.fromtimestamp(1.001, UTC)
    assert [t.bid for t in batch.slice(1).ticks()] == [1.2]


def test_bar_series_from_bars() -> None:
    bars = [Bar(60, 1, 2, 0.5, 1.5, 10, 2, 0), Bar(120, 1.5, 1.6, 1.4, 1.45, 3, 1, 0)]
    series = BarSeries.from_bars("EURUSD", Timeframe.M1, bars)
    assert series.bars() == bars and len(series) == 2


def test_deal_net_and_quote_change() -> None:
    deal = Deal(1, 2, 3, "EURUSD", DealType.SELL, DealEntry.OUT, 1.0, 1.1, 50.0, -2.0, -3.5, 0.0,
                datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
    assert deal.net == pytest.approx(44.5)
    assert DealType.BUY.is_trade and not DealType.BALANCE.is_trade
    quote = Quote("EURUSD", 1.1, 1.1002, 0, 20, 5, day_open=1.0)
    assert quote.change_pct == pytest.approx(10.0)
    assert Quote("X", 1, 1, 0, 0, 2).change_pct == 0.0


def test_account_key_and_snapshot_defaults() -> None:
    assert account_key(1234, "Sim-Demo") == "1234@Sim-Demo"
    snapshot = AccountSnapshot("1@S", datetime.now(UTC), 1, 1, 0, 1, 0, "USD", 0, 0.0, 0)
    assert snapshot.pnl.total == 0.0
