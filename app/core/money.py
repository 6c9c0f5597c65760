"""Money as traders read it: amounts in the account currency's minor units, sums exact to the cent.

Terminals hand amounts over as binary floats, and adding floats makes noise (0.1 + 0.2 is
0.30000000000000004; a day's P/L came out as -0.45999999999999996). So amounts are rounded to their
currency's digits where they leave the app (the API, the audit trail), prices to their symbol's, and
period sums are made in integer minor units, so that -0.46 is -0.46.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

DEFAULT_DIGITS = 2
# ISO 4217 currencies whose minor unit is not the cent (the rest: 2 digits).
_DIGITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


def currency_digits(currency: str | None) -> int:
    """How many decimals an amount in ``currency`` has (2 for an unknown or missing one)."""
    return _DIGITS.get((currency or "").upper(), DEFAULT_DIGITS)


def rounded(value: float, digits: int) -> float:
    """``value`` to ``digits`` decimals, as the shortest decimal it stands for is rounded (half up),
    so float noise never decides: 21.810000000000002 → 21.81, 2.675 → 2.68. NaN and infinities
    pass through (the API turns them into null)."""
    if not math.isfinite(value):
        return value
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def minor_units(value: float, digits: int = DEFAULT_DIGITS) -> int:
    """``value`` in whole minor units (cents for 2 digits)."""
    return int(Decimal(repr(value)).scaleb(digits).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor_units(units: int, digits: int = DEFAULT_DIGITS) -> float:
    """The amount of ``units`` minor units (the float nearest to that decimal)."""
    return float(Decimal(units).scaleb(-digits))


def exact_sum(values: Iterable[float], digits: int = DEFAULT_DIGITS) -> float:
    """The sum of amounts, each taken to ``digits`` decimals and added in integer minor units."""
    return from_minor_units(sum(minor_units(v, digits) for v in values), digits)
