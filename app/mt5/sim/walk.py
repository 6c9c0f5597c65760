"""The seeded price skeleton: minute bars (OHLC, tick count, spread) for any day, computed on demand.

A symbol's log price follows a mean-reverting walk with one anchor per day (a slow Ornstein-Uhlenbeck
process from a fixed origin, so any day can be reached without depending on "now"); the minutes of a
day are a Brownian bridge between that day's anchor and the next one, with an intraday activity
profile. Every M1 bar, and so every higher timeframe, is a pure function of (seed, symbol, day): the
same seed gives the same year of history on every machine, and a restart changes nothing.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from app.mt5.sim.sessions import MINUTES_PER_DAY, open_minutes
from app.mt5.sim.symbols import SymbolSpec

ORIGIN_DAY = 10_957  # 2000-01-01: the walk starts here for every symbol
_ANCHOR_BLOCK = 4096
_KAPPA = 1 / 250  # mean reversion per day: the price wanders but stays plausible for years

# Volatility by UTC hour (Asia quiet, London/New York overlap busy); crypto is flatter.
_FX_ACTIVITY = np.array([0.6] * 7 + [1.2] * 5 + [1.5] * 4 + [1.0] * 5 + [0.5] * 3)
_CRYPTO_ACTIVITY = np.array([0.8] * 7 + [1.0] * 5 + [1.2] * 4 + [1.1] * 5 + [0.9] * 3)
_SPREAD_PROFILE = np.array([1.3] * 7 + [1.0] * 14 + [2.5] + [1.4] * 2)  # wide at the 21:00 rollover
CALM_TICKS_PER_S = (1.0, 5.0)


def symbol_key(name: str) -> int:
    """A stable number per symbol name, so adding a symbol never changes another's prices."""
    return zlib.crc32(name.encode())


def _rng(seed: int, *parts: int) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, *parts])


@dataclass(frozen=True, slots=True)
class DayBlock:
    """The 1440 minutes of one day: bars for every minute, and which minutes the market is open."""

    day: int
    open_mask: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    ticks: np.ndarray  # calm tick count per minute (>= 4: open, high, low and close each get one)
    spread: np.ndarray  # minimum spread in the minute, points


class Walk:
    """The skeleton of one symbol for one seed."""

    def __init__(self, spec: SymbolSpec, seed: int, legs: tuple[tuple[Walk, int], ...] = ()) -> None:
        self.spec = spec
        self.legs = legs  # a cross rate follows its legs (EURJPY = EURUSD x USDJPY): no arbitrage
        self.seed = seed
        self.key = symbol_key(spec.name)
        self._anchors = np.zeros(1)  # log deviation from the reference price at day starts
        activity = _CRYPTO_ACTIVITY if spec.sessions == "crypto" else _FX_ACTIVITY
        per_minute = np.repeat(activity, 60) ** 2
        self._variance = per_minute / per_minute.sum() * spec.daily_vol**2
        self._activity = np.repeat(activity, 60)
        self._spread_profile = np.repeat(_SPREAD_PROFILE, 60)
        self.day_block = lru_cache(maxsize=192)(self._day_block)

    def anchor(self, day: int) -> float:
        """Log deviation from the reference price at 00:00 of epoch day ``day``."""
        index = max(0, day - ORIGIN_DAY)
        while index >= len(self._anchors):
            self._extend_anchors()
        return float(self._anchors[index])

    def _extend_anchors(self) -> None:
        block = (len(self._anchors) - 1) // _ANCHOR_BLOCK
        shocks = _rng(self.seed, self.key, 1, block).standard_normal(_ANCHOR_BLOCK) * self.spec.daily_vol
        values = np.empty(_ANCHOR_BLOCK)
        x = self._anchors[-1]
        for i, shock in enumerate(shocks):
            x = x * (1 - _KAPPA) + shock
            values[i] = x
        self._anchors = np.concatenate([self._anchors, values])

    def minute_close(self, day: int, minute: int) -> float:
        """The close of one M1 bar without building the whole day (same draws as :meth:`day_block`)."""
        if self.legs:
            value = 1.0
            for leg, sign in self.legs:
                value *= leg.minute_close(day, minute) ** sign
            return round(value, self.spec.digits)
        start, end = self.anchor(day), self.anchor(day + 1)
        shocks = _rng(self.seed, self.key, 2, day).standard_normal(MINUTES_PER_DAY) * np.sqrt(self._variance)
        walk = np.cumsum(shocks)
        elapsed = np.cumsum(self._variance) / self._variance.sum()
        path = start + walk[minute] - elapsed[minute] * (walk[-1] - (end - start))
        return round(self.spec.price * float(np.exp(path)), self.spec.digits)

    def _crossed(self, day: int) -> tuple[np.ndarray, float]:
        """Closes of a cross rate for ``day`` and its previous close, from its legs."""
        close = np.ones(MINUTES_PER_DAY)
        first = 1.0
        for leg, sign in self.legs:
            block = leg.day_block(day)
            close *= block.close.astype(float) ** sign
            first *= float(block.open[0]) ** sign
        return np.round(close, self.spec.digits), round(first, self.spec.digits)

    def _day_block(self, day: int) -> DayBlock:
        spec = self.spec
        rng = _rng(self.seed, self.key, 2, day)
        if self.legs:
            rng.standard_normal(MINUTES_PER_DAY)  # keep the later draws where they are for every symbol
            close, first_open = self._crossed(day)
        else:
            start, end = self.anchor(day), self.anchor(day + 1)
            shocks = rng.standard_normal(MINUTES_PER_DAY) * np.sqrt(self._variance)
            walk = np.cumsum(shocks)
            elapsed = np.cumsum(self._variance) / self._variance.sum()
            path = start + walk - elapsed * (walk[-1] - (end - start))
            close = np.round(spec.price * np.exp(path), spec.digits)
            first_open = round(spec.price * np.exp(start), spec.digits)
        open_ = np.concatenate([[first_open], close[:-1]])
        minute_sd = np.sqrt(self._variance) * close
        high = np.round(
            np.maximum(open_, close) + np.abs(rng.standard_normal(1440)) * minute_sd * 0.6, spec.digits
        )
        low = np.round(
            np.minimum(open_, close) - np.abs(rng.standard_normal(1440)) * minute_sd * 0.6, spec.digits
        )
        rate = self._activity * rng.lognormal(0.0, 0.3, MINUTES_PER_DAY) * 2.5
        rate = np.clip(rate, *CALM_TICKS_PER_S)
        ticks = np.maximum(4, rng.poisson(rate * 60)).astype(np.int64)
        spread = spec.spread * self._spread_profile * rng.uniform(0.8, 1.2, MINUTES_PER_DAY)
        return DayBlock(
            day=day,
            open_mask=open_minutes(spec.sessions, day),
            open=open_,
            high=high,
            low=low,
            close=close,
            ticks=ticks,
            spread=np.maximum(1, np.round(spread)).astype(np.int64),
        )
