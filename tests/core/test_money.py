"""Money: rounding to a currency's digits never lets float noise decide, and sums are exact."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from app.core.money import currency_digits, exact_sum, minor_units, rounded
from app.core.pnl import period_pnl
from tests.support.factories import deal


def test_rounding_takes_the_decimal_a_float_stands_for() -> None:
    assert rounded(21.810000000000002, 2) == 21.81
    assert rounded(-0.45999999999999996, 2) == -0.46
    assert rounded(1585.1100000000001, 2) == 1585.11
    assert rounded(2.675, 2) == 2.68  # the float is 2.67499999...; the amount meant is 2.675
    assert rounded(1.0857849999999, 5) == 1.08578
    assert rounded(149.5, 0) == 150.0
    assert math.isnan(rounded(math.nan, 2)) and rounded(math.inf, 2) == math.inf


def test_currency_digits() -> None:
    assert currency_digits("USD") == 2 and currency_digits("eur") == 2
    assert currency_digits("JPY") == 0 and currency_digits("KWD") == 3
    assert currency_digits("") == 2 and currency_digits(None) == 2


def test_sums_are_exact_to_the_cent() -> None:
    assert 0.1 + 0.2 != 0.3 and exact_sum([0.1, 0.2]) == 0.3
    values = [0.1] * 10 + [-0.45999999999999996, 1585.11]
    assert exact_sum(values) == 1585.65
    assert minor_units(-0.005) == -1 and minor_units(0.125, 2) == 13


def test_period_pnl_is_exact_to_the_cent() -> None:
    now = datetime(2026, 11, 18, 12, tzinfo=UTC)
    today = datetime(2026, 11, 18, 10, tzinfo=UTC)
    one = [deal(today, profit=0.1, swap=0.2, commission=-0.76)]  # 0.1 + 0.2 - 0.76 in floats: -0.4599...
    assert period_pnl(one, now).day == -0.46 and repr(period_pnl(one, now).total) == "-0.46"
    many = [deal(today, profit=p, commission=-0.07) for p in (1585.11, 0.1, 0.2, -0.45999999999999996)]
    pnl = period_pnl(many, now)
    assert repr(pnl.day) == repr(pnl.total) == "1584.67"  # 1585.11 + 0.1 + 0.2 - 0.46 - 4 x 0.07
