"""Market data: ticks (one, or a batch as arrays), bars, symbol specifications, market depth."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from math import floor, isclose

import numpy as np
import numpy.typing as npt

from app.models.enums import BookSide, FillPolicy, SymbolTradeMode, Timeframe

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def msc_to_datetime(time_msc: int) -> datetime:
    return datetime.fromtimestamp(time_msc / 1000, tz=UTC)


@dataclass(frozen=True, slots=True)
class Tick:
    """One price change. ``time_msc`` is the terminal's time in milliseconds since the epoch."""

    symbol: str
    time_msc: int
    bid: float
    ask: float
    last: float = 0.0
    volume: float = 0.0
    flags: int = 0

    @property
    def time(self) -> datetime:
        return msc_to_datetime(self.time_msc)


@dataclass(frozen=True, slots=True)
class Quote:
    """What Market Watch and the ``quotes`` channel show for a symbol: the latest tick, its spread in
    points, and the day's change against the daily bar's open (0 when not known yet)."""

    symbol: str
    bid: float
    ask: float
    time_msc: int
    spread_points: int
    digits: int
    day_open: float = 0.0
    last: float = 0.0
    day_high: float = 0.0  # the day's high and low of the bid (0 when not known yet)
    day_low: float = 0.0

    @property
    def change_pct(self) -> float:
        return (self.bid - self.day_open) / self.day_open * 100.0 if self.day_open else 0.0

    @property
    def time(self) -> datetime:
        return msc_to_datetime(self.time_msc)


