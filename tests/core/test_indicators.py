"""Indicator specs and their TA-Lib maths (Qt-free)."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from app.core.indicators import IndicatorKind, IndicatorSpec, Placement, compute


def closes(n: int = 300) -> np.ndarray:
    rng = np.random.default_rng(7)
    return 1.1 + np.cumsum(rng.normal(0, 0.001, n))


def test_defaults_fill_in_and_labels_name_the_parameters() -> None:
    assert IndicatorSpec(IndicatorKind.SMA).params == {"period": 20.0}
    assert IndicatorSpec(IndicatorKind.BBANDS, {"period": 30}).label == "BB(30, 2)"
    assert IndicatorSpec(IndicatorKind.MACD).label == "MACD(12, 26, 9)"
    assert IndicatorSpec(IndicatorKind.RSI).placement is Placement.PANE
    assert IndicatorSpec(IndicatorKind.EMA).placement is Placement.OVERLAY


@pytest.mark.parametrize(
    ("params", "message"),
    [({"period": 1}, "period must be within"), ({"length": 5}, "unknown parameter")],
)
def test_bad_parameters_are_refused_by_name(params: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        IndicatorSpec(IndicatorKind.SMA, params)


def test_a_plain_string_kind_becomes_the_enum() -> None:
    assert IndicatorSpec("ema", {"period": 5}).kind is IndicatorKind.EMA  # type: ignore[arg-type]


def test_json_round_trip() -> None:
    spec = IndicatorSpec(IndicatorKind.MACD, {"fast": 8, "slow": 21, "signal": 5})
    assert IndicatorSpec.from_json(spec.to_json()) == spec


def test_outputs_are_talib_and_as_long_as_the_input() -> None:
    close = closes()
    sma = compute(IndicatorSpec(IndicatorKind.SMA, {"period": 10}), close)["sma"]
    np.testing.assert_allclose(sma, talib.SMA(close, 10), equal_nan=True)
    assert np.isnan(sma[:9]).all() and np.isfinite(sma[9:]).all()
    bands = compute(IndicatorSpec(IndicatorKind.BBANDS), close)
    assert set(bands) == {"upper", "middle", "lower"}
    assert (bands["upper"][19:] >= bands["lower"][19:]).all()
    rsi = compute(IndicatorSpec(IndicatorKind.RSI), close)["rsi"]
    assert 0 <= np.nanmin(rsi) and np.nanmax(rsi) <= 100
    macd = compute(IndicatorSpec(IndicatorKind.MACD), close)
    assert all(len(v) == len(close) for v in macd.values())
    np.testing.assert_allclose(macd["histogram"], macd["macd"] - macd["signal"], equal_nan=True, atol=1e-12)
