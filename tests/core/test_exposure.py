"""Exposure per symbol from the latest snapshots: net volume, break-even price, P/L per currency."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.core.exposure import exposure, floating_by_currency, live_snapshot, one_per_account
from app.models import AccountInfo, AccountTradeMode, MarginMode, Position, Side
from tests.support.factories import position, snapshot, utc


def test_net_volume_average_price_and_floating_per_currency() -> None:
    usd = snapshot(
        utc(2026, 12, 1, 10),
        key="1@A",
        positions=(
            position("EURUSD", Side.BUY, 1.0, 1.10000, 50.0, swap=-2.0),
            position("EURUSD", Side.SELL, 0.5, 1.12000, -10.0),
            position("XAUUSD", Side.SELL, 0.1, 2000.55, 12.5),
        ),
    )
    eur = replace(
        snapshot(
            utc(2026, 12, 1, 9), key="2@B", positions=(position("EURUSD", Side.BUY, 0.3, 1.11000, 7.0),)
        ),
        currency="EUR",
    )
    rows = {row.symbol: row for row in exposure([usd, eur])}

    eurusd = rows["EURUSD"]
    assert (eurusd.long_volume, eurusd.short_volume) == pytest.approx((1.3, 0.5))
    assert eurusd.net_volume == pytest.approx(0.8) and eurusd.side == "long"
    # Break-even of the net position: (1.0 × 1.10 − 0.5 × 1.12 + 0.3 × 1.11) / 0.8
    assert eurusd.average_price == pytest.approx((1.10 - 0.56 + 0.333) / 0.8)
    assert eurusd.floating == (("EUR", 7.0), ("USD", 38.0))
    assert (eurusd.accounts, eurusd.positions) == (2, 3)
    assert (eurusd.oldest, eurusd.newest) == (utc(2026, 12, 1, 9), utc(2026, 12, 1, 10))
    assert eurusd.price_digits == 5

    gold = rows["XAUUSD"]
    assert gold.net_volume == pytest.approx(-0.1) and gold.side == "short"
    assert gold.average_price == pytest.approx(2000.55) and gold.price_digits == 2
    assert floating_by_currency(rows.values()) == (("EUR", 7.0), ("USD", 50.5))


def test_a_hedged_symbol_is_flat_and_an_account_without_positions_adds_nothing() -> None:
    hedged = snapshot(
        utc(2026, 12, 1),
        key="1@A",
        positions=(
            position("GBPUSD", Side.BUY, 0.2, 1.25, 3.0),
            position("GBPUSD", Side.SELL, 0.2, 1.26, -1.0),
        ),
    )
    (row,) = exposure([hedged, snapshot(utc(2026, 12, 1), key="2@B")])
    assert row.net_volume == 0.0 and row.average_price is None and row.side == "flat"
    assert row.floating == (("USD", 2.0),)
    assert exposure([]) == []


def live_account(login: int = 5001001, server: str = "SimBroker-Demo", currency: str = "USD") -> AccountInfo:
    return AccountInfo(
        login, "Live", server, "Sim", currency, 100, 10_000.0, 0.0, 10_050.0, 100.0, 9_950.0, 10_050.0, 50.0,
        AccountTradeMode.DEMO, MarginMode.HEDGING, True,
    )  # fmt: skip


def live_position(
    ticket: int, symbol: str, side: Side, volume: float, price: float, profit: float
) -> Position:
    when = utc(2026, 12, 1, 9)
    return Position(ticket, symbol, side, volume, price, price, 0.0, 0.0, profit, -1.0, when, when)


def test_the_live_account_counts_and_counts_once() -> None:
    live = live_snapshot(
        live_account(),
        [
            live_position(1, "EURUSD", Side.BUY, 0.5, 1.10, 20.0),
            live_position(2, "XAUUSD", Side.SELL, 0.1, 2000, 5),
        ],
        utc(2026, 12, 1, 12),
    )
    assert live.account_key == "5001001@SimBroker-Demo" and live.open_positions == 2
    assert live.positions[0].floating == pytest.approx(19.0)  # profit and swap
    other = snapshot(
        utc(2026, 12, 1, 11), key="7@B", positions=(position("EURUSD", Side.BUY, 1.0, 1.12, 3.0),)
    )
    # the live account is also a carousel account: its last visit (older, other positions) must not add up
    visited = snapshot(
        utc(2026, 12, 1, 10),
        key="5001001@simbroker-demo",
        positions=(position("EURUSD", Side.BUY, 9, 1.0, 1),),
    )
    rows = {row.symbol: row for row in exposure([visited, other, live])}
    assert rows["EURUSD"].long_volume == pytest.approx(1.5) and rows["EURUSD"].accounts == 2
    assert rows["XAUUSD"].net_volume == pytest.approx(-0.1) and rows["XAUUSD"].accounts == 1
    assert one_per_account([visited, live]) == [live]