def _frozen(array: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, slots=True)
class TickBatch:
    """Ticks of one symbol in time order, column-wise: cheap to move and to aggregate.

    Arrays are made read-only so a batch can be shared by many subscribers safely.
    """

    symbol: str
    time_msc: IntArray
    bid: FloatArray
    ask: FloatArray
    last: FloatArray
    volume: FloatArray
    flags: IntArray

    def __post_init__(self) -> None:
        for name in ("time_msc", "bid", "ask", "last", "volume", "flags"):
            _frozen(getattr(self, name))

    def __len__(self) -> int:
        return int(self.time_msc.shape[0])

    def tick(self, index: int) -> Tick:
        return Tick(
            self.symbol,
            int(self.time_msc[index]),
            float(self.bid[index]),
            float(self.ask[index]),
            float(self.last[index]),
            float(self.volume[index]),
            int(self.flags[index]),
        )

    def ticks(self) -> list[Tick]:
        return [self.tick(i) for i in range(len(self))]

    @property
    def latest(self) -> Tick:
        return self.tick(len(self) - 1)

    def slice(self, start: int, stop: int | None = None) -> TickBatch:
        cut = slice(start, stop)
        return TickBatch(
            self.symbol,
            self.time_msc[cut].copy(),
            self.bid[cut].copy(),
            self.ask[cut].copy(),
            self.last[cut].copy(),
            self.volume[cut].copy(),
            self.flags[cut].copy(),
        )

    @classmethod
    def empty(cls, symbol: str) -> TickBatch:
        f = np.empty(0, dtype=np.float64)
        i = np.empty(0, dtype=np.int64)
        return cls(symbol, i, f, f.copy(), f.copy(), f.copy(), i.copy())


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLC bar; ``time`` is its open time in seconds since the epoch (terminal time)."""

    time: int
    open: float
    high: float
    low: float
    close: float
    tick_volume: int = 0
    spread: int = 0
    real_volume: int = 0

    def same_prices(self, other: Bar, digits: int = 8) -> bool:
        tolerance = 10.0**-digits
        return self.time == other.time and all(
            isclose(a, b, abs_tol=tolerance)
            for a, b in (
                (self.open, other.open),
                (self.high, other.high),
                (self.low, other.low),
                (self.close, other.close),
            )
        )


@dataclass(frozen=True, slots=True)
class BarUpdate:
    """The live bar of (symbol, timeframe) after some ticks, and the bars that closed before it."""

    symbol: str
    timeframe: Timeframe
    bar: Bar
    closed: tuple[Bar, ...] = ()


@dataclass(frozen=True, slots=True)
class BarSeries:
    """Bars of one symbol and timeframe, oldest first, as read-only arrays (charts plot these)."""

    symbol: str
    timeframe: Timeframe
    time: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    tick_volume: IntArray
    spread: IntArray
    real_volume: IntArray

    def __post_init__(self) -> None:
        for name in ("time", "open", "high", "low", "close", "tick_volume", "spread", "real_volume"):
            _frozen(getattr(self, name))

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def bar(self, index: int) -> Bar:
        return Bar(
            int(self.time[index]),
            float(self.open[index]),
            float(self.high[index]),
            float(self.low[index]),
            float(self.close[index]),
            int(self.tick_volume[index]),
            int(self.spread[index]),
            int(self.real_volume[index]),
        )

    def bars(self) -> list[Bar]:
        return [self.bar(i) for i in range(len(self))]

    @classmethod
    def from_bars(cls, symbol: str, timeframe: Timeframe, bars: list[Bar]) -> BarSeries:
        def column(name: str, dtype: type) -> npt.NDArray[np.generic]:
            return np.array([getattr(b, name) for b in bars], dtype=dtype)

        return cls(
            symbol,
            timeframe,
            column("time", np.int64),  # type: ignore[arg-type]
            column("open", np.float64),  # type: ignore[arg-type]
            column("high", np.float64),  # type: ignore[arg-type]
            column("low", np.float64),  # type: ignore[arg-type]
            column("close", np.float64),  # type: ignore[arg-type]
            column("tick_volume", np.int64),  # type: ignore[arg-type]
            column("spread", np.int64),  # type: ignore[arg-type]
            column("real_volume", np.int64),  # type: ignore[arg-type]
        )


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """What the app needs to know to quote, validate and value orders in a symbol."""

    name: str
    description: str
    digits: int
    point: float
    contract_size: float
    volume_min: float
    volume_max: float
    volume_step: float
    stops_level: int
    freeze_level: int
    tick_size: float
    tick_value: float
    currency_base: str
    currency_profit: str
    currency_margin: str
    trade_mode: SymbolTradeMode
    filling_modes: frozenset[FillPolicy]
    spread: int = 0
    spread_float: bool = True
    path: str = ""
    visible: bool = True
    swap_long: float = 0.0
    swap_short: float = 0.0
    # symbol_info's margin figures, in the margin currency per lot: initial 0 means the terminal works
    # the margin out from the contract size (and the leverage); hedged is what a fully hedged lot holds.
    margin_initial: float = 0.0
    margin_maintenance: float = 0.0
    margin_hedged: float = 0.0

    def round_price(self, price: float) -> float:
        """Round to the symbol's digits and tick size (prices off the tick grid are refused by MT5)."""
        if self.tick_size > 0:
            price = round(price / self.tick_size) * self.tick_size
        return round(price, self.digits)

    def floor_volume(self, volume: float) -> float:
        """The largest volume on the step grid not above ``volume`` (never rounds a volume up)."""
        steps = floor(volume / self.volume_step + 1e-9)
        decimals = max(0, -int(floor(np.log10(self.volume_step)))) if self.volume_step < 1 else 0
        return round(steps * self.volume_step, decimals + 2)

    def on_volume_step(self, volume: float) -> bool:
        ratio = volume / self.volume_step
        return abs(ratio - round(ratio)) < 1e-7

    def points(self, price_distance: float) -> float:
        return price_distance / self.point


# A week of trading sessions: seven days, Monday first, each the (start, end) minutes from midnight
# server time during which the symbol trades (an empty day: closed all day).
WeekSessions = tuple[tuple[tuple[int, int], ...], ...]


@dataclass(frozen=True, slots=True)
class SymbolDetails:
    """A symbol's Specification window: its spec, with what the terminal works out for it now.

    ``margin_buy``/``margin_sell``: what one lot bought at the ask / sold at the bid would hold, in the
    account's ``currency`` (None when the terminal gave no figure: no quote, not logged in).
    ``sessions``: the weekly schedule when the terminal gives one (the simulator does; MetaTrader5's
    Python API has no call for it), else None.
    """

    spec: SymbolSpec
    margin_buy: float | None = None
    margin_sell: float | None = None
    currency: str = ""
    sessions: WeekSessions | None = None


@dataclass(frozen=True, slots=True)
class BookLevel:
    side: BookSide
    price: float
    volume: float


@dataclass(frozen=True, slots=True)
class Book:
    """Market depth of one symbol at one moment."""

    symbol: str
    time_msc: int
    levels: tuple[BookLevel, ...] = field(default_factory=tuple)
