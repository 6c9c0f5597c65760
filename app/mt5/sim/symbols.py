"""The simulated broker's symbol set: specifications as a broker publishes them, and group filters.

A :class:`SymbolSpec` holds what MT5 shows in a symbol's specification window (digits, contract
size, volume limits, stops/freeze levels, execution and filling modes, swaps) plus what the price
engine needs (a reference price, daily volatility, a typical spread).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from app.mt5.sim import constants as c

# SYMBOL_FILLING_* and SYMBOL_EXPIRATION_* flags are MQL5 constants the Python package lacks.
FILLING_FOK = 1
FILLING_IOC = 2
EXPIRATION_ALL = 1 | 2 | 4 | 8  # GTC, DAY, SPECIFIED, SPECIFIED_DAY
ORDER_MODE_ALL = 127  # market, limit, stop, stop-limit, SL, TP, close-by


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    name: str
    description: str
    path: str
    category: str
    base: str
    profit: str
    margin_currency: str
    digits: int
    contract_size: float
    volume_min: float
    volume_max: float
    volume_step: float
    stops_level: int
    freeze_level: int
    calc_mode: int
    exemode: int
    filling_mode: int
    swap_long: float
    swap_short: float
    sessions: str  # "fx" (24/5), "cfd" (24/5 with a daily break), "crypto" (24/7)
    price: float  # reference price the random walk reverts to
    daily_vol: float  # standard deviation of the daily log return
    spread: int  # typical spread, points
    margin_rate: float = 1.0
    commissioned: bool = True  # the account's per-lot commission applies (FX and metals)
    trade_mode: int = c.SYMBOL_TRADE_MODE_FULL
    cross: tuple[tuple[str, int], ...] = ()  # a cross rate: product of these symbols' prices ** sign

    @property
    def point(self) -> float:
        return float(10.0**-self.digits)

    @property
    def margin_hedged(self) -> float:
        """Volume-equivalent margin of a fully hedged lot: half the contract, a common broker setting."""
        return self.contract_size / 2


def _fx(
    name: str,
    description: str,
    price: float,
    spread: int,
    swap_long: float,
    swap_short: float,
    vol: float,
    cross: tuple[tuple[str, int], ...] = (),
) -> SymbolSpec:
    jpy = name.endswith("JPY")
    return SymbolSpec(
        name=name,
        description=description,
        path=f"Forex\\Majors\\{name}",
        category="Forex",
        base=name[:3],
        profit=name[3:],
        margin_currency=name[:3],
        digits=3 if jpy else 5,
        contract_size=100_000.0,
        volume_min=0.01,
        volume_max=100.0,
        volume_step=0.01,
        stops_level=10,
        freeze_level=5,
        calc_mode=c.SYMBOL_CALC_MODE_FOREX,
        exemode=c.SYMBOL_TRADE_EXECUTION_INSTANT,
        filling_mode=FILLING_FOK | FILLING_IOC,
        swap_long=swap_long,
        swap_short=swap_short,
        sessions="fx",
        price=price,
        daily_vol=vol,
        spread=spread,
        cross=cross,
    )


DEFAULT_SYMBOLS: tuple[SymbolSpec, ...] = (
    _fx("EURUSD", "Euro vs US Dollar", 1.1650, 8, -7.2, 2.1, 0.0050),
    _fx("GBPUSD", "Great Britain Pound vs US Dollar", 1.3300, 12, -5.4, -0.8, 0.0058),
    _fx("USDJPY", "US Dollar vs Japanese Yen", 150.50, 10, 14.6, -29.3, 0.0062),
    _fx("USDCHF", "US Dollar vs Swiss Franc", 0.8000, 14, 6.9, -15.8, 0.0052),
    _fx("AUDUSD", "Australian Dollar vs US Dollar", 0.6550, 10, -3.1, -1.2, 0.0065),
    _fx("USDCAD", "US Dollar vs Canadian Dollar", 1.3900, 15, 1.9, -9.7, 0.0042),
    _fx("NZDUSD", "New Zealand Dollar vs US Dollar", 0.5800, 16, -2.2, -1.9, 0.0068),
    _fx(
        "EURGBP",
        "Euro vs Great Britain Pound",
        0.8750,
        12,
        -6.1,
        1.0,
        0.0035,
        (("EURUSD", 1), ("GBPUSD", -1)),
    ),
    _fx("EURJPY", "Euro vs Japanese Yen", 175.00, 18, 8.3, -24.4, 0.0060, (("EURUSD", 1), ("USDJPY", 1))),
    SymbolSpec(
        name="XAUUSD",
        description="Gold vs US Dollar",
        path="Metals\\XAUUSD",
        category="Metals",
        base="XAU",
        profit="USD",
        margin_currency="XAU",
        digits=2,
        contract_size=100.0,
        volume_min=0.01,
        volume_max=50.0,
        volume_step=0.01,
        stops_level=50,
        freeze_level=10,
        calc_mode=c.SYMBOL_CALC_MODE_FOREX,
        exemode=c.SYMBOL_TRADE_EXECUTION_INSTANT,
        filling_mode=FILLING_FOK | FILLING_IOC,
        swap_long=-45.2,
        swap_short=21.7,
        sessions="cfd",
        price=3300.00,
        daily_vol=0.0120,
        spread=25,
    ),
    SymbolSpec(
        name="US500",
        description="US 500 Cash Index CFD",
        path="Indices\\US500",
        category="Indices",
        base="USD",
        profit="USD",
        margin_currency="USD",
        digits=2,
        contract_size=1.0,
        volume_min=0.1,
        volume_max=500.0,
        volume_step=0.1,
        stops_level=50,
        freeze_level=0,
        calc_mode=c.SYMBOL_CALC_MODE_CFDLEVERAGE,
        exemode=c.SYMBOL_TRADE_EXECUTION_MARKET,
        filling_mode=FILLING_IOC,
        swap_long=-412.0,
        swap_short=105.0,
        sessions="cfd",
        price=6500.00,
        daily_vol=0.0100,
        spread=50,
        commissioned=False,
    ),
    SymbolSpec(
        name="BTCUSD",
        description="Bitcoin vs US Dollar",
        path="Crypto\\BTCUSD",
        category="Crypto",
        base="BTC",
        profit="USD",
        margin_currency="USD",
        digits=2,
        contract_size=1.0,
        volume_min=0.01,
        volume_max=10.0,
        volume_step=0.01,
        stops_level=1000,
        freeze_level=0,
        calc_mode=c.SYMBOL_CALC_MODE_CFDLEVERAGE,
        exemode=c.SYMBOL_TRADE_EXECUTION_MARKET,
        filling_mode=FILLING_IOC,
        swap_long=-2000.0,
        swap_short=-2000.0,
        sessions="crypto",
        price=100_000.00,
        daily_vol=0.0300,
        spread=2500,
        margin_rate=5.0,
        commissioned=False,
    ),
)

# Shown in a fresh terminal's Market Watch (the rest are available through symbol_select).
DEFAULT_MARKET_WATCH = ("EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "XAUUSD", "US500", "BTCUSD")


@lru_cache(maxsize=256)
def _compile_group(group: str) -> tuple[tuple[bool, re.Pattern[str]], ...]:
    conditions = []
    for raw in group.split(","):
        term = raw.strip()
        if not term:
            continue
        exclude = term.startswith("!")
        pattern = term[1:] if exclude else term
        regex = "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
        conditions.append((exclude, re.compile(regex, re.IGNORECASE)))
    return tuple(conditions)


def matches_group(name: str, group: str) -> bool:
    """MT5 group filter: comma-separated masks with ``*``, ``!`` excludes; applied left to right.

    ``"*USD*,!EUR*"`` = every name containing USD, then drop those starting with EUR.
    """
    selected = False
    for exclude, pattern in _compile_group(group):
        if pattern.match(name):
            selected = not exclude
    return selected


def filter_group(names: Iterable[str], group: str | None) -> list[str]:
    if group is None:
        return list(names)
    return [name for name in names if matches_group(name, group)]
